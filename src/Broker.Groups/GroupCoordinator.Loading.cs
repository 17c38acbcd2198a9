using System.Diagnostics;
using Broker.Consensus;
using Broker.Core.Model;
using Broker.Core.Records;
using Broker.Groups.Internal;

namespace Broker.Groups;

// Coordinator ownership: a __consumer_offsets partition this node leads is loaded (its records replayed into groups,
// on the thread pool) for each leader epoch; one it no longer leads is unloaded (its groups dropped, waiting calls
// answered NOT_COORDINATOR).
public sealed partial class GroupCoordinator
{
    private const int LoadReadBytes = 1 << 20;
    private const int LoadRetryDelayMs = 1000;

    private void UpdateOwnership(long now)
    {
        int count = _offsets.PartitionCount;
        for (int i = 0; i < count; i++)
        {
            var replica = _offsets.Replica(i);
            _partitions.TryGetValue(i, out var current);
            if (replica is null || !replica.IsLeader)
            {
                if (current is not null) Unload(current, "leadership moved");
                continue;
            }
            if (current is not null)
            {
                bool sameEpoch = ReferenceEquals(current.Replica, replica) && current.Epoch == replica.LeaderEpoch;
                bool retry = current.RetryAtMs >= 0 && now >= current.RetryAtMs;
                if (sameEpoch && !retry) continue;
                Unload(current, sameEpoch ? "retrying the load" : $"new leader epoch {replica.LeaderEpoch}");
            }
            StartLoad(i, replica);
        }
        foreach (var p in _partitions.Values)
        {
            if (p.Index >= count) Unload(p, "partition no longer exists");
        }
    }

    private void StartLoad(int index, IReplicatedLog replica)
    {
        var partition = new OffsetsPartition(index, replica, replica.LeaderEpoch);
        // Everything in the log when leadership began must be committed before it is replayed (a new Raft leader
        // commits its predecessors' entries shortly after the election).
        long target = replica.Log.LogEndOffset;
        _partitions[index] = partition;
        Logger.Info($"loading groups of {partition} (log end {target})");
        _ = Task.Run(() => LoadAsync(partition, target));
    }

    private async Task LoadAsync(OffsetsPartition partition, long target)
    {
        var watch = Stopwatch.StartNew();
        try
        {
            while (partition.Replica.HighWatermark < target)
            {
                if (!IsOwned(partition)) return;
                var error = await partition.Replica.WaitForCommitAsync(target - 1, TimeSpan.FromMilliseconds(Options.OffsetCommitTimeoutMs),
                    partition.Cancel.Token).ConfigureAwait(false);
                if (error == ErrorCode.None) break;
                if (error == ErrorCode.NotLeaderOrFollower) return; // the maintenance loop unloads it
                Logger.Warn($"{partition}: high watermark {partition.Replica.HighWatermark} still below {target} ({error}), waiting");
            }
            var groups = ReadGroups(partition, partition.Replica.HighWatermark, out int offsetCount);
            lock (partition.Gate)
            {
                if (!partition.Active) return;
                foreach (var (id, group) in groups) partition.Groups[id] = group;
                partition.Loaded = true;
            }
            Logger.Info($"loaded {groups.Count} groups and {offsetCount} offsets of {partition} in {watch.ElapsedMilliseconds} ms");
        }
        catch (OperationCanceledException) when (partition.Cancel.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            Logger.Error($"loading {partition} failed, retrying in {LoadRetryDelayMs} ms", ex);
            partition.RetryAtMs = MonotonicNow + LoadRetryDelayMs;
        }
    }

    /// <summary>Replays [LogStartOffset, <paramref name="highWatermark"/>): the last record of each key wins, null values delete.</summary>
    private Dictionary<string, Group> ReadGroups(OffsetsPartition partition, long highWatermark, out int offsetCount)
    {
        var state = new LoadState();
        var log = partition.Replica.Log;
        long offset = log.LogStartOffset;
        while (offset < highWatermark)
        {
            partition.Cancel.Token.ThrowIfCancellationRequested();
            using var read = log.Read(offset, LoadReadBytes, highWatermark, minOneBatch: true);
            if (read.OutOfRange)
            {
                if (offset < log.LogStartOffset) { offset = log.LogStartOffset; continue; } // retention moved the start
                break;
            }
            long next = ReplayBatches(read.Records.Span, offset, highWatermark, state);
            if (next <= offset) break;
            offset = next;
        }
        if (state.Malformed > 0) Logger.Warn($"{partition}: skipped {state.Malformed} malformed records while loading");
        return state.BuildGroups(partition, MonotonicNow, out offsetCount);
    }

    /// <summary>Replays whole batches; returns the offset after the last one consumed.</summary>
    private static long ReplayBatches(ReadOnlySpan<byte> data, long offset, long highWatermark, LoadState state)
    {
        long next = offset;
        while (RecordBatchHeader.TryRead(data, out var header) && header.TotalSize >= RecordBatchHeader.Size && header.TotalSize <= data.Length)
        {
            if (header.LastOffset >= highWatermark) break;
            var batch = data[..header.TotalSize];
            data = data[header.TotalSize..];
            next = header.LastOffset + 1;
            if (header.IsControl || header.LastOffset < offset) continue;
            if (header.Compression != CompressionCodec.None)
            {
                state.Malformed += header.RecordsCount; // this coordinator never writes compressed batches
                continue;
            }
            try
            {
                ReplayRecords(batch, state);
            }
            catch (FormatException)
            {
                state.Malformed++;
            }
        }
        return next;
    }

    private static void ReplayRecords(ReadOnlySpan<byte> batch, LoadState state)
    {
        var reader = new RecordReader(batch);
        string? error;
        while (reader.TryRead(out var record, out error))
        {
            if (record.KeyIsNull) { state.Malformed++; continue; }
            try
            {
                state.Apply(record.Key, record.Value, record.ValueIsNull, record.Offset);
            }
            catch (FormatException)
            {
                state.Malformed++;
            }
        }
        if (error is not null) state.Malformed++;
    }

    private void Unload(OffsetsPartition partition, string reason)
    {
        _partitions.TryRemove(new KeyValuePair<int, OffsetsPartition>(partition.Index, partition));
        List<Group> groups;
        lock (partition.Gate)
        {
            partition.Active = false;
            groups = [.. partition.Groups.Values];
            partition.Groups.Clear();
        }
        partition.Cancel.Cancel();
        long now = WallNow;
        foreach (var group in groups)
        {
            lock (group.Gate)
            {
                group.TransitionTo(GroupState.Dead, now);
                foreach (var m in group.Members)
                {
                    m.TryCompleteJoin(Member.JoinError(ErrorCode.NotCoordinator, m.MemberId));
                    m.TryCompleteSync(Member.SyncError(ErrorCode.NotCoordinator));
                }
            }
        }
        Logger.Info($"unloaded {groups.Count} groups of {partition}: {reason}");
    }
}

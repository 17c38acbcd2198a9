using Broker.Core.Model;
using Broker.Core.Records;
using Broker.Groups.Internal;

namespace Broker.Groups;

// Writing to __consumer_offsets: one uncompressed batch per operation, appended as leader of the partition's epoch
// (synchronously, under the group's lock, so a group's records keep request order), then awaited until committed.
public sealed partial class GroupCoordinator
{
    [ThreadStatic] private static RecordBatchBuilder? t_builder;

    /// <summary>The calling thread's batch builder, reset for a new batch (valid until the next call on this thread).</summary>
    private static RecordBatchBuilder StartBatch(long timestampMs)
    {
        var builder = t_builder ??= new RecordBatchBuilder(4096);
        builder.Reset(timestampMs);
        return builder;
    }

    /// <summary>Appends the built batch; the error is the replica's (NOT_LEADER_OR_FOLLOWER when the epoch moved on).</summary>
    private ErrorCode AppendBatch(OffsetsPartition partition, RecordBatchBuilder builder, out long firstOffset, out long lastOffset)
    {
        firstOffset = lastOffset = -1;
        if (!IsOwned(partition)) return ErrorCode.NotLeaderOrFollower;
        try
        {
            var result = partition.Replica.Append(builder.Build().Span);
            if (result.Error != ErrorCode.None) return result.Error;
            firstOffset = result.FirstOffset;
            lastOffset = result.LastOffset;
            return ErrorCode.None;
        }
        catch (IOException ex)
        {
            Logger.Error($"append to {partition} failed", ex);
            return ErrorCode.KafkaStorageError;
        }
        catch (Exception ex) when (ex is InvalidOperationException or ArgumentException or ObjectDisposedException)
        {
            Logger.Error($"append to {partition} failed", ex);
            return ErrorCode.UnknownServerError;
        }
    }

    /// <summary>Waits until the record at <paramref name="lastOffset"/> is committed (offsets.commit.timeout.ms bound).</summary>
    private async Task<ErrorCode> WaitCommittedAsync(OffsetsPartition partition, long lastOffset)
    {
        try
        {
            return await partition.Replica.WaitForCommitAsync(lastOffset, TimeSpan.FromMilliseconds(Options.OffsetCommitTimeoutMs),
                partition.Cancel.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return ErrorCode.NotLeaderOrFollower; // the partition was unloaded while waiting
        }
        catch (Exception ex) when (ex is InvalidOperationException or ObjectDisposedException or IOException)
        {
            Logger.Error($"waiting for commit on {partition} failed", ex);
            return ErrorCode.UnknownServerError;
        }
    }

    /// <summary>
    /// Writes the group's metadata (generation, leader, members; <paramref name="assignments"/> replaces their
    /// assignments when given). Called under the group's lock; the returned task (the group-write error, mapped) is
    /// awaited outside it.
    /// </summary>
    private Task<ErrorCode> StoreGroupLocked(Group group, Dictionary<string, byte[]>? assignments)
    {
        long now = WallNow;
        var builder = StartBatch(now);
        try
        {
            OffsetsRecords.AddGroup(builder, now, group, assignments);
        }
        catch (ArgumentException ex)
        {
            Logger.Error($"cannot encode {group}", ex);
            return Task.FromResult(ErrorCode.UnknownServerError);
        }
        var error = AppendBatch(group.Partition, builder, out _, out long last);
        if (error != ErrorCode.None) return Task.FromResult(GroupWriteError(error));
        return WaitGroupWriteAsync(group.Partition, last);
    }

    private async Task<ErrorCode> WaitGroupWriteAsync(OffsetsPartition partition, long lastOffset) =>
        GroupWriteError(await WaitCommittedAsync(partition, lastOffset).ConfigureAwait(false));

    /// <summary>Writes that nobody waits for (an emptied group, expired offsets): failures are only logged.</summary>
    private static async Task LogFailureAsync(Task<ErrorCode> write, string what)
    {
        var error = await write.ConfigureAwait(false);
        if (error != ErrorCode.None) Logger.Warn($"writing {what} to __consumer_offsets failed: {error}");
    }

    /// <summary>Appends tombstones (and optionally a group tombstone) and returns the commit wait (raw replica errors).</summary>
    private Task<ErrorCode> WriteTombstonesLocked(Group group, List<TopicPartition> partitions, bool groupTombstone, out long firstOffset)
    {
        firstOffset = -1;
        if (partitions.Count == 0 && !groupTombstone) return Task.FromResult(ErrorCode.None);
        long now = WallNow;
        var builder = StartBatch(now);
        foreach (var tp in partitions) OffsetsRecords.AddOffsetTombstone(builder, now, group.GroupId, tp);
        if (groupTombstone) OffsetsRecords.AddGroupTombstone(builder, now, group.GroupId);
        var error = AppendBatch(group.Partition, builder, out firstOffset, out long last);
        return error != ErrorCode.None ? Task.FromResult(error) : WaitCommittedAsync(group.Partition, last);
    }

    /// <summary>Kafka's mapping of append errors for offset commits.</summary>
    private static ErrorCode CommitError(ErrorCode error) => error switch
    {
        ErrorCode.NotLeaderOrFollower or ErrorCode.KafkaStorageError => ErrorCode.NotCoordinator,
        ErrorCode.NotEnoughReplicas or ErrorCode.NotEnoughReplicasAfterAppend or ErrorCode.UnknownTopicOrPartition
            => ErrorCode.CoordinatorNotAvailable,
        ErrorCode.MessageTooLarge or ErrorCode.RecordListTooLarge or ErrorCode.InvalidFetchSize => ErrorCode.InvalidCommitOffsetSize,
        _ => error,
    };

    /// <summary>The mapping for group metadata writes (a timed-out write leaves the coordinator unavailable).</summary>
    private static ErrorCode GroupWriteError(ErrorCode error) => error switch
    {
        ErrorCode.NotLeaderOrFollower or ErrorCode.KafkaStorageError => ErrorCode.NotCoordinator,
        ErrorCode.NotEnoughReplicas or ErrorCode.NotEnoughReplicasAfterAppend or ErrorCode.UnknownTopicOrPartition
            or ErrorCode.RequestTimedOut => ErrorCode.CoordinatorNotAvailable,
        ErrorCode.MessageTooLarge or ErrorCode.RecordListTooLarge or ErrorCode.InvalidFetchSize => ErrorCode.UnknownServerError,
        _ => error,
    };
}

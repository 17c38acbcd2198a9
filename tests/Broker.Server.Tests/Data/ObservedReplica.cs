using Broker.Consensus;
using Broker.Core.Model;
using Broker.Storage;

namespace Broker.Server.Tests.Data;

/// <summary>Counts read leases handed out by <see cref="LeaseCountingLog"/> and not yet released.</summary>
internal sealed class LeaseCounter
{
    private int _outstanding;
    private int _doubleReleases;
    public int Outstanding => Volatile.Read(ref _outstanding);
    public int DoubleReleases => Volatile.Read(ref _doubleReleases);

    public IDisposable Track(IDisposable inner)
    {
        Interlocked.Increment(ref _outstanding);
        return new Lease(this, inner);
    }

    private sealed class Lease(LeaseCounter counter, IDisposable inner) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) != 0)
            {
                Interlocked.Increment(ref counter._doubleReleases);
                return;
            }
            Interlocked.Decrement(ref counter._outstanding);
            inner.Dispose();
        }
    }
}

/// <summary>A partition log whose read leases are counted (leak and double-release detector).</summary>
internal sealed class LeaseCountingLog(IPartitionLog inner, LeaseCounter counter) : IPartitionLog
{
    public IPartitionLog Inner => inner;
    public TopicPartition Partition => inner.Partition;
    public long LogStartOffset => inner.LogStartOffset;
    public long LogEndOffset => inner.LogEndOffset;
    public long SizeInBytes => inner.SizeInBytes;
    public LogOptions Options => inner.Options;

    public AppendInfo Append(ReadOnlySpan<byte> batches, int leaderEpoch, long? logAppendTimeMs = null) =>
        inner.Append(batches, leaderEpoch, logAppendTimeMs);

    public LogReadResult Read(long offset, int maxBytes, long maxOffsetExclusive, bool minOneBatch)
    {
        var result = inner.Read(offset, maxBytes, maxOffsetExclusive, minOneBatch);
        return result.Lease is null ? result : new LogReadResult(result.Records, counter.Track(result.Lease), result.OutOfRange);
    }

    public (long Offset, long Timestamp)? FindOffsetByTimestamp(long timestampMs) => inner.FindOffsetByTimestamp(timestampMs);
    public (long Offset, long Timestamp)? FindMaxTimestamp() => inner.FindMaxTimestamp();
    public Broker.Storage.Producers.ProducerAppendCheck CheckProducerState(ReadOnlySpan<byte> batches) => inner.CheckProducerState(batches);
    public void TruncateTo(long offset) => inner.TruncateTo(offset);
    public void Flush() => inner.Flush();
    public int ApplyRetention(long nowMs) => inner.ApplyRetention(nowMs);
    public void UpdateOptions(LogOptions options) => inner.UpdateOptions(options);
    public void Dispose() => inner.Dispose();
}

/// <summary>A replicated log that counts HighWatermarkAdvanced subscribers (long-poll leak detector).</summary>
internal sealed class ObservedReplica(IReplicatedLog inner) : IReplicatedLog
{
    private int _subscribers;

    public int Subscribers => Volatile.Read(ref _subscribers);
    public TopicPartition Partition => inner.Partition;
    public IPartitionLog Log => inner.Log;
    public bool IsLeader => inner.IsLeader;
    public int LeaderEpoch => inner.LeaderEpoch;
    public long HighWatermark => inner.HighWatermark;

    public event Action<IReplicatedLog>? HighWatermarkAdvanced
    {
        add
        {
            Interlocked.Increment(ref _subscribers);
            inner.HighWatermarkAdvanced += value;
        }
        remove
        {
            Interlocked.Decrement(ref _subscribers);
            inner.HighWatermarkAdvanced -= value;
        }
    }

    public ReplicatedAppendResult Append(ReadOnlySpan<byte> batches, long? logAppendTimeMs = null) => inner.Append(batches, logAppendTimeMs);

    public ValueTask<ErrorCode> WaitForCommitAsync(long offset, TimeSpan timeout, CancellationToken cancellationToken = default) =>
        inner.WaitForCommitAsync(offset, timeout, cancellationToken);

    public void Dispose() => inner.Dispose();
}

using Broker.Core.Model;
using Broker.Storage;
using Broker.Storage.Producers;

namespace Broker.Consensus;

/// <summary>
/// A log replicated by a quorum: the seam between the Kafka/metadata layers and consensus. Both the cluster
/// metadata log (__cluster_metadata-0) and every data partition are written through it, so there is one code path.
/// Today the implementation is <see cref="LocalReplicatedLog"/>, a one-voter quorum whose appends commit at once;
/// the cluster issue puts Raft behind the same interface.
/// "Committed" is the high watermark: offsets below <see cref="HighWatermark"/> are durable on the quorum and the
/// only ones consumers may see.
/// </summary>
public interface IReplicatedLog : IDisposable
{
    TopicPartition Partition { get; }
    /// <summary>The underlying local log (reads, timestamps, retention).</summary>
    IPartitionLog Log { get; }
    /// <summary>True when this replica may accept appends (it is the leader of the current epoch).</summary>
    bool IsLeader { get; }
    /// <summary>Current leader epoch (Raft term); stamped into every appended batch.</summary>
    int LeaderEpoch { get; }
    /// <summary>Exclusive upper bound of committed offsets. Never goes backwards.</summary>
    long HighWatermark { get; }

    /// <summary>
    /// Appends validated batches as leader, synchronously (so callers get request ordering), and returns the
    /// offsets assigned. Returns <see cref="ErrorCode.NotLeaderOrFollower"/> when not leader. Idempotent batches are
    /// first checked against the log's producer state under the same lock as the append
    /// (<see cref="IPartitionLog.CheckProducerState"/>): a duplicate appends nothing and returns the original offsets,
    /// a stale epoch or a sequence gap returns INVALID_PRODUCER_EPOCH / OUT_OF_ORDER_SEQUENCE_NUMBER. Commit is awaited
    /// separately with <see cref="WaitForCommitAsync"/>.
    /// </summary>
    ReplicatedAppendResult Append(ReadOnlySpan<byte> batches, long? logAppendTimeMs = null);

    /// <summary>
    /// Completes when <see cref="HighWatermark"/> is above <paramref name="offset"/> (returns None), or with an
    /// error when leadership was lost (NotLeaderOrFollower) or the wait timed out (RequestTimedOut).
    /// </summary>
    ValueTask<ErrorCode> WaitForCommitAsync(long offset, TimeSpan timeout, CancellationToken cancellationToken = default);

    /// <summary>
    /// Raised (on the appending or replicating thread) after <see cref="HighWatermark"/> advances; long-poll fetches
    /// and metadata appliers subscribe to it. Handlers must be quick and must not throw.
    /// </summary>
    event Action<IReplicatedLog>? HighWatermarkAdvanced;

    /// <summary>
    /// Applies the log's retention (retention.ms / retention.bytes) and returns how many segments were deleted. Call
    /// this rather than <c>Log.ApplyRetention</c>: a replicated log removes committed data only and tells its
    /// replication where the log now starts. The default suits logs without replication state.
    /// </summary>
    int ApplyRetention(long nowMs) => Log.ApplyRetention(nowMs);
}

/// <summary>
/// Outcome of <see cref="IReplicatedLog.Append"/>: the offsets assigned, or (<see cref="IsDuplicate"/>) those of the
/// identical idempotent batch already in the log (nothing was appended; its commit is awaited the same way), or an
/// error with an optional reason (<see cref="ErrorMessage"/>, for the Produce response).
/// </summary>
public readonly record struct ReplicatedAppendResult(ErrorCode Error, long FirstOffset, long LastOffset, long LogAppendTimeMs,
    bool IsDuplicate = false, string? ErrorMessage = null)
{
    /// <summary>
    /// The answer for a producer-state check that did not accept the batches: a refusal (error and reason), or a
    /// duplicate with the original batch's offsets and, when LogAppendTime applies, its stored timestamp.
    /// </summary>
    public static ReplicatedAppendResult FromProducerCheck(in ProducerAppendCheck check, long? logAppendTimeMs) =>
        check.IsDuplicate
            ? new(ErrorCode.None, check.Original.FirstOffset, check.Original.LastOffset,
                logAppendTimeMs is null ? -1 : check.Original.MaxTimestamp, IsDuplicate: true)
            : new(check.Error, -1, -1, -1, ErrorMessage: check.Message);
}

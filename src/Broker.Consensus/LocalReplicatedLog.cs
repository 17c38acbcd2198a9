using Broker.Core.Model;
using Broker.Storage;

namespace Broker.Consensus;

/// <summary>
/// A replica without an election of its own: leadership and epoch are given (by the metadata image, in tests and
/// embedded use). As leader of epoch <see cref="LeaderEpoch"/> an append is committed as soon as it is in the local
/// log; otherwise appends are refused with NOT_LEADER_OR_FOLLOWER. Idempotent batches are checked against the log's
/// producer state under the append lock. Durability comes from the log's flush policy; with write.caching=false an
/// append is fsynced before the high watermark covers it.
/// </summary>
public sealed class LocalReplicatedLog : IReplicatedLog
{
    private readonly object _appendLock = new();
    private long _highWatermark;

    public LocalReplicatedLog(IPartitionLog log, int leaderEpoch, bool isLeader = true)
    {
        Log = log;
        LeaderEpoch = leaderEpoch;
        IsLeader = isLeader;
        _highWatermark = log.LogEndOffset; // everything recovered from disk was committed by the only voter
    }

    public TopicPartition Partition => Log.Partition;
    public IPartitionLog Log { get; }
    public bool IsLeader { get; }
    public int LeaderEpoch { get; }
    public long HighWatermark => Volatile.Read(ref _highWatermark);
    public event Action<IReplicatedLog>? HighWatermarkAdvanced;

    public ReplicatedAppendResult Append(ReadOnlySpan<byte> batches, long? logAppendTimeMs = null)
    {
        if (!IsLeader) return new ReplicatedAppendResult(ErrorCode.NotLeaderOrFollower, -1, -1, -1);
        AppendInfo info;
        lock (_appendLock)
        {
            var check = Log.CheckProducerState(batches);
            if (!check.IsAccepted) return ReplicatedAppendResult.FromProducerCheck(check, logAppendTimeMs);
            info = Log.Append(batches, LeaderEpoch, logAppendTimeMs);
            if (!Log.Options.WriteCaching) Log.Flush(); // write.caching=false: durable before it counts as committed
            Volatile.Write(ref _highWatermark, Log.LogEndOffset);
        }
        HighWatermarkAdvanced?.Invoke(this);
        return new ReplicatedAppendResult(ErrorCode.None, info.FirstOffset, info.LastOffset, info.LogAppendTimeMs);
    }

    public ValueTask<ErrorCode> WaitForCommitAsync(long offset, TimeSpan timeout, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(offset < HighWatermark ? ErrorCode.None : ErrorCode.RequestTimedOut);

    /// <summary>Everything in the log is committed (one voter), so retention applies as is.</summary>
    public int ApplyRetention(long nowMs) => Log.ApplyRetention(nowMs);

    public void Dispose() => Log.Dispose();
}

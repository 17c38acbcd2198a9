using Broker.Consensus;
using Broker.Consensus.Raft;
using Broker.Core.Model;
using Broker.Server.Partitions;

namespace Broker.Server.LogAdmin;

/// <summary>
/// DeleteRecords and leader-epoch lookups on one local replica, whatever its kind: a Raft group does both itself
/// (<see cref="RaftReplicatedLog.DeleteRecordsAsync"/> replicates the new log start offset and waits for the in-sync
/// replicas; <see cref="RaftReplicatedLog.EndOffsetForEpoch"/> reads its epoch cache); a replica without replication
/// (<see cref="LocalReplicatedLog"/>, one voter by construction) moves its log's start offset directly and answers
/// epochs from a scan of its batch headers.
/// </summary>
public static class ReplicaLogAdmin
{
    /// <summary>Kafka's DeleteRecords on the leader: see <see cref="RaftReplicatedLog.DeleteRecordsAsync"/>.</summary>
    public static ValueTask<DeleteRecordsResult> DeleteRecordsAsync(PartitionState state, long offset, TimeSpan timeout,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (state.Replica is RaftReplicatedLog raft) return raft.DeleteRecordsAsync(offset, timeout, cancellationToken);
        return ValueTask.FromResult(DeleteLocally(state.Replica, offset));
    }

    private static DeleteRecordsResult DeleteLocally(IReplicatedLog replica, long offset)
    {
        if (!replica.IsLeader) return DeleteRecordsResult.NotLeader;
        long highWatermark = replica.HighWatermark;
        long target = offset == -1 ? highWatermark : offset;
        if (target < 0 || target > highWatermark)
            return new DeleteRecordsResult(ErrorCode.OffsetOutOfRange, replica.Log.LogStartOffset,
                $"offset {offset} is outside [0, {highWatermark}] (the high watermark; -1 means the high watermark)");
        try
        {
            replica.Log.AdvanceLogStartOffset(target);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            return new DeleteRecordsResult(ErrorCode.KafkaStorageError, replica.Log.LogStartOffset, ex.Message);
        }
        return new DeleteRecordsResult(ErrorCode.None, replica.Log.LogStartOffset);
    }

    /// <summary>
    /// Kafka's OffsetsForLeaderEpoch on the leader: (error, epoch, end offset); see
    /// <see cref="PartitionRaftLog.EndOffsetForEpoch"/> for the rules. NOT_LEADER_OR_FOLLOWER on a follower.
    /// </summary>
    public static (ErrorCode Error, int Epoch, long EndOffset) EndOffsetForEpoch(PartitionState state, int requestedEpoch)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (state.Replica is RaftReplicatedLog raft) return raft.EndOffsetForEpoch(requestedEpoch);
        if (!state.Replica.IsLeader) return (ErrorCode.NotLeaderOrFollower, -1, -1);
        // No epoch cache here: a throwaway Raft view of the log scans the batch headers (reads only).
        var view = new PartitionRaftLog(state.Log);
        var (epoch, endOffset) = view.EndOffsetForEpoch(requestedEpoch, state.Log.LogStartOffset, state.LeaderEpoch);
        return (ErrorCode.None, epoch, endOffset);
    }

    /// <summary>
    /// Whether the topic's cleanup.policy (else the broker's log.cleanup.policy) includes "delete": Kafka refuses
    /// DeleteRecords on compact-only topics with POLICY_VIOLATION.
    /// </summary>
    public static bool AllowsDeleteRecords(IReadOnlyDictionary<string, string> topicConfigs, IReadOnlyList<string> brokerPolicy)
    {
        IReadOnlyList<string> policy = topicConfigs.TryGetValue("cleanup.policy", out var listed)
            ? listed.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            : brokerPolicy;
        if (policy.Count == 0) return true;
        foreach (var p in policy)
            if (p.Equals("delete", StringComparison.OrdinalIgnoreCase)) return true;
        return false;
    }
}

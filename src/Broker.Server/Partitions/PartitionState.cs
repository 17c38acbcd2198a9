using Broker.Consensus;
using Broker.Consensus.Raft;
using Broker.Core.Model;
using Broker.Metadata.Image;
using Broker.Storage;

namespace Broker.Server.Partitions;

/// <summary>
/// One local replica as the Kafka handlers see it: the replicated log plus the metadata it was built from
/// (leader, epoch, ISR) and the resolved topic options. Immutable: a metadata change publishes a new instance
/// (sharing the same replicated log), so a handler holding one sees a consistent view.
/// </summary>
public sealed class PartitionState
{
    internal PartitionState(TopicPartition id, TopicImage topic, PartitionImage image, IReplicatedLog replica,
        LogOptions logOptions, TopicSettings settings, int localNodeId)
    {
        Id = id;
        Topic = topic;
        Image = image;
        Replica = replica;
        LogOptions = logOptions;
        Settings = settings;
        LocalNodeId = localNodeId;
    }

    public TopicPartition Id { get; }
    public TopicImage Topic { get; }
    public PartitionImage Image { get; }
    public IReplicatedLog Replica { get; }
    /// <summary>The local log (reads, offsets, timestamps).</summary>
    public IPartitionLog Log => Replica.Log;
    public LogOptions LogOptions { get; }
    public TopicSettings Settings { get; }
    public int LocalNodeId { get; }

    /// <summary>The replica's current leader epoch (its Raft term): what it stamps into appended batches. The image's
    /// epoch follows once the leader reported it to the controller.</summary>
    public int LeaderEpoch => Replica.LeaderEpoch;
    /// <summary>max.message.bytes of the topic (largest batch accepted).</summary>
    public int MaxMessageBytes => LogOptions.MaxMessageBytes;
    /// <summary>message.timestamp.type=LogAppendTime.</summary>
    public bool LogAppendTime => Settings.LogAppendTime;
    public int MinInsyncReplicas => Settings.MinInsyncReplicas;

    /// <summary>
    /// How many replicas (leader included) are in sync as the leader sees them now: live and caught up recently.
    /// For a Raft group this is the leader's own view of its followers, so it reacts within an election timeout to a
    /// dead follower, without waiting for the metadata. A one-voter replica counts itself.
    /// </summary>
    public int InSyncReplicaCount => Replica is RaftReplicatedLog raft ? raft.InSyncCount : Math.Max(1, Image.Isr.Length);

    /// <summary>True when this replica leads the partition. The replica is the truth: a Raft group's own election
    /// (the image learns about a new leader a moment later, from the leader's report to the controller), or, for a
    /// replica without an election (<see cref="LocalReplicatedLog"/>), the leadership the image gave it.</summary>
    public bool IsLeader => Replica.IsLeader;

    /// <summary>
    /// Kafka's CurrentLeaderEpoch check (Fetch v9+, ListOffsets v4+, ...): -1 means "unknown" and always passes;
    /// an older epoch is FENCED_LEADER_EPOCH (the client's metadata is stale); a newer one is UNKNOWN_LEADER_EPOCH
    /// (ours is stale).
    /// </summary>
    public ErrorCode CheckLeaderEpoch(int currentLeaderEpoch)
    {
        if (currentLeaderEpoch < 0) return ErrorCode.None;
        int ours = LeaderEpoch;
        if (currentLeaderEpoch < ours) return ErrorCode.FencedLeaderEpoch;
        if (currentLeaderEpoch > ours) return ErrorCode.UnknownLeaderEpoch;
        return ErrorCode.None;
    }

    public override string ToString() => $"{Id} (leader {Image.Leader}, epoch {Image.LeaderEpoch})";
}

using Broker.Config;
using Broker.Groups;

namespace Broker.Server.Groups;

/// <summary>How __consumer_offsets is created when FindCoordinator finds it missing (offsets.topic.* settings).</summary>
public sealed record OffsetsTopicSettings
{
    /// <summary>offsets.topic.num.partitions.</summary>
    public int Partitions { get; init; } = 50;
    /// <summary>offsets.topic.replication.factor (capped at the number of live brokers when creating).</summary>
    public short ReplicationFactor { get; init; } = 3;
    /// <summary>offsets.topic.segment.bytes, the topic's segment.bytes.</summary>
    public int SegmentBytes { get; init; } = 100 << 20;

    public static OffsetsTopicSettings FromConfig(BrokerConfig config) => new()
    {
        Partitions = config.OffsetsTopicNumPartitions,
        ReplicationFactor = config.OffsetsTopicReplicationFactor,
        SegmentBytes = config.OffsetsTopicSegmentBytes,
    };
}

/// <summary>The group coordinator's settings from server.properties (group.* and offsets.* keys).</summary>
public static class GroupSettings
{
    public static GroupCoordinatorOptions FromConfig(BrokerConfig config) => new()
    {
        OffsetsTopicPartitions = config.OffsetsTopicNumPartitions,
        GroupInitialRebalanceDelayMs = config.GroupInitialRebalanceDelayMs,
        GroupMinSessionTimeoutMs = config.GroupMinSessionTimeoutMs,
        GroupMaxSessionTimeoutMs = config.GroupMaxSessionTimeoutMs,
        GroupMaxSize = config.GroupMaxSize,
        OffsetsRetentionMs = config.OffsetsRetentionMinutes * 60_000L,
        OffsetsRetentionCheckIntervalMs = config.OffsetsRetentionCheckIntervalMs,
        OffsetMetadataMaxBytes = config.OffsetMetadataMaxBytes,
        OffsetCommitTimeoutMs = config.OffsetsCommitTimeoutMs,
    };
}

using Broker.Consensus;
using Broker.Core.Model;

namespace Broker.Groups;

// The group coordinator's public surface: what the Kafka handlers (Broker.Server) pass in and get back. Domain types
// only, no wire DTOs: the handlers translate each request version to and from these.

/// <summary>Settings of the group coordinator (Kafka's group.* / offsets.* broker properties).</summary>
public sealed record GroupCoordinatorOptions
{
    /// <summary>offsets.topic.num.partitions: used to place groups until the topic exists (then its real count).</summary>
    public int OffsetsTopicPartitions { get; init; } = 50;
    public int GroupInitialRebalanceDelayMs { get; init; } = 3000;
    public int GroupMinSessionTimeoutMs { get; init; } = 6000;
    public int GroupMaxSessionTimeoutMs { get; init; } = 1800000;
    /// <summary>group.max.size: members beyond it get GROUP_MAX_SIZE_REACHED.</summary>
    public int GroupMaxSize { get; init; } = int.MaxValue;
    /// <summary>offsets.retention.minutes, in ms: offsets of an empty group older than this expire.</summary>
    public long OffsetsRetentionMs { get; init; } = 7L * 24 * 3600 * 1000;
    public long OffsetsRetentionCheckIntervalMs { get; init; } = 600_000;
    /// <summary>offset.metadata.max.bytes: longer commit metadata gets OFFSET_METADATA_TOO_LARGE.</summary>
    public int OffsetMetadataMaxBytes { get; init; } = 4096;
    /// <summary>offsets.commit.timeout.ms: how long a write to the offsets topic may wait for commitment.</summary>
    public int OffsetCommitTimeoutMs { get; init; } = 5000;
    /// <summary>How often timers (sessions, rebalances, initial delay) and coordinator ownership are checked.</summary>
    public int MaintenanceIntervalMs { get; init; } = 100;
}

/// <summary>The __consumer_offsets partitions as this node sees them (implemented by the host over its partitions).</summary>
public interface IOffsetsTopic
{
    /// <summary>Partition count of __consumer_offsets, or 0 when the topic does not exist yet.</summary>
    int PartitionCount { get; }
    /// <summary>The local replica of partition <paramref name="partition"/> (leader or follower), or null.</summary>
    IReplicatedLog? Replica(int partition);
}

public readonly record struct GroupProtocol(string Name, byte[] Metadata);

public sealed record JoinGroupArgs(
    string GroupId, string MemberId, string? GroupInstanceId, string ProtocolType, IReadOnlyList<GroupProtocol> Protocols,
    int SessionTimeoutMs, int RebalanceTimeoutMs, string ClientId, string ClientHost,
    /// <summary>JoinGroup v4+: a new member without an id gets MEMBER_ID_REQUIRED and its id (KIP-394).</summary>
    bool RequireKnownMemberId, string? Reason);

public readonly record struct GroupMemberMetadata(string MemberId, string? GroupInstanceId, byte[] Metadata);

/// <summary>Members is filled for the leader only (empty for followers).</summary>
public sealed record JoinGroupOutcome(
    ErrorCode Error, int GenerationId, string? ProtocolType, string? ProtocolName, string LeaderId, bool SkipAssignment,
    string MemberId, IReadOnlyList<GroupMemberMetadata> Members);

public readonly record struct MemberAssignment(string MemberId, byte[] Assignment);

public sealed record SyncGroupArgs(
    string GroupId, int GenerationId, string MemberId, string? GroupInstanceId, string? ProtocolType, string? ProtocolName,
    IReadOnlyList<MemberAssignment> Assignments);

public sealed record SyncGroupOutcome(ErrorCode Error, string? ProtocolType, string? ProtocolName, byte[] Assignment);

public readonly record struct LeavingMember(string MemberId, string? GroupInstanceId, string? Reason);
public readonly record struct LeftMember(string MemberId, string? GroupInstanceId, ErrorCode Error);
public sealed record LeaveGroupOutcome(ErrorCode Error, IReadOnlyList<LeftMember> Members);

/// <summary>GenerationId -1 with an empty MemberId is a commit from outside the group protocol (admin tools,
/// consumers with manual assignment); accepted only while the group is empty.</summary>
public sealed record OffsetCommitArgs(
    string GroupId, int GenerationId, string MemberId, string? GroupInstanceId, long RetentionTimeMs,
    IReadOnlyList<OffsetCommitEntry> Offsets);

public readonly record struct OffsetCommitEntry(string Topic, int Partition, long Offset, int LeaderEpoch, string? Metadata);
public readonly record struct PartitionResult(string Topic, int Partition, ErrorCode Error);
public sealed record OffsetCommitOutcome(IReadOnlyList<PartitionResult> Results);

/// <summary>A topic and the partitions asked for.</summary>
public readonly record struct TopicPartitionsQuery(string Topic, IReadOnlyList<int> Partitions);
/// <summary>Offset -1 (with LeaderEpoch -1, Metadata "") when nothing is committed for the partition.</summary>
public readonly record struct CommittedOffset(string Topic, int Partition, long Offset, int LeaderEpoch, string? Metadata, ErrorCode Error);
public sealed record OffsetFetchOutcome(ErrorCode Error, IReadOnlyList<CommittedOffset> Offsets);

public readonly record struct GroupMemberDescription(
    string MemberId, string? GroupInstanceId, string ClientId, string ClientHost, byte[] Metadata, byte[] Assignment);

/// <summary>State is Kafka's name: Empty, PreparingRebalance, CompletingRebalance, Stable, Dead.</summary>
public sealed record GroupDescription(
    ErrorCode Error, string GroupId, string State, string ProtocolType, string Protocol, IReadOnlyList<GroupMemberDescription> Members);

public readonly record struct GroupListing(string GroupId, string ProtocolType, string State);
public sealed record ListGroupsOutcome(ErrorCode Error, IReadOnlyList<GroupListing> Groups);

public sealed record OffsetDeleteOutcome(ErrorCode Error, IReadOnlyList<PartitionResult> Partitions);

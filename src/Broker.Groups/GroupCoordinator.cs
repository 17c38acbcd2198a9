using Broker.Core.Diagnostics;
using Broker.Core.Model;

namespace Broker.Groups;

/// <summary>
/// Kafka's classic group coordinator for the groups whose __consumer_offsets partition this node leads.
/// (Skeleton: the signatures are the contract the handlers use; the implementation lands with issue 4.)
/// </summary>
public sealed class GroupCoordinator : IAsyncDisposable
{
    public GroupCoordinator(GroupCoordinatorOptions options, IOffsetsTopic offsets, IClock clock)
    {
        Options = options;
        _ = offsets;
        _ = clock;
    }

    public GroupCoordinatorOptions Options { get; }

    /// <summary>Starts the maintenance loop (timers, loading/unloading groups as offsets-partition leadership moves).</summary>
    public void Start() => throw new NotImplementedException();

    /// <summary>The __consumer_offsets partition of a group: abs(Java String.hashCode(groupId)) % partition count.</summary>
    public int PartitionFor(string groupId) => throw new NotImplementedException();

    /// <summary>None when this node coordinates <paramref name="groupId"/> and has loaded its partition;
    /// NOT_COORDINATOR or COORDINATOR_LOAD_IN_PROGRESS otherwise.</summary>
    public ErrorCode CheckCoordinator(string groupId) => throw new NotImplementedException();

    public Task<JoinGroupOutcome> JoinGroupAsync(JoinGroupArgs args, CancellationToken cancellationToken = default) => throw new NotImplementedException();
    public Task<SyncGroupOutcome> SyncGroupAsync(SyncGroupArgs args, CancellationToken cancellationToken = default) => throw new NotImplementedException();
    public ErrorCode Heartbeat(string groupId, int generationId, string memberId, string? groupInstanceId) => throw new NotImplementedException();
    public Task<LeaveGroupOutcome> LeaveGroupAsync(string groupId, IReadOnlyList<LeavingMember> members, CancellationToken cancellationToken = default) => throw new NotImplementedException();
    public Task<OffsetCommitOutcome> CommitOffsetsAsync(OffsetCommitArgs args, CancellationToken cancellationToken = default) => throw new NotImplementedException();
    /// <summary><paramref name="topics"/> null means every committed offset of the group.</summary>
    public OffsetFetchOutcome FetchOffsets(string groupId, IReadOnlyList<TopicPartitionsQuery>? topics, bool requireStable) => throw new NotImplementedException();
    public GroupDescription DescribeGroup(string groupId) => throw new NotImplementedException();
    /// <summary>Groups this node coordinates; filters are Kafka's ListGroups v4 state filter and v5 type filter (null = all).</summary>
    public ListGroupsOutcome ListGroups(IReadOnlyList<string>? statesFilter, IReadOnlyList<string>? typesFilter) => throw new NotImplementedException();
    public Task<ErrorCode> DeleteGroupAsync(string groupId, CancellationToken cancellationToken = default) => throw new NotImplementedException();
    public Task<OffsetDeleteOutcome> DeleteOffsetsAsync(string groupId, IReadOnlyList<TopicPartition> partitions, CancellationToken cancellationToken = default) => throw new NotImplementedException();

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

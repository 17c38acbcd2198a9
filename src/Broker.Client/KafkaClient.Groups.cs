using Broker.Core.Model;

namespace Broker.Client;

// CONTRACT (lead): group administration. Implemented by the client-groups helper.
public sealed partial class KafkaClient
{
    /// <summary>FindCoordinator (group key): the coordinator's broker id.</summary>
    public Task<int> FindGroupCoordinatorAsync(string groupId, CancellationToken cancellationToken = default) =>
        throw new NotImplementedException();

    /// <summary>ListGroups on every broker, merged.</summary>
    public Task<IReadOnlyList<GroupListing>> ListGroupsAsync(CancellationToken cancellationToken = default) =>
        throw new NotImplementedException();

    public Task<IReadOnlyList<GroupDescription>> DescribeGroupsAsync(IReadOnlyList<string> groupIds,
        CancellationToken cancellationToken = default) => throw new NotImplementedException();

    public Task<IReadOnlyList<(string GroupId, ErrorCode Error)>> DeleteGroupsAsync(IReadOnlyList<string> groupIds,
        CancellationToken cancellationToken = default) => throw new NotImplementedException();

    /// <summary>OffsetFetch: committed offsets of <paramref name="partitions"/> (null = every partition the group has committed).</summary>
    public Task<IReadOnlyList<CommittedOffset>> FetchCommittedOffsetsAsync(string groupId, IReadOnlyList<TopicPartition>? partitions,
        CancellationToken cancellationToken = default) => throw new NotImplementedException();

    /// <summary>OffsetCommit outside a generation (generation -1, no member): only accepted for groups without active members.</summary>
    public Task<IReadOnlyList<CommittedOffset>> CommitOffsetsAsync(string groupId, IReadOnlyList<TopicPartitionOffset> offsets,
        CancellationToken cancellationToken = default) => throw new NotImplementedException();
}

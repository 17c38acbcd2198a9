using System.Collections.Concurrent;
using Broker.Client.Consumer;
using Broker.Core.Model;
using Broker.Protocol.Codec;
using Broker.Protocol.Messages;

namespace Broker.Client;

// CONTRACT (lead): group administration. Implemented by the client-groups helper.
// Every group request goes to the group's coordinator (FindCoordinator, cached per group); NOT_COORDINATOR,
// COORDINATOR_NOT_AVAILABLE and connection failures drop the cached coordinator and look again, and
// COORDINATOR_LOAD_IN_PROGRESS waits; all within Options.RetryBudget. The group-level errors left after that come
// back in the results (or as a KafkaException where a method has no per-item error).
public sealed partial class KafkaClient
{
    private const short FindCoordinatorKey = 10;
    private const sbyte GroupKeyType = 0;

    private readonly ConcurrentDictionary<string, int> _groupCoordinators = new(StringComparer.Ordinal);

    /// <summary>FindCoordinator (group key): the coordinator's broker id.</summary>
    public Task<int> FindGroupCoordinatorAsync(string groupId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(groupId);
        return LookUpGroupCoordinatorAsync(groupId, cancellationToken);
    }

    /// <summary>ListGroups on every broker, merged.</summary>
    public async Task<IReadOnlyList<GroupListing>> ListGroupsAsync(CancellationToken cancellationToken = default)
    {
        var cluster = await GetMetadataAsync(Array.Empty<string>(), false, cancellationToken).ConfigureAwait(false);
        var perBroker = new Task<ListGroupsResponse>[cluster.Brokers.Count];
        for (int i = 0; i < perBroker.Length; i++) perBroker[i] = ListGroupsOnAsync(cluster.Brokers[i].NodeId, cancellationToken);
        await Task.WhenAll(perBroker).ConfigureAwait(false);

        var merged = new SortedDictionary<string, GroupListing>(StringComparer.Ordinal);
        foreach (var task in perBroker)
            foreach (var g in task.Result.Groups)
                merged.TryAdd(g.GroupId, new GroupListing(g.GroupId, g.ProtocolType, g.GroupState));
        return merged.Values.ToList();
    }

    public async Task<IReadOnlyList<GroupDescription>> DescribeGroupsAsync(IReadOnlyList<string> groupIds,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(groupIds);
        var tasks = new Task<GroupDescription>[groupIds.Count];
        for (int i = 0; i < tasks.Length; i++) tasks[i] = DescribeGroupAsync(groupIds[i], cancellationToken);
        return await Task.WhenAll(tasks).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<(string GroupId, ErrorCode Error)>> DeleteGroupsAsync(IReadOnlyList<string> groupIds,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(groupIds);
        var distinct = new List<string>(groupIds.Count);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (string g in groupIds)
            if (seen.Add(g)) distinct.Add(g);
        var tasks = new Task<(string, ErrorCode)>[distinct.Count];
        for (int i = 0; i < tasks.Length; i++) tasks[i] = DeleteGroupAsync(distinct[i], cancellationToken);
        return await Task.WhenAll(tasks).ConfigureAwait(false);
    }

    /// <summary>OffsetFetch: committed offsets of <paramref name="partitions"/> (null = every partition the group has committed).</summary>
    public async Task<IReadOnlyList<CommittedOffset>> FetchCommittedOffsetsAsync(string groupId, IReadOnlyList<TopicPartition>? partitions,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(groupId);
        if (partitions is { Count: 0 }) return Array.Empty<CommittedOffset>();
        var answer = await SendToGroupCoordinatorAsync(groupId, OffsetFetchRequest.ApiKey, 2, OffsetFetchRequest.HighestVersion,
            v => OffsetRequests.BuildOffsetFetch(groupId, partitions, v), OffsetRequests.ReadOffsetFetch, a => a.Error,
            cancellationToken).ConfigureAwait(false);
        if (answer.Error != ErrorCode.None)
            throw new KafkaException(answer.Error, $"OffsetFetch of group '{groupId}' failed: {answer.Error}");
        return answer.Offsets;
    }

    /// <summary>OffsetCommit outside a generation (generation -1, no member): only accepted for groups without active members.</summary>
    public Task<IReadOnlyList<CommittedOffset>> CommitOffsetsAsync(string groupId, IReadOnlyList<TopicPartitionOffset> offsets,
        CancellationToken cancellationToken = default) =>
        CommitOffsetsAsync(groupId, -1, "", null, offsets, cancellationToken);

    /// <summary>
    /// OffsetCommit as a member of generation <paramref name="generationId"/> (or -1 and "" outside the group
    /// protocol). Per-partition errors come back in the results (Offset is the offset that was to be committed).
    /// </summary>
    internal async Task<IReadOnlyList<CommittedOffset>> CommitOffsetsAsync(string groupId, int generationId, string memberId,
        string? groupInstanceId, IReadOnlyList<TopicPartitionOffset> offsets, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(groupId);
        ArgumentNullException.ThrowIfNull(offsets);
        if (offsets.Count == 0) return Array.Empty<CommittedOffset>();
        var response = await SendToGroupCoordinatorAsync(groupId, OffsetCommitRequest.ApiKey, 2, OffsetCommitRequest.HighestVersion,
            v => OffsetRequests.BuildOffsetCommit(groupId, generationId, memberId, groupInstanceId, offsets),
            OffsetCommitResponse.Read, OffsetRequests.CoordinatorErrorOf, cancellationToken).ConfigureAwait(false);
        return OffsetRequests.CommitResults(response, offsets);
    }

    /// <summary>The group's coordinator from the cache, else looked up (FindCoordinator with retries).</summary>
    internal ValueTask<int> GetGroupCoordinatorAsync(string groupId, CancellationToken cancellationToken) =>
        _groupCoordinators.TryGetValue(groupId, out int node) ? new(node) : new(LookUpGroupCoordinatorAsync(groupId, cancellationToken));

    /// <summary>Forgets the cached coordinator of <paramref name="groupId"/> if it is still <paramref name="nodeId"/>.</summary>
    internal void InvalidateGroupCoordinator(string groupId, int nodeId) =>
        _groupCoordinators.TryRemove(new KeyValuePair<string, int>(groupId, nodeId));

    private async Task<int> LookUpGroupCoordinatorAsync(string groupId, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + Options.RetryBudget;
        for (int attempt = 0; ; attempt++)
        {
            ErrorCode error;
            string? message;
            int nodeId;
            try
            {
                (error, message, nodeId) = await SendAsync(-1, FindCoordinatorKey, 0, FindCoordinatorRequest.HighestVersion,
                    v => BuildFindCoordinator(groupId, v), ReadFindCoordinator, cancellationToken).ConfigureAwait(false);
            }
            catch (KafkaException ex) when (GroupRetry.IsTransport(ex.Error) && DateTime.UtcNow + GroupRetry.Backoff(attempt) < deadline)
            {
                await Task.Delay(GroupRetry.Backoff(attempt), cancellationToken).ConfigureAwait(false);
                continue;
            }
            if (error == ErrorCode.None)
            {
                _groupCoordinators[groupId] = nodeId;
                return nodeId;
            }
            var backoff = GroupRetry.Backoff(attempt);
            if (!GroupRetry.IsCoordinatorRetriable(error) || DateTime.UtcNow + backoff >= deadline)
                throw new KafkaException(error, $"FindCoordinator for group '{groupId}' failed: {error}{(message is null ? "" : ": " + message)}");
            await Task.Delay(backoff, cancellationToken).ConfigureAwait(false);
        }
    }

    private static IKafkaMessage BuildFindCoordinator(string groupId, short version) =>
        version >= 4
            ? new FindCoordinatorRequest { KeyType = GroupKeyType, CoordinatorKeys = new List<string> { groupId } }
            : new FindCoordinatorRequest { Key = groupId, KeyType = GroupKeyType };

    private static (ErrorCode Error, string? Message, int NodeId) ReadFindCoordinator(ref KafkaReader reader, short version)
    {
        var r = FindCoordinatorResponse.Read(ref reader, version);
        if (version < 4) return ((ErrorCode)r.ErrorCode, r.ErrorMessage, r.NodeId);
        if (r.Coordinators.Count == 0) return (ErrorCode.UnknownServerError, "FindCoordinator answered no coordinator", -1);
        var c = r.Coordinators[0];
        return ((ErrorCode)c.ErrorCode, c.ErrorMessage, c.NodeId);
    }

    /// <summary>
    /// Sends a request to the group's coordinator; when the coordinator moved (by <paramref name="groupError"/>, or
    /// the connection failed) or is loading, it looks again and resends within the retry budget. The last answer is
    /// returned even if it still carries such an error; connection failures past the budget throw.
    /// </summary>
    internal async Task<T> SendToGroupCoordinatorAsync<T>(string groupId, short apiKey, short minVersion, short maxVersion,
        Func<short, IKafkaMessage> request, KafkaMessageReader<T> read, Func<T, ErrorCode> groupError, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + Options.RetryBudget;
        for (int attempt = 0; ; attempt++)
        {
            int node = await GetGroupCoordinatorAsync(groupId, cancellationToken).ConfigureAwait(false);
            T response;
            try
            {
                response = await SendAsync(node, apiKey, minVersion, maxVersion, request, read, cancellationToken).ConfigureAwait(false);
            }
            catch (KafkaException ex) when (GroupRetry.IsTransport(ex.Error) && DateTime.UtcNow + GroupRetry.Backoff(attempt) < deadline)
            {
                InvalidateGroupCoordinator(groupId, node);
                await Task.Delay(GroupRetry.Backoff(attempt), cancellationToken).ConfigureAwait(false);
                continue;
            }
            var error = groupError(response);
            var backoff = GroupRetry.Backoff(attempt);
            if (!GroupRetry.IsCoordinatorRetriable(error) || DateTime.UtcNow + backoff >= deadline) return response;
            if (GroupRetry.IsCoordinatorMoved(error)) InvalidateGroupCoordinator(groupId, node);
            await Task.Delay(backoff, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<ListGroupsResponse> ListGroupsOnAsync(int brokerId, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + Options.RetryBudget;
        for (int attempt = 0; ; attempt++)
        {
            ListGroupsResponse response;
            try
            {
                response = await SendAsync(brokerId, ListGroupsRequest.ApiKey, 0, ListGroupsRequest.HighestVersion,
                    _ => new ListGroupsRequest(), ListGroupsResponse.Read, cancellationToken).ConfigureAwait(false);
            }
            catch (KafkaException ex) when (GroupRetry.IsTransport(ex.Error) && DateTime.UtcNow + GroupRetry.Backoff(attempt) < deadline)
            {
                await Task.Delay(GroupRetry.Backoff(attempt), cancellationToken).ConfigureAwait(false);
                continue;
            }
            var error = (ErrorCode)response.ErrorCode;
            if (error == ErrorCode.None) return response;
            var backoff = GroupRetry.Backoff(attempt);
            if (!GroupRetry.IsCoordinatorRetriable(error) || DateTime.UtcNow + backoff >= deadline)
                throw new KafkaException(error, $"ListGroups on broker {brokerId} failed: {error}");
            await Task.Delay(backoff, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<GroupDescription> DescribeGroupAsync(string groupId, CancellationToken cancellationToken)
    {
        var response = await SendToGroupCoordinatorAsync(groupId, DescribeGroupsRequest.ApiKey, 0, DescribeGroupsRequest.HighestVersion,
            _ => new DescribeGroupsRequest { Groups = new List<string> { groupId } }, DescribeGroupsResponse.Read,
            r => r.Groups.Count == 0 ? ErrorCode.None : (ErrorCode)r.Groups[0].ErrorCode, cancellationToken).ConfigureAwait(false);
        if (response.Groups.Count == 0)
            return new GroupDescription(groupId, ErrorCode.UnknownServerError, "", "", "", Array.Empty<GroupMemberDescription>());
        var g = response.Groups[0];
        var members = new List<GroupMemberDescription>(g.Members.Count);
        foreach (var m in g.Members)
        {
            List<TopicPartition>? assignment = null;
            if (g.ProtocolType == ConsumerProtocol.ProtocolType)
                ConsumerProtocol.TryDecodeAssignment(m.MemberAssignment, out assignment, out _);
            members.Add(new GroupMemberDescription(m.MemberId, m.GroupInstanceId, m.ClientId, m.ClientHost,
                (IReadOnlyList<TopicPartition>?)assignment ?? Array.Empty<TopicPartition>()));
        }
        return new GroupDescription(g.GroupId, (ErrorCode)g.ErrorCode, g.GroupState, g.ProtocolType, g.ProtocolData, members);
    }

    private async Task<(string, ErrorCode)> DeleteGroupAsync(string groupId, CancellationToken cancellationToken)
    {
        var response = await SendToGroupCoordinatorAsync(groupId, DeleteGroupsRequest.ApiKey, 0, DeleteGroupsRequest.HighestVersion,
            _ => new DeleteGroupsRequest { GroupsNames = new List<string> { groupId } }, DeleteGroupsResponse.Read,
            r => r.Results.Count == 0 ? ErrorCode.None : (ErrorCode)r.Results[0].ErrorCode, cancellationToken).ConfigureAwait(false);
        foreach (var result in response.Results)
            if (result.GroupId == groupId) return (groupId, (ErrorCode)result.ErrorCode);
        return (groupId, ErrorCode.UnknownServerError);
    }
}

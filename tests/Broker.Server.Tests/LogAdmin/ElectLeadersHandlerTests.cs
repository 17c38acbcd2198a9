using Broker.Core.Model;
using Broker.Protocol.Messages;
using Broker.Server.Handlers;
using Xunit;

namespace Broker.Server.Tests.LogAdmin;

/// <summary>
/// ElectLeaders v0-2 on three in-process brokers with real listeners: preferred elections done locally or forwarded to
/// the leader's broker, the answers that need no election, unclean elections refused.
/// </summary>
public sealed class ElectLeadersHandlerTests : IAsyncLifetime
{
    private LogAdminFixture _fixture = null!;

    public async Task InitializeAsync()
    {
        _fixture = await LogAdminFixture.StartAsync(3);
        _fixture.CreateTopic("ranked", partitions: 2, replicas: [1, 2, 3]);
        Assert.Equal(1, _fixture.WaitForLeader("ranked", 0));
        Assert.Equal(1, _fixture.WaitForLeader("ranked", 1));
    }

    public async Task DisposeAsync() => await _fixture.DisposeAsync();

    private async Task<ElectLeadersResponse> ElectAsync(int node, short version, sbyte type, params (string Topic, int Partition)[]? partitions)
    {
        var request = new ElectLeadersRequest
        {
            ElectionType = type,
            TimeoutMs = 10_000,
            TopicPartitions = partitions?.GroupBy(p => p.Topic)
                .Select(g => new ElectLeadersRequest.ElectLeadersTopic { Topic = g.Key, Partitions = g.Select(p => p.Partition).ToList() })
                .ToList(),
        };
        return await _fixture.NodeById(node).Harness.CallAsync((short)ApiKey.ElectLeaders, version, request, ElectLeadersResponse.Read);
    }

    private static List<(string Topic, int Partition, ErrorCode Error)> Results(ElectLeadersResponse response) =>
        response.ReplicaElectionResults.SelectMany(t => t.PartitionResult.Select(p => (t.Topic, p.PartitionId, (ErrorCode)p.ErrorCode))).ToList();

    /// <summary>Asserts the per-partition errors, showing the messages when they differ.</summary>
    private static void AssertResults(ElectLeadersResponse response, params (string Topic, int Partition, ErrorCode Error)[] expected) =>
        Assert.True(Results(response).SequenceEqual(expected),
            string.Join("; ", response.ReplicaElectionResults.SelectMany(t => t.PartitionResult.Select(p => $"{t.Topic}-{p.PartitionId}: {(ErrorCode)p.ErrorCode} {p.ErrorMessage}"))));

    private void MoveLeadership(int partition, int to)
    {
        var group = _fixture.Group(_fixture.WaitForLeader("ranked", partition), "ranked", partition);
        LogAdminFixture.Wait(() => group.InSyncReplicas().Contains(to), $"node {to} in sync");
        Assert.True(group.TransferLeadership(to));
        LogAdminFixture.Wait(() => _fixture.Group(to, "ranked", partition).IsLeader, $"node {to} to lead ranked-{partition}");
        // Every broker answers from its own replica's view: let them all hear from the new leader first.
        LogAdminFixture.Wait(() => _fixture.Nodes.All(n => _fixture.Group(n.Id, "ranked", partition).LeaderId == to), "every replica to know the leader");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task A_partition_led_elsewhere_goes_back_to_its_preferred_replica_through_the_leaders_broker(short version)
    {
        MoveLeadership(0, to: 2);
        // Asked on node 3, which leads nothing: ranked-0 is forwarded to node 2, which hands it to node 1.
        var response = await ElectAsync(3, version, 0, ("ranked", 0), ("ranked", 1));
        Assert.Equal(0, response.ErrorCode);
        AssertResults(response, ("ranked", 0, ErrorCode.None), ("ranked", 1, ErrorCode.ElectionNotNeeded));
        Assert.Null(response.ReplicaElectionResults[0].PartitionResult[0].ErrorMessage);
        Assert.Equal(1, _fixture.WaitForLeader("ranked", 0));

        // Asked on the leader itself (no forwarding): done there.
        MoveLeadership(1, to: 3);
        AssertResults(await ElectAsync(3, version, 0, ("ranked", 1)), ("ranked", 1, ErrorCode.None));
        Assert.Equal(1, _fixture.WaitForLeader("ranked", 1));
    }

    [Fact]
    public async Task All_partitions_omit_those_that_need_no_election()
    {
        var none = await ElectAsync(2, 2, 0, null);
        Assert.Equal(0, none.ErrorCode);
        Assert.Empty(none.ReplicaElectionResults);

        MoveLeadership(1, to: 2);
        var one = await ElectAsync(2, 2, 0, null);
        AssertResults(one, ("ranked", 1, ErrorCode.None));
        Assert.Equal(1, _fixture.WaitForLeader("ranked", 1));
    }

    [Fact]
    public async Task Version_0_means_preferred_and_unknown_partitions_are_reported()
    {
        var response = await ElectAsync(1, 0, 1, ("ranked", 0), ("ranked", 5), ("missing", 0)); // type is not on v0's wire
        Assert.Equal([("ranked", 0, ErrorCode.ElectionNotNeeded), ("ranked", 5, ErrorCode.UnknownTopicOrPartition),
            ("missing", 0, ErrorCode.UnknownTopicOrPartition)], Results(response));
    }

    [Fact]
    public async Task Unclean_elections_are_refused()
    {
        var named = await ElectAsync(2, 1, 1, ("ranked", 0));
        var result = Assert.Single(Assert.Single(named.ReplicaElectionResults).PartitionResult);
        Assert.Equal(((short)ErrorCode.InvalidRequest, ElectLeadersHandler.UncleanNotSupported), (result.ErrorCode, result.ErrorMessage));
        var all = await ElectAsync(2, 2, 1, null);
        Assert.Equal((short)ErrorCode.InvalidRequest, all.ErrorCode);
        Assert.Empty(all.ReplicaElectionResults);
        var odd = await ElectAsync(2, 2, 7, ("ranked", 0));
        Assert.Equal((short)ErrorCode.InvalidRequest, odd.ReplicaElectionResults[0].PartitionResult[0].ErrorCode);
    }

    [Fact]
    public async Task A_preferred_replica_that_is_not_in_sync_is_not_available()
    {
        _fixture.Network.Isolate(1);
        int leader = _fixture.WaitForLeader("ranked", 0, notNode: 1);
        var group = _fixture.Group(leader, "ranked", 0);
        LogAdminFixture.Wait(() => !group.InSyncReplicas().Contains(1), "node 1 to leave the in-sync replicas");
        var response = await ElectAsync(leader, 2, 0, ("ranked", 0));
        var result = Assert.Single(Assert.Single(response.ReplicaElectionResults).PartitionResult);
        Assert.Equal((short)ErrorCode.PreferredLeaderNotAvailable, result.ErrorCode);
        Assert.Contains("not alive and in sync", result.ErrorMessage);
        _fixture.Network.Heal(1);
    }
}

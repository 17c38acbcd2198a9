using Broker.Http.Admin;
using Xunit;
using static Broker.Http.Tests.Admin.FakeAdminBackend;

namespace Broker.Http.Tests.Admin;

/// <summary>health_overview semantics over snapshots: which nodes are down, which partitions leaderless or under-replicated.</summary>
public sealed class AdminViewsTests
{
    [Fact]
    public void HealthyCluster_NoReasons_EveryListPresentAndEmpty()
    {
        var h = AdminViews.Health(ThreeNodes(), 128);
        Assert.True(h.IsHealthy);
        Assert.Empty(h.UnhealthyReasons);
        Assert.Equal(2, h.ControllerId);
        Assert.Equal([1, 2, 3], h.AllNodes);
        Assert.Empty(h.NodesDown);
        Assert.Empty(h.LeaderlessPartitions);
        Assert.Empty(h.UnderReplicatedPartitions);
        Assert.Equal(0, h.LeaderlessCount);
        Assert.Equal(0, h.UnderReplicatedCount);
    }

    [Fact]
    public void FencedBroker_IsDown_AndPartitionsItLeadsAreLeaderless()
    {
        var s = ThreeNodes(b => b.NodeId == 1 ? b with { Fenced = true } : b,
            [P(0, 1, [1, 2, 3], [1, 2, 3]), P(1, 2, [2, 3, 1], [2, 3])]);
        var h = AdminViews.Health(s, 128);
        Assert.False(h.IsHealthy);
        Assert.Equal([1], h.NodesDown);
        Assert.Equal(["kafka/orders/0"], h.LeaderlessPartitions);
        Assert.Equal(["kafka/orders/1"], h.UnderReplicatedPartitions);
        Assert.Equal(["nodes_down", "leaderless_partitions", "under_replicated_partitions"], h.UnhealthyReasons);
    }

    [Fact]
    public void UnreachableVoter_IsDownEvenBeforeFencing()
    {
        var h = AdminViews.Health(ThreeNodes(unreachable: [3]), 128);
        Assert.Equal([3], h.NodesDown);
        Assert.Contains("nodes_down", h.UnhealthyReasons);
    }

    [Fact]
    public void ControllerOnlyVoters_AreInAllNodes()
    {
        var s = ThreeNodes();
        s = new ClusterSnapshot { ClusterId = s.ClusterId, ControllerId = 7, Voters = [7, 8, 9], Brokers = s.Brokers, Topics = s.Topics };
        Assert.Equal([1, 2, 3, 7, 8, 9], AdminViews.Health(s, 128).AllNodes);
    }

    [Fact]
    public void NoController_IsMinusOne_WithReason()
    {
        var h = AdminViews.Health(ThreeNodes(controller: -1), 128);
        Assert.Equal(-1, h.ControllerId);
        Assert.Equal(["no_elected_controller"], h.UnhealthyReasons);
    }

    [Fact]
    public void LeaderMinusOneOrUnregistered_IsLeaderless()
    {
        var h = AdminViews.Health(ThreeNodes(partitions: [P(0, -1, [1, 2, 3], [1, 2, 3]), P(1, 5, [1, 2, 3], [1, 2, 3])]), 128);
        Assert.Equal(["kafka/orders/0", "kafka/orders/1"], h.LeaderlessPartitions);
        Assert.Equal(2, h.LeaderlessCount);
    }

    [Fact]
    public void Lists_AreCapped_CountsAreNot()
    {
        var partitions = Enumerable.Range(0, 10).Select(i => P(i, -1, [1, 2], [1])).ToArray();
        var h = AdminViews.Health(ThreeNodes(partitions: partitions), 3);
        Assert.Equal(3, h.LeaderlessPartitions.Count);
        Assert.Equal(10, h.LeaderlessCount);
        Assert.Equal(3, h.UnderReplicatedPartitions.Count);
        Assert.Equal(10, h.UnderReplicatedCount);
    }

    [Fact]
    public void ControllerPartition_LeaderIsController_ReplicasAreVoters()
    {
        var p = AdminViews.ControllerPartition(ThreeNodes(controller: 3));
        Assert.Equal(("redpanda", "controller", 0, 3, 0L), (p.Ns, p.Topic, p.PartitionId, p.LeaderId, p.RaftGroupId!.Value));
        Assert.Equal([1, 2, 3], p.Replicas.Select(r => r.NodeId));
    }
}

using System.Diagnostics;
using Broker.Integration.Tests.Cluster;
using Broker.Integration.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace Broker.Integration.Tests.Groups;

/// <summary>
/// Group coordination in a three-node cluster over raw wire: every node names the same coordinator (the leader of
/// the group's __consumer_offsets partition, created with replication factor 3), the coordinator serves the
/// group, and the other two answer NOT_COORDINATOR to every group API in that API's own shape.
/// </summary>
[Trait("Category", "Cluster")]
public sealed class GroupWireClusterTests : ClusterTest
{
    private const short NotCoordinator = 16;

    public GroupWireClusterTests(ITestOutputHelper output) : base(output) { }

    [Fact]
    public void NonCoordinatorNodesAnswerNotCoordinator()
    {
        var cluster = StartCluster("groups", ClusterLayout.Combined(3), GroupWireTests.GroupProps);
        cluster.CreateTopic(GroupWireTests.Topic, partitions: 2, replicationFactor: 3);
        const string group = "cluster-wire-group";

        var (coordinatorId, joined) = FindAndJoin(cluster, group);
        var coordinatorNode = cluster.Node(coordinatorId);
        Output.WriteLine($"group {group} is coordinated by node {coordinatorId}");
        using (var c = new WireConnection(coordinatorNode.Host, coordinatorNode.KafkaPort))
        {
            Assert.Equal(0, c.SyncGroup(5, group, joined.Generation, joined.MemberId, null, [(joined.MemberId, GroupWireTests.Assignment)]).Error);
            var committed = c.OffsetCommit(9, group, joined.Generation, joined.MemberId, [(GroupWireTests.Topic, 0, 99, -1, "cluster")]);
            Assert.Equal((short)0, Assert.Single(committed).Error);
            Assert.Equal(99L, c.OffsetFetch(9, group, [(GroupWireTests.Topic, [0])]).Offsets.Single().Offset);
        }

        foreach (var node in cluster.Nodes.Where(n => n.Id != coordinatorId))
        {
            var found = WaitForAgreement(cluster, node, group, coordinatorId);
            Assert.Equal((coordinatorNode.Host, coordinatorNode.KafkaPort), (found.Host, found.Port));

            using var c = new WireConnection(node.Host, node.KafkaPort);
            foreach (short v in new short[] { 0, 5, 9 })
                Assert.Equal(NotCoordinator, c.JoinGroup(v, group, "", null, GroupWireTests.Subscription).Error);
            Assert.Equal(NotCoordinator, c.SyncGroup(5, group, joined.Generation, joined.MemberId, null, []).Error);
            Assert.Equal(NotCoordinator, c.Heartbeat(4, group, joined.Generation, joined.MemberId));
            Assert.Equal(NotCoordinator, c.Heartbeat(0, group, joined.Generation, joined.MemberId));
            Assert.All(c.OffsetCommit(9, group, joined.Generation, joined.MemberId, [(GroupWireTests.Topic, 0, 5, -1, null), (GroupWireTests.Topic, 1, 5, -1, null)]),
                r => Assert.Equal(NotCoordinator, r.Error));
            var fetchV1 = c.OffsetFetch(1, group, [(GroupWireTests.Topic, [0])]);
            Assert.Equal((NotCoordinator, -1L), (fetchV1.Offsets.Single().Error, fetchV1.Offsets.Single().Offset));
            var fetchV9 = c.OffsetFetch(9, group, [(GroupWireTests.Topic, [0])]);
            Assert.Equal(NotCoordinator, fetchV9.Error);
            Assert.Empty(fetchV9.Offsets);
            Assert.Equal(NotCoordinator, c.DescribeGroups(5, group).Single().Error);
            Assert.Equal(NotCoordinator, c.LeaveGroup(5, group, joined.MemberId).Error);
            Assert.Equal([(group, NotCoordinator)], c.DeleteGroups(2, group));
            Assert.DoesNotContain(c.ListGroups(4).Groups, g => g.GroupId == group);
        }

        // The member is still in the group on the coordinator: nothing the other nodes said changed it.
        using var check = new WireConnection(coordinatorNode.Host, coordinatorNode.KafkaPort);
        Assert.Equal(0, check.Heartbeat(4, group, joined.Generation, joined.MemberId));
        Assert.Equal("Stable", check.DescribeGroups(5, group).Single().State);
    }

    /// <summary>FindCoordinator from node 1, then JoinGroup there, again while the coordinator is being created,
    /// elected or loaded (15, 16, 14), bounded.</summary>
    private (int NodeId, WireJoin Joined) FindAndJoin(ClusterProcess cluster, string group)
    {
        var sw = Stopwatch.StartNew();
        string last = "not asked";
        var first = cluster.Node(1);
        while (sw.Elapsed < TimeSpan.FromSeconds(40))
        {
            try
            {
                using var bootstrap = new WireConnection(first.Host, first.KafkaPort);
                var found = bootstrap.FindCoordinator(4, 0, group).Single();
                last = found.ToString();
                if (found.Error == 0)
                {
                    using var c = new WireConnection(found.Host, found.Port, "cluster-consumer");
                    string memberId = "";
                    for (int attempt = 0; attempt < 3; attempt++)
                    {
                        var joined = c.JoinGroup(9, group, memberId, null, GroupWireTests.Subscription);
                        last = $"coordinator {found.NodeId}: join {joined}";
                        if (joined.Error == 79) { memberId = joined.MemberId; continue; }
                        if (joined.Error == 0) return (found.NodeId, joined);
                        break;
                    }
                }
            }
            catch (Exception ex) when (ex is IOException or System.Net.Sockets.SocketException or TimeoutException or InvalidDataException)
            {
                last = $"{ex.GetType().Name}: {ex.Message}";
            }
            Thread.Sleep(200);
        }
        Assert.Fail($"no coordinator joined {group} within 40 s: {last}\n{cluster.DescribeState()}");
        return default;
    }

    /// <summary>FindCoordinator on <paramref name="node"/> until it names <paramref name="coordinatorId"/> (its metadata
    /// may lag the election by a moment), bounded.</summary>
    private static WireCoordinator WaitForAgreement(ClusterProcess cluster, ClusterNode node, string group, int coordinatorId)
    {
        var sw = Stopwatch.StartNew();
        using var c = new WireConnection(node.Host, node.KafkaPort);
        while (true)
        {
            var found = c.FindCoordinator(3, 0, group).Single();
            if (found.Error == 0 && found.NodeId == coordinatorId) return found;
            if (sw.Elapsed > TimeSpan.FromSeconds(15))
                Assert.Fail($"node {node.Id} names {found} for {group}, the coordinator is {coordinatorId}\n{cluster.DescribeState()}");
            Thread.Sleep(100);
        }
    }
}

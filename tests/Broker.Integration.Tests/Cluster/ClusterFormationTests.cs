using Broker.Integration.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace Broker.Integration.Tests.Cluster;

/// <summary>
/// Clusters form: three combined nodes on 127.0.0.1-3, and three pure controllers with two pure brokers. Every broker's
/// Metadata lists all brokers at their advertised addresses; replicated topics get leaders and real clients
/// produce and consume through them (including through a broker that leads nothing).
/// </summary>
[Trait("Category", "Cluster")]
public sealed class ClusterFormationTests : ClusterTest
{
    public ClusterFormationTests(ITestOutputHelper output) : base(output) { }

    [Fact]
    public void Combined3_Forms_ListsAllBrokers_AndServesThroughANonLeader()
    {
        var cluster = StartCluster("form3", ClusterLayout.Combined(3));
        foreach (var node in cluster.Nodes)
        {
            var md = cluster.Metadata(node.Id);
            var listed = md.Brokers.OrderBy(b => b.NodeId).Select(b => $"{b.NodeId}@{b.Host}:{b.Port}").ToArray();
            var expected = cluster.Nodes.Select(n => $"{n.Id}@{n.Host}:{n.KafkaPort}").ToArray();
            Assert.True(expected.SequenceEqual(listed), $"node {node.Id} lists [{string.Join(", ", listed)}], expected [{string.Join(", ", expected)}]");
            Assert.True(md.ControllerId is >= 1 and <= 3, $"node {node.Id} reports controller {md.ControllerId}");
            Assert.False(string.IsNullOrEmpty(md.ClusterId), $"node {node.Id} reports no cluster id");
        }
        Assert.Single(cluster.Nodes.Select(n => cluster.Metadata(n.Id).ClusterId).Distinct());

        var topic = cluster.CreateTopic("formed", partitions: 1, replicationFactor: 3);
        var p0 = topic.Partitions[0];
        Assert.True(p0.Replicas.Order().SequenceEqual(new[] { 1, 2, 3 }), $"RF=3 topic: {topic}");

        // Every broker agrees on the leader (eventually: followers learn it from the metadata log).
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (true)
        {
            var leaders = cluster.Nodes.Select(n => cluster.Metadata(n.Id, "formed").Topic("formed")?.Partitions.FirstOrDefault()?.Leader ?? -1).ToArray();
            if (leaders.All(l => l == leaders[0] && l > 0)) break;
            Assert.True(DateTime.UtcNow < deadline, $"brokers disagree on the leader of formed-0: [{string.Join(',', leaders)}]\n{cluster.DescribeState()}");
            Thread.Sleep(200);
        }

        var nonLeader = cluster.Nodes.First(n => n.Id != p0.Leader);
        Output.WriteLine($"leader of formed-0 is {p0.Leader}; bootstrapping through node {nonLeader.Id} only");
        AssertScriptOk(Confluent(cluster, $"{nonLeader.Host}:{nonLeader.KafkaPort}", "roundtrip", "--topic", "formed", "--no-create",
            "--partitions", "1", "--codecs", "none", "--count", "200"), cluster, "roundtrip through a non-leader bootstrap");
    }

    [Fact]
    public void Split_ThreeControllersTwoBrokers_Forms_AndServesRf2Topic()
    {
        var cluster = StartCluster("split", ClusterLayout.Split(controllers: 3, brokers: 2));
        foreach (var node in cluster.Brokers)
        {
            var md = cluster.Metadata(node.Id);
            var ids = md.Brokers.Select(b => b.NodeId).Order().ToArray();
            Assert.True(ids.SequenceEqual(new[] { 4, 5 }), $"broker {node.Id} lists brokers [{string.Join(',', ids)}], expected [4,5] (controllers are not brokers)");
        }
        foreach (var node in cluster.Nodes.Where(n => !n.IsBroker))
            Assert.Null(node.Probe()); // controllers answer ApiVersions on their controller listener

        var topic = cluster.CreateTopic("split", partitions: 2, replicationFactor: 2);
        foreach (var p in topic.Partitions)
            Assert.True(p.Replicas.Order().SequenceEqual(new[] { 4, 5 }), $"RF=2 on brokers 4,5 expected: {topic}");
        AssertScriptOk(Confluent(cluster, null, "roundtrip", "--topic", "split", "--no-create", "--partitions", "2",
            "--codecs", "none", "--count", "100"), cluster, "roundtrip on the split cluster");

        // A real admin client sends CreateTopics to a broker (the ControllerId it is given is a broker): brokers
        // must forward it to the active controller.
        AssertScriptOk(Confluent(cluster, null, "create-topic", "--topic", "split-admin", "--partitions", "1"), cluster,
            "CreateTopics from confluent-kafka's AdminClient through a pure broker" +
            (cluster.CreatedViaControllerListener ? " (the fixture's own CreateTopics was only accepted on a controller listener)" : ""));
    }
}

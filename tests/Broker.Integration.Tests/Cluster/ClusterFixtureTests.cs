using Broker.Integration.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace Broker.Integration.Tests.Cluster;

/// <summary>
/// Checks the cluster test machinery itself on a one-node "cluster" (which every broker build supports): the
/// per-address config and ports, Metadata v7 / CreateTopics v2 over the wire, both failover producers, the
/// verifier and the analysis, including a kill -9 and restart of the only node in the middle of production.
/// </summary>
[Trait("Category", "Cluster")]
public sealed class ClusterFixtureTests : ClusterTest
{
    public ClusterFixtureTests(ITestOutputHelper output) : base(output) { }

    [Fact]
    public void OneNodeCluster_FixtureProducersAndVerifierWork()
    {
        var cluster = StartCluster("fixture", ClusterLayout.Combined(1));
        var md = cluster.Metadata(1);
        Assert.Equal("1@127.0.0.1:" + cluster.Node(1).KafkaPort, string.Join(",", md.Brokers.Select(b => $"{b.NodeId}@{b.Host}:{b.Port}")));
        Assert.Equal(1, cluster.WaitForController(TimeSpan.FromSeconds(5)));
        var topic = cluster.CreateTopic("fixture", partitions: 1, replicationFactor: 1);
        Assert.Equal(1, topic.Partitions[0].Leader);
        var unknown = cluster.Metadata(1, "no-such-topic").Topic("no-such-topic");
        Assert.True(unknown is null || unknown.ErrorCode != 0, $"Metadata v7 with auto-creation off must not create topics: {unknown}");

        string acked = Scratch("fx.acked"), errors = Scratch("fx.errors");
        using var producer = StartPythonProducer(cluster, "fixture", acked, errors, durationSeconds: 30);
        WaitForAcks(acked, 200, TimeSpan.FromSeconds(15), producer, cluster);
        long killedAt = cluster.Node(1).Kill();
        Thread.Sleep(300);
        cluster.Restart(1);
        WaitForAcks(acked, 100, TimeSpan.FromSeconds(20), producer, cluster, afterMs: killedAt);
        AssertScriptOk(StopProducer(producer), cluster, "librdkafka failover producer");
        var analysis = VerifyAcked(cluster, "fixture", acked, errors, killedAt, "one-node kill -9 and restart (librdkafka)");
        Assert.True(analysis.KillToRecoveryMs > 0);

        cluster.CreateTopic("fixture-js", partitions: 1, replicationFactor: 1);
        string jsAcked = Scratch("js.acked"), jsErrors = Scratch("js.errors");
        using var js = StartKafkaJsProducer(cluster, "fixture-js", jsAcked, jsErrors, durationSeconds: 30);
        WaitForAcks(jsAcked, 200, TimeSpan.FromSeconds(15), js, cluster);
        killedAt = cluster.Node(1).Kill();
        Thread.Sleep(300);
        cluster.Restart(1);
        WaitForAcks(jsAcked, 100, TimeSpan.FromSeconds(25), js, cluster, afterMs: killedAt);
        AssertScriptOk(StopProducer(js), cluster, "kafkajs failover producer");
        VerifyAcked(cluster, "fixture-js", jsAcked, jsErrors, killedAt, "one-node kill -9 and restart (kafkajs)");
    }
}

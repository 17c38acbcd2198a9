using Broker.Integration.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace Broker.Integration.Tests.Cluster;

/// <summary>
/// Whole-cluster and single-node restarts: after all three nodes are stopped and started again the topics and every
/// record are back; a node that was down while 5000 messages were written catches up, which is proven by stopping
/// another node afterwards and still getting acks=all writes through (the lagging node is then needed for a
/// majority, and Raft only lets it append once its log holds everything before).
/// </summary>
[Trait("Category", "Cluster")]
public sealed class ClusterRestartTests : ClusterTest
{
    public ClusterRestartTests(ITestOutputHelper output) : base(output) { }

    [Fact]
    public void FullClusterRestart_TopicsAndDataBack()
    {
        var cluster = StartCluster("full", ClusterLayout.Combined(3));
        cluster.CreateTopic("kept", partitions: 3, replicationFactor: 3);
        cluster.CreateTopic("kept-single", partitions: 1, replicationFactor: 3);
        string expected = Scratch("kept.expected"), expectedSingle = Scratch("kept-single.expected");
        AssertScriptOk(Confluent(cluster, null, "produce", "--topic", "kept", "--no-create", "--partitions", "3",
            "--codecs", "none", "--count", "300", "--expected-out", expected), cluster, "produce before the restart");
        AssertScriptOk(Confluent(cluster, null, "produce", "--topic", "kept-single", "--no-create", "--partitions", "1",
            "--codecs", "none", "--count", "100", "--expected-out", expectedSingle), cluster, "produce before the restart");

        cluster.StopAll();
        cluster.RestartAll();

        var kept = cluster.WaitForLeaders("kept", 3, TimeSpan.FromSeconds(30));
        Assert.All(kept.Partitions, p => Assert.Equal(3, p.Replicas.Length));
        cluster.WaitForLeaders("kept-single", 1, TimeSpan.FromSeconds(30));
        // cluster_verify.py, not confluent_scenario.py verify: after restarts a partition ends with leader-change
        // control batches, and only the former counts end-of-partition at the high watermark as complete.
        AssertScriptOk(VerifyExpected(cluster, expected), cluster, "verify 'kept' after the full restart");
        AssertScriptOk(VerifyExpected(cluster, expectedSingle), cluster, "verify 'kept-single' after the full restart");
    }

    [Fact]
    public void StoppedReplica_CatchesUp_AndIsNeededForAMajorityAfterwards()
    {
        var cluster = StartCluster("catchup", ClusterLayout.Combined(3));
        const string topic = "catchup";
        int leader = cluster.CreateTopic(topic, partitions: 1, replicationFactor: 3).Partitions[0].Leader;
        int x = cluster.Nodes.First(n => n.Id != leader).Id;
        cluster.Node(x).Stop();
        Output.WriteLine($"stopped follower {x} (leader {leader})");

        string acked = Scratch("catchup.acked"), errors = Scratch("catchup.errors");
        using (var producer = StartPythonProducer(cluster, topic, acked, errors, durationSeconds: 40, rate: 5000, count: 5000))
        {
            var result = Log(producer.WaitForExit(TimeSpan.FromSeconds(45)));
            var summary = AssertScriptOk(result, cluster, "producing 5000 messages while a replica is down");
            Assert.True(summary.GetProperty("acked").GetInt32() == 5000, $"expected 5000 acks: {result.Stdout}");
        }

        cluster.Restart(x);
        // Give the follower the chance to show up in the ISR (bounded; the majority check below is the real test).
        var caughtUp = WaitForIsr(cluster, topic, x, TimeSpan.FromSeconds(15));
        Output.WriteLine(caughtUp ? $"node {x} is back in the ISR" : $"node {x} not reported in the ISR after 15 s; checking by majority");

        // Stop a node other than x: only x and one other remain, so every acks=all write needs x's log.
        int y = cluster.Nodes.First(n => n.Id != x && n.IsRunning).Id;
        cluster.Node(y).Stop();
        cluster.WaitForLeaders(topic, 1, TimeSpan.FromSeconds(20));
        using (var producer = StartPythonProducer(cluster, topic, acked, errors, durationSeconds: 30, rate: 1000, count: 200, firstId: 5000))
        {
            var result = Log(producer.WaitForExit(TimeSpan.FromSeconds(40)));
            var summary = AssertScriptOk(result, cluster, $"producing with node {y} down (needs caught-up node {x})");
            Assert.True(summary.GetProperty("acked").GetInt32() == 200, $"expected 200 acks with {y} down: {result.Stdout}\n{cluster.DescribeState()}");
        }
        var analysis = VerifyAcked(cluster, topic, acked, errors, killTimeMs: 0, $"catch-up (node {x} restarted, node {y} stopped)");
        Assert.Equal(5200, analysis.Acked);
    }
}

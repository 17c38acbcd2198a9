using System.Diagnostics;
using Broker.Integration.Tests.Cluster;
using Broker.Integration.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace Broker.Integration.Tests.Http;

/// <summary>
/// Metrics of a three-node cluster (combined roles on 127.0.0.1-3), scraped from every node's Admin API: exactly
/// one node is the active controller and every node names it as the metadata quorum leader; each node counts three
/// brokers; after a produce to an RF=3 topic every replica reports the same high watermark and exactly one of them
/// leads the partition, and the leader's records-in counter equals what was produced.
/// </summary>
[Trait("Category", "Cluster")]
public sealed class MetricsClusterTests : ClusterTest
{
    private const string Topic = "metrics-rf3";
    private const int Count = 100;

    public MetricsClusterTests(ITestOutputHelper output) : base(output) { }

    [Fact]
    public void ThreeNodes_OneActiveController_ReplicasAgreeOnHighWatermark()
    {
        var cluster = StartCluster("metrics3", ClusterLayout.Combined(3));

        var controller = WaitFor("one active controller that every node names as the quorum leader", () =>
        {
            var scrapes = cluster.Nodes.ToDictionary(n => n.Id, n => MetricsScrape.Get(n.AdminUrl + "/metrics"));
            var active = scrapes.Where(s => s.Value.Value("broker_controller_active") == 1).Select(s => s.Key).ToList();
            var leaders = scrapes.Select(s => (int)s.Value.Value("broker_metadata_raft_leader_id")).Distinct().ToList();
            bool ok = active.Count == 1 && leaders.Count == 1 && leaders[0] == active[0]
                      && scrapes.Values.All(s => s.Value("broker_cluster_brokers") == 3 && s.Value("broker_metadata_raft_voter") == 1);
            return (ok, ok ? active[0] : -1, $"active [{string.Join(',', active)}], named leaders [{string.Join(',', leaders)}]");
        }, cluster);
        Output.WriteLine($"active controller: node {controller}");
        foreach (var node in cluster.Nodes)
        {
            var pub = MetricsScrape.Get(node.AdminUrl + "/public_metrics");
            Assert.Equal(node.Id == controller ? 1 : 0, pub.Value("broker_controller_active"));
        }

        cluster.CreateTopic(Topic, partitions: 1, replicationFactor: 3);
        AssertScriptOk(Confluent(cluster, null, "roundtrip", "--topic", Topic, "--no-create", "--partitions", "1",
            "--codecs", "none", "--count", Count.ToString()), cluster, "produce and consume on the RF=3 topic");

        var tp = new[] { ("topic", Topic), ("partition", "0") };
        int leader = WaitFor("every replica at high watermark " + Count + " and one leader", () =>
        {
            var scrapes = cluster.Nodes.ToDictionary(n => n.Id, n => MetricsScrape.Get(n.AdminUrl + "/metrics"));
            var marks = scrapes.Select(s => s.Value.TryValue("broker_partition_high_watermark", tp)).ToList();
            var leaders = scrapes.Where(s => s.Value.TryValue("broker_partition_leader", tp) == 1).Select(s => s.Key).ToList();
            bool ok = marks.All(m => m == Count) && leaders.Count == 1;
            return (ok, ok ? leaders[0] : -1, $"high watermarks [{string.Join(',', marks)}], leaders [{string.Join(',', leaders)}]");
        }, cluster);

        var atLeader = MetricsScrape.Get(cluster.Node(leader).AdminUrl + "/metrics");
        Assert.Equal(Count, atLeader.Value("broker_topic_records_in_total", ("topic", Topic)));
        Assert.True(atLeader.Value("broker_kafka_requests_total", ("api", "Produce")) >= 1);
        Assert.True(atLeader.Value("broker_topic_records_out_total", ("topic", Topic)) >= Count);
        foreach (var node in cluster.Nodes.Where(n => n.Id != leader))
        {
            // Followers replicate through Raft, not Produce: no records in, but the same data on disk.
            var follower = MetricsScrape.Get(node.AdminUrl + "/metrics");
            Assert.Equal(0, follower.TryValue("broker_topic_records_in_total", ("topic", Topic)) ?? 0);
            Assert.True(follower.Value("broker_partition_log_size_bytes", tp) > 0);
            Assert.Equal(0, follower.Value("broker_partition_leader", tp));
        }
    }

    /// <summary>Polls <paramref name="probe"/> (ok, result, description) until ok, at most 20 s.</summary>
    private static int WaitFor(string what, Func<(bool Ok, int Result, string State)> probe, ClusterProcess cluster)
    {
        var sw = Stopwatch.StartNew();
        string state = "not probed";
        while (sw.Elapsed < TimeSpan.FromSeconds(20))
        {
            var (ok, result, s) = probe();
            if (ok) return result;
            state = s;
            Thread.Sleep(250);
        }
        Assert.Fail($"no {what} within 20 s: {state}\n{cluster.DescribeState()}");
        return -1;
    }
}

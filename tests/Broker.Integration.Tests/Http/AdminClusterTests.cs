using System.Diagnostics;
using System.Net;
using Broker.Integration.Tests.Cluster;
using Broker.Integration.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace Broker.Integration.Tests.Http;

/// <summary>
/// The Admin API on a 3-node combined cluster: every node lists the same brokers and partitions as Kafka's Metadata;
/// transfer_leadership moves a partition's leadership (sent to the leader) or answers 307 to the leader's Admin API
/// (sent elsewhere, followed by hand); the controller itself moves through redpanda/controller/0.
/// </summary>
[Trait("Category", "Cluster")]
public sealed class AdminClusterTests : ClusterTest
{
    public AdminClusterTests(ITestOutputHelper output) : base(output) { }

    [Fact]
    public async Task BrokersPartitions_AndLeadershipTransfers()
    {
        var cluster = StartCluster("admin-cl", ClusterLayout.Combined(3));
        using var http = new AdminHttp();
        foreach (var node in cluster.Nodes) await http.WaitUpAsync(node.AdminUrl);
        var topic = cluster.CreateTopic("admin-moves", partitions: 1, replicationFactor: 3);
        // An elected leader (epoch > 0: the leader reported its Raft term) with every replica in sync, not just the placement.
        int leader = cluster.WaitForLeaders("admin-moves", 1, TimeSpan.FromSeconds(20), p => p.LeaderEpoch > 0 && p.Isr.Length == 3).Partitions[0].Leader;

        foreach (var node in cluster.Nodes)
        {
            var brokers = await http.GetOkAsync(node.AdminUrl, "/v1/brokers");
            Assert.Equal([1, 2, 3], brokers.EnumerateArray().Select(b => b.GetProperty("node_id").GetInt32()));
            Assert.All(brokers.EnumerateArray(), b => Assert.Equal($"127.0.0.{b.GetProperty("node_id").GetInt32()}",
                b.GetProperty("internal_rpc_address").GetString()));
            var p = await WaitPartitionLeaderAsync(http, node.AdminUrl, "admin-moves", l => l == leader, cluster);
            Assert.Equal(topic.Partitions[0].Replicas, p.GetProperty("replicas").EnumerateArray().Select(r => r.GetProperty("node_id").GetInt32()));
        }

        // Sent to a node that does not lead: 307 to the leader's Admin API (same port, leader's address).
        int target = topic.Partitions[0].Replicas.First(r => r != leader);
        int bystander = topic.Partitions[0].Replicas.First(r => r != leader && r != target);
        string path = $"/v1/partitions/kafka/admin-moves/0/transfer_leadership?target={target}";
        var redirect = await http.SendAsync(cluster.Node(bystander).AdminUrl, HttpMethod.Post, path);
        AdminHttp.AssertError(redirect, HttpStatusCode.TemporaryRedirect, $"led by node {leader}");
        var location = redirect.Response.Headers.Location!;
        Assert.Equal(cluster.Node(leader).AdminUrl, $"{location.Scheme}://{location.Authority}");

        // Following it by hand moves the leadership.
        var moved = await http.SendAsync(location.GetLeftPart(UriPartial.Authority), HttpMethod.Post, location.PathAndQuery);
        Assert.True(moved.Status == HttpStatusCode.OK, moved.ToString());
        var sw = Stopwatch.StartNew();
        await WaitPartitionLeaderAsync(http, cluster.Node(bystander).AdminUrl, "admin-moves", l => l == target, cluster);
        cluster.WaitForLeaders("admin-moves", 1, TimeSpan.FromSeconds(10), p => p.Leader == target); // Kafka clients see it too
        Report($"partition leadership {leader} -> {target} visible in the Admin API after {sw.ElapsedMilliseconds} ms");

        // The controller moves the same way.
        int controller = await ControllerAsync(http, cluster.Node(1).AdminUrl);
        int newController = controller % 3 + 1;
        var refuse = await http.SendAsync(cluster.Node(controller).AdminUrl, HttpMethod.Post,
            "/v1/partitions/redpanda/controller/0/transfer_leadership?target=9");
        AdminHttp.AssertError(refuse, HttpStatusCode.BadRequest, "not a voter");
        var ok = await http.SendAsync(cluster.Node(controller).AdminUrl, HttpMethod.Post,
            $"/v1/partitions/redpanda/controller/0/transfer_leadership?target={newController}");
        Assert.True(ok.Status == HttpStatusCode.OK, ok.ToString());
        sw.Restart();
        while (true)
        {
            var ids = new List<int>();
            foreach (var node in cluster.Nodes) ids.Add(await ControllerAsync(http, node.AdminUrl));
            if (ids.All(id => id == newController)) break;
            Assert.True(sw.Elapsed < TimeSpan.FromSeconds(10), $"controller not moved to {newController}: [{string.Join(",", ids)}]\n{cluster.DescribeState()}");
            await Task.Delay(100);
        }
        Report($"controller {controller} -> {newController} on every node after {sw.ElapsedMilliseconds} ms");
        cluster.CreateTopic("after-controller-move", partitions: 1, replicationFactor: 3); // the new controller works
    }

    private static async Task<int> ControllerAsync(AdminHttp http, string url) =>
        (await http.GetOkAsync(url, "/v1/cluster/health_overview")).GetProperty("controller_id").GetInt32();

    private static async Task<System.Text.Json.JsonElement> WaitPartitionLeaderAsync(AdminHttp http, string url, string topic,
        Func<int, bool> accept, ClusterProcess cluster)
    {
        var sw = Stopwatch.StartNew();
        while (true)
        {
            // A node whose metadata has not caught up with the topic's creation yet answers 404 for a moment.
            var a = await http.GetAsync(url, $"/v1/partitions/kafka/{topic}/0");
            Assert.True(a.Status is HttpStatusCode.OK or HttpStatusCode.NotFound, $"{url}: {a}");
            if (a.Status == HttpStatusCode.OK && accept(a.Body.GetProperty("leader_id").GetInt32())) return a.Body;
            Assert.True(sw.Elapsed < TimeSpan.FromSeconds(15), $"{url}: partition {topic}/0 leader not as expected: {a}\n{cluster.DescribeState()}");
            await Task.Delay(100);
        }
    }

    private void Report(string line)
    {
        Output.WriteLine($"[admin-cluster] {line}");
        Console.WriteLine($"[admin-cluster] {line}");
    }
}

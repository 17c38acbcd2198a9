using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Broker.Integration.Tests.Cluster;
using Broker.Integration.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace Broker.Integration.Tests.Http;

/// <summary>
/// Morio's contract with its broker (GET /v1/cluster/health_overview, 1.5 s client timeout): a new 3-node combined
/// cluster turns healthy on every node; after kill -9 of one node the survivors report it in nodes_down and (when it
/// was the controller) the new controller_id within seconds, every answer well under 1.5 s; after the node returns
/// the cluster is healthy again. Short broker sessions (3 s) so fencing, which followers learn from, is quick.
/// </summary>
[Trait("Category", "Cluster")]
public sealed class MorioHealthTests : ClusterTest
{
    private static readonly Dictionary<string, string> FastSessions = new()
    {
        ["broker.session.timeout.ms"] = "3000",
        ["broker.heartbeat.interval.ms"] = "500",
    };

    public MorioHealthTests(ITestOutputHelper output) : base(output) { }

    [Fact]
    public async Task ControllerKill9_SurvivorsReportItDown_AndTheNewController()
    {
        var cluster = StartCluster("morio-ctl", ClusterLayout.Combined(3), FastSessions);
        using var http = new AdminHttp(TimeSpan.FromMilliseconds(1500)); // Morio's axios timeout
        foreach (var node in cluster.Nodes) await http.WaitUpAsync(node.AdminUrl);
        cluster.CreateTopic("morio-logs", partitions: 3, replicationFactor: 3);
        await WaitAllAsync(cluster, http, h => h.GetProperty("is_healthy").GetBoolean(), "healthy at start", TimeSpan.FromSeconds(30));
        int controller = await AgreedControllerAsync(cluster, http);

        cluster.Node(controller).Kill();
        var sw = Stopwatch.StartNew();
        var (took, maxLatency) = await WaitAllAsync(cluster, http,
            h => AdminHttp.Ints(h.GetProperty("nodes_down")).SequenceEqual([controller])
                 && h.GetProperty("controller_id").GetInt32() is int c && c != controller && c > 0
                 && AdminHttp.Ints(h.GetProperty("all_nodes")).SequenceEqual([1, 2, 3])
                 && !h.GetProperty("is_healthy").GetBoolean(),
            $"nodes_down=[{controller}] and a new controller", TimeSpan.FromSeconds(20));
        int next = await AgreedControllerAsync(cluster, http);
        Assert.NotEqual(controller, next);
        Report($"controller {controller} killed: survivors report nodes_down=[{controller}] and controller {next} after {took} ms " +
               $"(slowest answer {maxLatency:F0} ms)");

        cluster.Restart(controller);
        await http.WaitUpAsync(cluster.Node(controller).AdminUrl);
        var (back, _) = await WaitAllAsync(cluster, http, h => h.GetProperty("is_healthy").GetBoolean() && h.GetProperty("nodes_down").GetArrayLength() == 0,
            "healthy again after the restart", TimeSpan.FromSeconds(40));
        Report($"node {controller} restarted: every node healthy after {back} ms");
    }

    [Fact]
    public async Task FollowerKill9_SurvivorsReportItDown_ControllerUnchanged()
    {
        var cluster = StartCluster("morio-fol", ClusterLayout.Combined(3), FastSessions);
        using var http = new AdminHttp(TimeSpan.FromMilliseconds(1500));
        foreach (var node in cluster.Nodes) await http.WaitUpAsync(node.AdminUrl);
        await WaitAllAsync(cluster, http, h => h.GetProperty("is_healthy").GetBoolean(), "healthy at start", TimeSpan.FromSeconds(30));
        int controller = await AgreedControllerAsync(cluster, http);
        int victim = controller % 3 + 1;

        cluster.Node(victim).Kill();
        var (took, maxLatency) = await WaitAllAsync(cluster, http,
            h => AdminHttp.Ints(h.GetProperty("nodes_down")).SequenceEqual([victim]) && h.GetProperty("controller_id").GetInt32() == controller
                 && h.GetProperty("unhealthy_reasons").EnumerateArray().Any(r => r.GetString() == "nodes_down"),
            $"nodes_down=[{victim}], controller still {controller}", TimeSpan.FromSeconds(20));
        Report($"follower {victim} killed: survivors report it down after {took} ms (slowest answer {maxLatency:F0} ms)");

        // The broker list agrees: the killed node is registered but not alive.
        foreach (var node in cluster.Nodes.Where(n => n.IsRunning))
        {
            var brokers = await http.GetOkAsync(node.AdminUrl, "/v1/brokers");
            var dead = brokers.EnumerateArray().Single(b => b.GetProperty("node_id").GetInt32() == victim);
            Assert.False(dead.GetProperty("is_alive").GetBoolean(), dead.ToString());
        }
    }

    /// <summary>
    /// Polls health_overview on every running node until <paramref name="accept"/> holds on all of them; every answer
    /// must be a 200 within 1.5 s. Returns the time it took (ms) and the slowest answer (ms).
    /// </summary>
    private async Task<(long TookMs, double MaxLatencyMs)> WaitAllAsync(ClusterProcess cluster, AdminHttp http, Func<JsonElement, bool> accept,
        string what, TimeSpan timeout)
    {
        var sw = Stopwatch.StartNew();
        double max = 0;
        var last = new Dictionary<int, string>();
        while (true)
        {
            bool all = true;
            foreach (var node in cluster.Nodes.Where(n => n.IsRunning))
            {
                AdminAnswer a;
                try
                {
                    a = await http.GetAsync(node.AdminUrl, "/v1/cluster/health_overview");
                }
                catch (TaskCanceledException)
                {
                    Assert.Fail($"node {node.Id}: health_overview did not answer within 1.5 s ({what})\n{cluster.DescribeState()}");
                    throw;
                }
                max = Math.Max(max, a.Took.TotalMilliseconds);
                Assert.True(a.Status == HttpStatusCode.OK, $"node {node.Id}: {a}");
                Assert.True(a.Took < TimeSpan.FromMilliseconds(1500), $"node {node.Id}: health_overview took {a.Took.TotalMilliseconds:F0} ms");
                last[node.Id] = a.Text;
                if (!accept(a.Body)) all = false;
            }
            if (all) return (sw.ElapsedMilliseconds, max);
            if (sw.Elapsed > timeout)
                Assert.Fail($"not {what} within {timeout.TotalSeconds:F0} s; last answers:\n" +
                            string.Join("\n", last.Select(kv => $"  node {kv.Key}: {kv.Value}")) + $"\n{cluster.DescribeState()}");
            await Task.Delay(200);
        }
    }

    /// <summary>The controller_id every running node reports (waits until they agree on a running node).</summary>
    private async Task<int> AgreedControllerAsync(ClusterProcess cluster, AdminHttp http)
    {
        int agreed = -1;
        await WaitAllAsync(cluster, http, _ => true, "answering", TimeSpan.FromSeconds(5));
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < TimeSpan.FromSeconds(15))
        {
            var ids = new HashSet<int>();
            foreach (var node in cluster.Nodes.Where(n => n.IsRunning))
                ids.Add((await http.GetOkAsync(node.AdminUrl, "/v1/partitions/redpanda/controller/0")).GetProperty("leader_id").GetInt32());
            if (ids.Count == 1 && ids.First() is int id && id > 0 && cluster.Node(id).IsRunning)
            {
                agreed = id;
                break;
            }
            await Task.Delay(200);
        }
        Assert.True(agreed > 0, $"the nodes do not agree on a controller\n{cluster.DescribeState()}");
        int kafkaView = cluster.WaitForController(TimeSpan.FromSeconds(10));
        Assert.Equal(kafkaView, agreed); // the Admin API and Kafka's Metadata name the same controller
        return agreed;
    }

    private void Report(string line)
    {
        Output.WriteLine($"[morio-health] {line}");
        Console.WriteLine($"[morio-health] {line}");
    }
}

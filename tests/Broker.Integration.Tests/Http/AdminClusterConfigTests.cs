using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Broker.Integration.Tests.Cluster;
using Broker.Integration.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace Broker.Integration.Tests.Http;

/// <summary>
/// PUT /v1/cluster_config on a 3-node combined cluster, sent to a node that is not the active controller: the change
/// is forwarded to the controller, written to the metadata log, and every node's GET /v1/cluster_config shows it; a
/// following "remove" puts every node back on the default.
/// </summary>
[Trait("Category", "Cluster")]
public sealed class AdminClusterConfigTests : ClusterTest
{
    private const string Key = "log.retention.ms";
    private const long NewValue = 3_600_000;
    private static readonly TimeSpan Propagation = TimeSpan.FromSeconds(15);

    public AdminClusterConfigTests(ITestOutputHelper output) : base(output) { }

    [Fact]
    public async Task PutOnANonController_ReachesEveryNode_AndRemoveRestoresTheDefault()
    {
        var cluster = StartCluster("admin-cfg", ClusterLayout.Combined(3));
        using var http = new AdminHttp(TimeSpan.FromSeconds(15));
        foreach (var node in cluster.Nodes) await http.WaitUpAsync(node.AdminUrl);

        int controller = await AgreedControllerAsync(http, cluster);
        var target = cluster.Nodes.First(n => n.Id != controller);
        Report($"active controller {controller}; sending the PUT to node {target.Id}");

        var defaults = new Dictionary<int, long>();
        foreach (var node in cluster.Nodes)
        {
            var all = await http.GetOkAsync(node.AdminUrl, "/v1/cluster_config");
            defaults[node.Id] = all.GetProperty(Key).GetInt64();
            Assert.NotEqual(NewValue, defaults[node.Id]);
            Assert.False((await http.GetOkAsync(node.AdminUrl, "/v1/cluster_config?include_defaults=false")).TryGetProperty(Key, out _));
        }

        var put = await http.SendAsync(target.AdminUrl, HttpMethod.Put, "/v1/cluster_config", $"{{\"upsert\":{{\"{Key}\":{NewValue}}}}}");
        Assert.True(put.Status == HttpStatusCode.OK, $"PUT on node {target.Id}: {put}");
        long version = put.Body.GetProperty("config_version").GetInt64();
        Assert.True(version >= 0, put.ToString());

        var sw = Stopwatch.StartNew();
        await WaitAllAsync(http, cluster, "the upsert", body => body.TryGetProperty(Key, out var v) && v.GetInt64() == NewValue, explicitOnly: true);
        foreach (var node in cluster.Nodes)
            Assert.Equal(NewValue, (await http.GetOkAsync(node.AdminUrl, $"/v1/cluster_config?key={Key}")).GetProperty(Key).GetInt64());
        Report($"upsert visible on every node after {sw.ElapsedMilliseconds} ms");

        var remove = await http.SendAsync(target.AdminUrl, HttpMethod.Put, "/v1/cluster_config", $"{{\"remove\":[\"{Key}\"]}}");
        Assert.True(remove.Status == HttpStatusCode.OK, $"remove on node {target.Id}: {remove}");
        Assert.True(remove.Body.GetProperty("config_version").GetInt64() > version, remove.ToString());

        sw.Restart();
        await WaitAllAsync(http, cluster, "the remove", body => !body.TryGetProperty(Key, out _), explicitOnly: true);
        foreach (var node in cluster.Nodes)
        {
            var all = await http.GetOkAsync(node.AdminUrl, "/v1/cluster_config");
            Assert.Equal(defaults[node.Id], all.GetProperty(Key).GetInt64());
        }
        Report($"remove visible on every node after {sw.ElapsedMilliseconds} ms");
    }

    /// <summary>The controller id every node's health_overview agrees on (waited for).</summary>
    private static async Task<int> AgreedControllerAsync(AdminHttp http, ClusterProcess cluster)
    {
        var sw = Stopwatch.StartNew();
        while (true)
        {
            var ids = new List<int>();
            foreach (var node in cluster.Nodes)
                ids.Add((await http.GetOkAsync(node.AdminUrl, "/v1/cluster/health_overview")).GetProperty("controller_id").GetInt32());
            if (ids[0] > 0 && ids.All(id => id == ids[0])) return ids[0];
            Assert.True(sw.Elapsed < Propagation, $"nodes do not agree on a controller: [{string.Join(",", ids)}]\n{cluster.DescribeState()}");
            await Task.Delay(100);
        }
    }

    /// <summary>Polls GET /v1/cluster_config on every node until <paramref name="accept"/> holds on all (≤ 15 s).</summary>
    private static async Task WaitAllAsync(AdminHttp http, ClusterProcess cluster, string what, Func<JsonElement, bool> accept, bool explicitOnly)
    {
        string path = explicitOnly ? "/v1/cluster_config?include_defaults=false" : "/v1/cluster_config";
        var sw = Stopwatch.StartNew();
        while (true)
        {
            var pending = new List<string>();
            foreach (var node in cluster.Nodes)
            {
                var body = await http.GetOkAsync(node.AdminUrl, path);
                if (!accept(body)) pending.Add($"node {node.Id}: {body}");
            }
            if (pending.Count == 0) return;
            Assert.True(sw.Elapsed < Propagation,
                $"{what} not visible within {Propagation.TotalSeconds:F0} s on:\n{string.Join("\n", pending)}\n{cluster.DescribeState()}");
            await Task.Delay(100);
        }
    }

    private void Report(string line)
    {
        Output.WriteLine($"[admin-cluster-config] {line}");
        Console.WriteLine($"[admin-cluster-config] {line}");
    }
}

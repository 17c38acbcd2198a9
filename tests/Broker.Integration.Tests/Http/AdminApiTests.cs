using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Broker.Integration.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace Broker.Integration.Tests.Http;

/// <summary>
/// The Admin API of the published binary, single node, through real HTTP: every endpoint's shape and values against
/// what the Kafka side reports, the errors (unknown paths, wrong methods, bad bodies and content types, oversized
/// bodies, bad parameters), leadership transfer on a one-replica partition, cluster_config through the metadata log,
/// and a port clash failing the start-up with exit code 1.
/// </summary>
[Trait("Category", "Http")]
public sealed class AdminApiTests : IntegrationTest
{
    public AdminApiTests(ITestOutputHelper output) : base(output) { }

    [Fact]
    public async Task ReadEndpoints_MatchTheKafkaView()
    {
        var broker = StartBroker("admin-read");
        using var http = new AdminHttp();
        string url = broker.AdminUrl;
        await WaitReadyAsync(http, url);
        Assert.Equal(0, ClusterWire.CreateTopic("127.0.0.1", broker.Port, "admin-t", 3, 1, null, TimeSpan.FromSeconds(10)).Error);
        var md = ClusterWire.Metadata("127.0.0.1", broker.Port, ["admin-t"], TimeSpan.FromSeconds(5));

        var health = await WaitHealthyAsync(http, url);
        Assert.Equal(1, health.GetProperty("controller_id").GetInt32());
        Assert.Equal([1], AdminHttp.Ints(health.GetProperty("all_nodes")));
        foreach (string list in new[] { "unhealthy_reasons", "nodes_down", "leaderless_partitions", "under_replicated_partitions" })
            Assert.Equal(0, health.GetProperty(list).GetArrayLength());

        var brokers = await http.GetOkAsync(url, "/v1/brokers");
        var b = Assert.Single(brokers.EnumerateArray());
        Assert.Equal(1, b.GetProperty("node_id").GetInt32());
        Assert.True(b.GetProperty("is_alive").GetBoolean());
        Assert.Equal("active", b.GetProperty("membership_status").GetString());
        Assert.StartsWith("v", b.GetProperty("version").GetString());
        Assert.Equal(broker.Port, b.GetProperty("internal_rpc_port").GetInt32());
        Assert.Equal(1, (await http.GetOkAsync(url, "/v1/brokers/1")).GetProperty("node_id").GetInt32());
        AdminHttp.AssertError(await http.GetAsync(url, "/v1/brokers/9"), HttpStatusCode.NotFound, "broker 9 not found");

        var p = await http.GetOkAsync(url, "/v1/partitions/kafka/admin-t/2");
        Assert.Equal(md.Topic("admin-t")!.Partitions[2].Leader, p.GetProperty("leader_id").GetInt32());
        Assert.Equal("[{\"node_id\":1,\"core\":0}]", p.GetProperty("replicas").GetRawText());
        var controller = await http.GetOkAsync(url, "/v1/partitions/redpanda/controller/0");
        Assert.Equal(1, controller.GetProperty("leader_id").GetInt32());
        Assert.Equal(0, controller.GetProperty("raft_group_id").GetInt32());
        var all = await http.GetOkAsync(url, "/v1/cluster/partitions");
        Assert.Equal(3, all.EnumerateArray().Count(e => e.GetProperty("topic").GetString() == "admin-t"));

        Assert.Equal(md.ClusterId, (await http.GetOkAsync(url, "/v1/cluster/uuid")).GetProperty("cluster_uuid").GetString());
        var node = await http.GetOkAsync(url, "/v1/node_config");
        Assert.Equal(1, node.GetProperty("node_id").GetInt32());
        Assert.Equal(Path.GetFullPath(broker.DataDir), node.GetProperty("data_directory").GetString());
        Assert.Equal($"[{{\"address\":\"127.0.0.1\",\"port\":{broker.AdminPort}}}]", node.GetProperty("admin").GetRawText());
        Assert.Equal(broker.Port, node.GetProperty("kafka_api")[0].GetProperty("port").GetInt32());

        var latencies = new List<double>();
        for (int i = 0; i < 20; i++) latencies.Add((await http.GetAsync(url, "/v1/cluster/health_overview")).Took.TotalMilliseconds);
        latencies.Sort();
        string line = $"[admin-api] single node health_overview: median {latencies[10]:F1} ms, max {latencies[^1]:F1} ms";
        Output.WriteLine(line);
        Console.WriteLine(line);
        Assert.True(latencies[^1] < 1500, line);
    }

    [Fact]
    public async Task Metrics_ArePrometheusText()
    {
        var broker = StartBroker("admin-metrics");
        using var http = new AdminHttp();
        await http.WaitUpAsync(broker.AdminUrl);
        foreach (string path in new[] { "/metrics", "/public_metrics" })
        {
            var a = await http.GetAsync(broker.AdminUrl, path);
            Assert.True(a.Status == HttpStatusCode.OK, $"{path}: {a}");
            Assert.Equal("text/plain; version=0.0.4; charset=utf-8", a.ContentType);
            Assert.Contains("# TYPE ", a.Text);
        }
    }

    [Fact]
    public async Task BadRequests_GetJsonErrors_AndTheBrokerKeepsServing()
    {
        var broker = StartBroker("admin-errors");
        using var http = new AdminHttp();
        string url = broker.AdminUrl;
        await WaitReadyAsync(http, url);
        Assert.Equal(0, ClusterWire.CreateTopic("127.0.0.1", broker.Port, "err-t", 1, 1, null, TimeSpan.FromSeconds(10)).Error);

        AdminHttp.AssertError(await http.GetAsync(url, "/v1/does/not/exist"), HttpStatusCode.NotFound, "no such endpoint");
        AdminHttp.AssertError(await http.SendAsync(url, HttpMethod.Delete, "/v1/brokers"), HttpStatusCode.MethodNotAllowed, "not allowed");
        AdminHttp.AssertError(await http.SendAsync(url, HttpMethod.Post, "/v1/cluster_config", "{}"), HttpStatusCode.MethodNotAllowed, "not allowed");
        AdminHttp.AssertError(await http.SendAsync(url, HttpMethod.Put, "/v1/cluster_config", "{\"upsert\": {"), HttpStatusCode.BadRequest, "not valid JSON");
        AdminHttp.AssertError(await http.SendAsync(url, HttpMethod.Put, "/v1/cluster_config", "[1,2]"), HttpStatusCode.BadRequest, "must be a JSON object");
        AdminHttp.AssertError(await http.SendAsync(url, HttpMethod.Put, "/v1/cluster_config", "{\"upsert\":{\"a\":1}}", "text/plain"),
            HttpStatusCode.UnsupportedMediaType, "application/json");
        string huge = "{\"upsert\":{\"a\":\"" + new string('x', 2 * 1024 * 1024) + "\"}}";
        AdminHttp.AssertError(await http.SendAsync(url, HttpMethod.Put, "/v1/cluster_config", huge), HttpStatusCode.RequestEntityTooLarge, "larger than");
        AdminHttp.AssertError(await http.GetAsync(url, "/v1/partitions/kafka/err-t/x"), HttpStatusCode.BadRequest, "partition id");
        AdminHttp.AssertError(await http.GetAsync(url, "/v1/partitions/kafka/nope/0"), HttpStatusCode.NotFound, "not found");

        const string transfer = "/v1/partitions/kafka/err-t/0/transfer_leadership";
        AdminHttp.AssertError(await http.SendAsync(url, HttpMethod.Post, "/v1/partitions/kafka/nope/0/transfer_leadership?target=1"),
            HttpStatusCode.NotFound, "not found");
        AdminHttp.AssertError(await http.SendAsync(url, HttpMethod.Post, transfer + "?target=5"), HttpStatusCode.BadRequest, "not a replica");
        AdminHttp.AssertError(await http.SendAsync(url, HttpMethod.Post, transfer + "?target=x"), HttpStatusCode.BadRequest, "target must be");
        AdminHttp.AssertError(await http.SendAsync(url, HttpMethod.Post, transfer), HttpStatusCode.BadRequest, "no other in-sync replica");
        Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(url, HttpMethod.Post, transfer + "?target=1")).Status); // already leads

        // Bytes that are not HTTP at all (a Kafka client on the wrong port): answered 400 and closed, nothing else.
        using (var socket = KafkaWire.Connect(broker.AdminPort, TimeSpan.FromSeconds(5)))
        {
            socket.Send(KafkaWire.ApiVersionsV0(1));
            Assert.Null(KafkaWire.WaitForClose(socket, TimeSpan.FromSeconds(5)));
        }
        Assert.True(broker.IsRunning, broker.DescribeState());
        Assert.Equal("ready", (await http.GetOkAsync(url, "/v1/status/ready")).GetProperty("status").GetString());
    }

    [Fact]
    public async Task ClusterConfig_PutThenGet_ThroughTheMetadataLog()
    {
        var broker = StartBroker("admin-config");
        using var http = new AdminHttp(TimeSpan.FromSeconds(15));
        string url = broker.AdminUrl;
        await WaitReadyAsync(http, url);

        var put = await http.SendAsync(url, HttpMethod.Put, "/v1/cluster_config", "{\"upsert\":{\"log.retention.ms\":3600000}}");
        Assert.True(put.Status == HttpStatusCode.OK, put.ToString());
        long version = put.Body.GetProperty("config_version").GetInt64();
        Assert.True(version >= 0, put.ToString());
        var set = await http.GetOkAsync(url, "/v1/cluster_config?include_defaults=false");
        Assert.Equal(3600000, set.GetProperty("log.retention.ms").GetInt64());
        var one = await http.GetOkAsync(url, "/v1/cluster_config?key=log.retention.ms");
        Assert.Equal(3600000, one.GetProperty("log.retention.ms").GetInt64());

        AdminHttp.AssertError(await http.SendAsync(url, HttpMethod.Put, "/v1/cluster_config", "{\"upsert\":{\"no.such.property\":1}}"),
            HttpStatusCode.BadRequest, "no.such.property");
        var dry = await http.SendAsync(url, HttpMethod.Put, "/v1/cluster_config?dry_run=true", "{\"remove\":[\"log.retention.ms\"]}");
        Assert.True(dry.Status == HttpStatusCode.OK, dry.ToString());
        Assert.True((await http.GetOkAsync(url, "/v1/cluster_config?include_defaults=false")).TryGetProperty("log.retention.ms", out _));

        var remove = await http.SendAsync(url, HttpMethod.Put, "/v1/cluster_config", "{\"remove\":[\"log.retention.ms\"]}");
        Assert.True(remove.Status == HttpStatusCode.OK, remove.ToString());
        Assert.True(remove.Body.GetProperty("config_version").GetInt64() > version, remove.ToString());
        Assert.False((await http.GetOkAsync(url, "/v1/cluster_config?include_defaults=false")).TryGetProperty("log.retention.ms", out _));
        Assert.True((await http.GetOkAsync(url, "/v1/cluster_config")).TryGetProperty("log.retention.ms", out _)); // default listed
    }

    [Fact]
    public void AdminPortInUse_StartupFails_WithExitCode1AndAClearMessage()
    {
        using var blocker = new TcpListener(IPAddress.Loopback, 0);
        blocker.Start();
        int adminPort = ((IPEndPoint)blocker.LocalEndpoint).Port;
        var (port, controllerPort) = BrokerProcess.FreePortPair();
        string dir = Scratch("port-clash");
        Directory.CreateDirectory(dir);
        string config = Path.Combine(dir, "server.properties");
        File.WriteAllText(config, BrokerProcess.ConfigText(port, controllerPort, adminPort, BrokerProcess.FreePort(), Path.Combine(dir, "data")));
        var psi = new ProcessStartInfo(TestPaths.BrokerBin, ["start", "--config", config]) { RedirectStandardError = true, RedirectStandardOutput = true };
        using var process = Process.Start(psi)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEndAsync();
        if (!process.WaitForExit(20_000))
        {
            process.Kill();
            Assert.Fail("the broker kept running although its Admin API port was taken");
        }
        string log = stderr.Result + stdout.Result;
        Output.WriteLine(log);
        Assert.Equal(1, process.ExitCode);
        Assert.Contains($"cannot start the Admin API on http://127.0.0.1:{adminPort}", log);
        Assert.Contains("in use", log);
    }

    private static async Task WaitReadyAsync(AdminHttp http, string url)
    {
        await http.WaitUpAsync(url);
        var sw = Stopwatch.StartNew();
        while (true)
        {
            var a = await http.GetAsync(url, "/v1/status/ready");
            Assert.Equal(HttpStatusCode.OK, a.Status);
            string? status = a.Body.GetProperty("status").GetString();
            Assert.True(status is "ready" or "booting", a.ToString());
            if (status == "ready") return;
            Assert.True(sw.Elapsed < TimeSpan.FromSeconds(15), $"still booting after 15 s: {a}");
            await Task.Delay(100);
        }
    }

    private static async Task<System.Text.Json.JsonElement> WaitHealthyAsync(AdminHttp http, string url)
    {
        var sw = Stopwatch.StartNew();
        while (true)
        {
            var h = await http.GetOkAsync(url, "/v1/cluster/health_overview");
            if (h.GetProperty("is_healthy").GetBoolean()) return h;
            Assert.True(sw.Elapsed < TimeSpan.FromSeconds(15), $"not healthy after 15 s: {h}");
            await Task.Delay(100);
        }
    }
}

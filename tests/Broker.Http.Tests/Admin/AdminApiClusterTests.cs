using System.Net;
using System.Text.Json;
using Broker.Core.Metrics;
using Xunit;
using static Broker.Http.Tests.Admin.FakeAdminBackend;

namespace Broker.Http.Tests.Admin;

/// <summary>The read endpoints over real HTTP: exact JSON keys and values for status, health, brokers, partitions,
/// cluster uuid, node config and metrics.</summary>
public sealed class AdminApiClusterTests : AdminServerTest
{
    [Fact]
    public async Task Ready_SaysBootingThenReady_Both200()
    {
        Backend.IsReady = false;
        var r = await GetAsync("/v1/status/ready");
        Assert.Equal(HttpStatusCode.OK, r.Status);
        Assert.Equal("""{"status":"booting"}""", r.Body.GetRawText());
        Backend.IsReady = true;
        Assert.Equal("""{"status":"ready"}""", (await GetAsync("/v1/status/ready")).Body.GetRawText());
        Assert.Equal("""{"status":"ready"}""", (await GetAsync("/status")).Body.GetRawText());
    }

    [Fact]
    public async Task HealthOverview_HasEveryKey_ListsEvenWhenEmpty()
    {
        var r = await GetAsync("/v1/cluster/health_overview");
        Assert.Equal(HttpStatusCode.OK, r.Status);
        Assert.Equal(
            """{"is_healthy":true,"unhealthy_reasons":[],"controller_id":2,"all_nodes":[1,2,3],"nodes_down":[],"nodes_in_recovery_mode":[],"leaderless_partitions":[],"leaderless_count":0,"under_replicated_partitions":[],"under_replicated_count":0,"bytes_in_cloud_storage":-1}""",
            r.Body.GetRawText());
    }

    [Fact]
    public async Task HealthOverview_NodeDown_AndNoController()
    {
        Backend.Cluster = ThreeNodes(b => b.NodeId == 3 ? b with { Fenced = true } : b,
            [P(0, 3, [3, 1, 2], [1, 2])], controller: -1);
        var body = (await GetAsync("/v1/cluster/health_overview")).Body;
        Assert.False(body.GetProperty("is_healthy").GetBoolean());
        Assert.Equal(-1, body.GetProperty("controller_id").GetInt32());
        Assert.Equal("[3]", body.GetProperty("nodes_down").GetRawText());
        Assert.Equal("""["kafka/orders/0"]""", body.GetProperty("leaderless_partitions").GetRawText());
        Assert.Equal("""["kafka/orders/0"]""", body.GetProperty("under_replicated_partitions").GetRawText());
        Assert.Equal("""["nodes_down","leaderless_partitions","under_replicated_partitions","no_elected_controller"]""",
            body.GetProperty("unhealthy_reasons").GetRawText());
    }

    [Fact]
    public async Task Brokers_ListEveryRegisteredBroker_LocalOneWithCoresAndDisk()
    {
        Backend.Cluster = ThreeNodes(b => b.NodeId == 2 ? b with { Fenced = true, InControlledShutdown = true, Rack = "r2" } : b);
        var list = (await GetAsync("/v1/brokers")).Body.EnumerateArray().ToArray();
        Assert.Equal([1, 2, 3], list.Select(b => b.GetProperty("node_id").GetInt32()));
        var local = list[0];
        Assert.Equal(Environment.ProcessorCount, local.GetProperty("num_cores").GetInt32());
        Assert.Equal("active", local.GetProperty("membership_status").GetString());
        Assert.True(local.GetProperty("is_alive").GetBoolean());
        Assert.Equal("v9.9.9 - test", local.GetProperty("version").GetString());
        Assert.Equal("127.0.0.1", local.GetProperty("internal_rpc_address").GetString());
        Assert.Equal(9092, local.GetProperty("internal_rpc_port").GetInt32());
        Assert.Equal("""[{"path":"/data/kafka","free":1000,"total":4000}]""", local.GetProperty("disk_space").GetRawText());
        Assert.False(local.TryGetProperty("rack", out _));
        var fenced = list[1];
        Assert.False(fenced.GetProperty("is_alive").GetBoolean());
        Assert.Equal("r2", fenced.GetProperty("rack").GetString());
        Assert.True(fenced.GetProperty("maintenance_status").GetProperty("draining").GetBoolean());
        Assert.False(fenced.TryGetProperty("disk_space", out _));
    }

    [Fact]
    public async Task Broker_ById_OrNotFound()
    {
        var r = await GetAsync("/v1/brokers/3");
        Assert.Equal(HttpStatusCode.OK, r.Status);
        Assert.Equal(3, r.Body.GetProperty("node_id").GetInt32());
        Assert.Equal("127.0.0.3", r.Body.GetProperty("internal_rpc_address").GetString());
        Assert.True(r.Body.TryGetProperty("maintenance_status", out _));
        Assert.False(r.Body.TryGetProperty("is_alive", out _)); // as Redpanda's get_broker
        AssertError(await GetAsync("/v1/brokers/7"), HttpStatusCode.NotFound, "broker 7 not found");
    }

    [Fact]
    public async Task Partition_Kafka_AndController()
    {
        var r = await GetAsync("/v1/partitions/kafka/orders/1");
        Assert.Equal(
            """{"ns":"kafka","topic":"orders","partition_id":1,"status":"done","leader_id":2,"replicas":[{"node_id":2,"core":0},{"node_id":3,"core":0},{"node_id":1,"core":0}],"disabled":false}""",
            r.Body.GetRawText());
        var c = await GetAsync("/v1/partitions/redpanda/controller/0");
        Assert.Equal(
            """{"ns":"redpanda","topic":"controller","partition_id":0,"status":"done","leader_id":2,"raft_group_id":0,"replicas":[{"node_id":1,"core":0},{"node_id":2,"core":0},{"node_id":3,"core":0}],"disabled":false}""",
            c.Body.GetRawText());
        var all = await GetAsync("/v1/partitions/kafka/orders");
        Assert.Equal(2, all.Body.GetArrayLength());
    }

    [Theory]
    [InlineData("/v1/partitions/kafka/missing/0", "topic kafka/missing not found")]
    [InlineData("/v1/partitions/kafka/orders/2", "partition kafka/orders/2 not found")]
    [InlineData("/v1/partitions/redpanda/controller/1", "partition redpanda/controller/1 not found")]
    [InlineData("/v1/partitions/other/orders/0", "topic other/orders not found")]
    [InlineData("/v1/partitions/kafka/missing", "topic kafka/missing not found")]
    [InlineData("/v1/cluster/partitions/kafka/missing", "topic kafka/missing not found")]
    public async Task Partition_Unknown_Is404(string path, string fragment)
    {
        AssertError(await GetAsync(path), HttpStatusCode.NotFound, fragment);
    }

    [Fact]
    public async Task ClusterPartitions_ListsEveryKafkaPartition()
    {
        var r = await GetAsync("/v1/cluster/partitions");
        Assert.Equal(
            """[{"ns":"kafka","topic":"orders","partition_id":0,"leader_id":1,"replicas":[{"node_id":1,"core":0},{"node_id":2,"core":0},{"node_id":3,"core":0}],"disabled":false},{"ns":"kafka","topic":"orders","partition_id":1,"leader_id":2,"replicas":[{"node_id":2,"core":0},{"node_id":3,"core":0},{"node_id":1,"core":0}],"disabled":false}]""",
            r.Body.GetRawText());
        Assert.Equal(2, (await GetAsync("/v1/cluster/partitions/kafka/orders")).Body.GetArrayLength());
    }

    [Fact]
    public async Task ClusterUuid_AndNodeConfig_WithTheBoundAdminAddress()
    {
        Assert.Equal("""{"cluster_uuid":"test-cluster-id"}""", (await GetAsync("/v1/cluster/uuid")).Body.GetRawText());
        var n = (await GetAsync("/v1/node_config")).Body;
        Assert.Equal(1, n.GetProperty("node_id").GetInt32());
        Assert.Equal("/data/kafka", n.GetProperty("data_directory").GetString());
        var uri = new Uri(BaseUrl);
        Assert.Equal($$"""[{"address":"127.0.0.1","port":{{uri.Port}}}]""", n.GetProperty("admin").GetRawText());
        Assert.Equal("""[{"name":"PLAINTEXT","address":"127.0.0.1","port":9092}]""", n.GetProperty("kafka_api").GetRawText());
        Assert.Equal("""{"address":"127.0.0.1","port":9093}""", n.GetProperty("rpc_server").GetRawText());
    }

    [Fact]
    public async Task Metrics_BothScopes_WithThePrometheusContentType()
    {
        foreach (var (path, scope) in new[] { ("/metrics", MetricsScope.All), ("/public_metrics", MetricsScope.Public) })
        {
            var response = await Client.GetAsync(path);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(PrometheusExposition.ContentType, response.Content.Headers.ContentType?.ToString());
            Assert.Equal($"# scope {scope}\nup 1\n", await response.Content.ReadAsStringAsync());
        }
    }

    [Fact]
    public async Task Metrics_NotInThisBuild_Is503Json()
    {
        RenderMetrics = _ => throw new NotImplementedException();
        AssertError(await GetAsync("/metrics"), HttpStatusCode.ServiceUnavailable, "metrics are not available");
    }

    [Fact]
    public async Task Answers_AreNotCached()
    {
        var r = await GetAsync("/v1/cluster/health_overview");
        Assert.Equal("no-store", r.Response.Headers.CacheControl?.ToString());
        _ = JsonSerializer.Serialize(r.Body); // well-formed
    }
}

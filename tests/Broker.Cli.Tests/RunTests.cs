using System.Net;
using System.Net.Sockets;
using Broker.Cli.Admin;
using Xunit;

namespace Broker.Cli.Tests;

/// <summary>
/// Whole commands through <see cref="BrokerTool.RunAsync"/>: exit statuses, where messages go, and failures against
/// real sockets (a closed port, a silent server, a fake Admin API).
/// </summary>
public class RunTests
{
    [Fact]
    public async Task UsageErrorsExit2WithMessageAndSynopsisOnStderr()
    {
        var r = await ToolRun.RunAsync("topic", "create");
        Assert.Equal(2, r.ExitCode);
        Assert.Equal("", r.Stdout);
        Assert.StartsWith("error: missing topic name", r.Stderr);
        Assert.Contains("Usage: broker topic create NAME", r.Stderr);
        Assert.Contains("broker topic create --help", r.Stderr);

        r = await ToolRun.RunAsync("topic");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("Usage: broker topic <create|list|describe|delete|alter-config>", r.Stderr);

        r = await ToolRun.RunAsync("consume", "t", "--from-beginning", "--offset", "5");
        Assert.Equal(2, r.ExitCode);
        Assert.StartsWith("error: give only one of --from-beginning, --offset and --timestamp", r.Stderr);

        r = await ToolRun.RunAsync("produce", "t", "-b", "nohost");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("--bootstrap-server expects HOST:PORT", r.Stderr);
    }

    [Fact]
    public async Task HelpGoesToStdoutExit0()
    {
        var r = await ToolRun.RunAsync("group", "describe", "--help");
        Assert.Equal(0, r.ExitCode);
        Assert.StartsWith("Usage: broker group describe GROUP", r.Stdout);
        Assert.Equal("", r.Stderr);
        r = await ToolRun.RunAsync("cluster", "help");
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("health", r.Stdout);
    }

    [Fact]
    public async Task ProduceFromMissingFileFailsBeforeConnecting()
    {
        string missing = Path.Combine(Path.GetTempPath(), $"no-such-{Guid.NewGuid():N}.txt");
        var r = await ToolRun.RunAsync("produce", "t", "--file", missing, "-b", "127.0.0.1:1");
        Assert.Equal(1, r.ExitCode);
        Assert.Equal($"error: cannot read {missing}: no such file\n", r.Stderr);
    }

    private static int ClosedPort()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        int port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }

    [Fact]
    public async Task UnreachableBootstrapFailsWithinTheTimeout()
    {
        int port = ClosedPort();
        var r = await ToolRun.RunAsync("topic", "list", "-b", $"127.0.0.1:{port}", "--timeout", "2s");
        Assert.True(r.ExitCode == 1, r.ToString());
        Assert.StartsWith("error: ", r.Stderr);
        Assert.Contains($"127.0.0.1:{port}", r.Stderr);
        Assert.True(r.Elapsed < TimeSpan.FromSeconds(10), r.ToString());
        Assert.Equal("", r.Stdout);
    }

    [Fact]
    public async Task SilentBootstrapFailsWithinTheTimeout()
    {
        using var silent = new FakeHttpServer(200, "", silent: true); // accepts TCP, never answers
        var r = await ToolRun.RunAsync("cluster", "info", "-b", $"127.0.0.1:{silent.Port}", "--timeout", "1500ms");
        Assert.True(r.ExitCode == 1, r.ToString());
        Assert.StartsWith("error: ", r.Stderr);
        Assert.True(r.Elapsed < TimeSpan.FromSeconds(10), r.ToString());
    }

    private const string Healthy =
        """{"is_healthy":true,"unhealthy_reasons":[],"controller_id":1,"all_nodes":[3,1,2],"nodes_down":[],"leaderless_partitions":[],"leaderless_count":0,"under_replicated_partitions":[],"under_replicated_count":0}""";

    private const string Unhealthy =
        """{"is_healthy":false,"unhealthy_reasons":["nodes_down","under_replicated_partitions"],"controller_id":2,"all_nodes":[1,2,3],"nodes_down":[3],"leaderless_partitions":[],"leaderless_count":0,"under_replicated_partitions":["kafka/t/1","kafka/t/0"],"under_replicated_count":2}""";

    [Fact]
    public async Task ClusterHealthHealthyExit0()
    {
        using var admin = new FakeHttpServer(200, Healthy);
        var r = await ToolRun.RunAsync("cluster", "health", "--admin-url", admin.Url);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal(
            "HEALTHY                      true\n" +
            "UNHEALTHY-REASONS            []\n" +
            "CONTROLLER-ID                1\n" +
            "ALL-NODES                    [1,2,3]\n" +
            "NODES-DOWN                   []\n" +
            "LEADERLESS-COUNT             0\n" +
            "LEADERLESS-PARTITIONS        []\n" +
            "UNDER-REPLICATED-COUNT       0\n" +
            "UNDER-REPLICATED-PARTITIONS  []\n", r.Stdout);
        Assert.Equal(new[] { "GET /v1/cluster/health_overview HTTP/1.1" }, admin.RequestLines);
    }

    [Fact]
    public async Task ClusterHealthUnhealthyExit1_FromTheEnvironmentUrl()
    {
        using var admin = new FakeHttpServer(200, Unhealthy);
        var r = await ToolRun.RunAsync("", new Dictionary<string, string> { ["BROKER_ADMIN_URL"] = admin.Url }, "cluster", "health");
        Assert.True(r.ExitCode == 1, r.ToString());
        Assert.Contains("HEALTHY                      false\n", r.Stdout);
        Assert.Contains("UNHEALTHY-REASONS            [nodes_down under_replicated_partitions]\n", r.Stdout);
        Assert.Contains("NODES-DOWN                   [3]\n", r.Stdout);
        Assert.Contains("UNDER-REPLICATED-PARTITIONS  [kafka/t/0 kafka/t/1]\n", r.Stdout);
        Assert.Equal("", r.Stderr);
    }

    [Fact]
    public async Task ClusterHealthUnreachableSaysSo()
    {
        int port = ClosedPort();
        var r = await ToolRun.RunAsync("cluster", "health", "--admin-url", $"http://127.0.0.1:{port}", "--timeout", "3s");
        Assert.Equal(1, r.ExitCode);
        Assert.Equal($"error: cannot reach the Admin API at http://127.0.0.1:{port}/v1/cluster/health_overview: connection refused\n", r.Stderr);
        Assert.Equal("", r.Stdout);
    }

    [Fact]
    public async Task ClusterHealthTriesTheNextUrl()
    {
        int port = ClosedPort();
        using var admin = new FakeHttpServer(200, Healthy);
        var r = await ToolRun.RunAsync("cluster", "health", "--admin-url", $"http://127.0.0.1:{port},{admin.Url}");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.StartsWith("HEALTHY                      true", r.Stdout);
    }

    [Fact]
    public async Task ClusterHealthSilentServerTimesOut()
    {
        using var silent = new FakeHttpServer(200, "", silent: true);
        var r = await ToolRun.RunAsync("cluster", "health", "--admin-url", silent.Url, "--timeout", "1s");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("no answer within 1 s", r.Stderr);
        Assert.True(r.Elapsed < TimeSpan.FromSeconds(8), r.ToString());
    }

    [Fact]
    public async Task ClusterHealthHttpErrorAndBadBodies()
    {
        using var admin = new FakeHttpServer(503, """{"message":"controller not ready","code":503}""");
        var r = await ToolRun.RunAsync("cluster", "health", "--admin-url", admin.Url);
        Assert.Equal(1, r.ExitCode);
        Assert.Equal($"error: cannot reach the Admin API at {admin.Url}/v1/cluster/health_overview: HTTP 503: controller not ready\n", r.Stderr);

        admin.Status = 200;
        admin.Body = "<html>";
        r = await ToolRun.RunAsync("cluster", "health", "--admin-url", admin.Url);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("the answer is not JSON", r.Stderr);

        admin.Body = """{"controller_id":1}""";
        r = await ToolRun.RunAsync("cluster", "health", "--admin-url", admin.Url);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("has no boolean 'is_healthy'", r.Stderr);
    }

    [Fact]
    public async Task ClusterHealthWaitReturnsOnceHealthy()
    {
        using var admin = new FakeHttpServer(200, Unhealthy);
        var run = ToolRun.RunAsync("cluster", "health", "--admin-url", admin.Url, "--wait", "--timeout", "20s");
        await Task.Delay(1500);
        admin.Body = Healthy;
        var r = await run;
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.True(admin.RequestLines.Count >= 2, $"{admin.RequestLines.Count} requests");
        Assert.True(r.Elapsed < TimeSpan.FromSeconds(10), r.ToString());
    }

    [Fact]
    public void HealthOverviewDefaults()
    {
        using var doc = System.Text.Json.JsonDocument.Parse("""{"is_healthy":true}""");
        var h = HealthOverview.Parse(doc.RootElement);
        Assert.True(h.IsHealthy);
        Assert.Equal(-1, h.ControllerId);
        Assert.Empty(h.NodesDown);
        Assert.Equal(0, h.UnderReplicatedCount);
    }
}

using System.Diagnostics;
using System.Text.RegularExpressions;
using Broker.Integration.Tests.Cluster;
using Broker.Integration.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace Broker.Integration.Tests.Tools;

/// <summary><c>broker cluster info|health</c> against a 3-node cluster: healthy, then a node killed.</summary>
public sealed class ToolClusterTests : ClusterTest
{
    public ToolClusterTests(ITestOutputHelper output) : base(output) { }

    private ScriptResult Tool(params string[] args) => Log(ToolRunner.Run(args, null, TimeSpan.FromSeconds(60)));

    [Fact]
    public void HealthOkThenNodeDown_InfoListsBrokers()
    {
        var cluster = StartCluster("tool-health", ClusterLayout.Combined(3),
            new Dictionary<string, string> { ["broker.session.timeout.ms"] = "3000", ["broker.heartbeat.interval.ms"] = "500" });

        var info = Tool("cluster", "info", "-b", cluster.Bootstrap);
        Assert.True(info.Succeeded, info.Describe() + cluster.DescribeState());
        Assert.Equal("3", info.Field("BROKERS"));
        for (int id = 1; id <= 3; id++)
            Assert.Matches(new Regex($@"(?m)^{id}\*?\s+127\.0\.0\.{id}\s+{cluster.Node(id).KafkaPort}\s+-$"), info.Stdout);

        Assert.True(Tool("topic", "create", "replicated", "-p", "3", "-r", "3", "-b", cluster.Bootstrap).Succeeded, cluster.DescribeState());

        string admin1 = cluster.Node(1).AdminUrl;
        var healthy = Tool("cluster", "health", "--admin-url", admin1, "--wait", "--timeout", "30s");
        Assert.True(healthy.Succeeded, "the cluster did not become healthy\n" + healthy.Describe() + cluster.DescribeState());
        Assert.Equal("true", healthy.Field("HEALTHY"));
        Assert.Equal("[1,2,3]", healthy.Field("ALL-NODES"));
        Assert.Equal("[]", healthy.Field("NODES-DOWN"));

        // Kill a node that is not the one asked; the survivors report it down within seconds (exit 1).
        cluster.Node(3).Kill();
        var sw = Stopwatch.StartNew();
        ScriptResult? down = null;
        while (sw.Elapsed < TimeSpan.FromSeconds(30))
        {
            var r = Tool("cluster", "health", "--admin-url", admin1, "--timeout", "5s");
            Assert.False(r.TimedOut, r.Describe());
            if (r.ExitCode == 1 && r.Field("NODES-DOWN") == "[3]")
            {
                down = r;
                break;
            }
            Thread.Sleep(500);
        }
        Assert.True(down is not null, "node 3 was not reported down within 30 s\n" + cluster.DescribeState());
        Assert.Equal("false", down!.Field("HEALTHY"));
        Assert.Contains("nodes_down", down.Field("UNHEALTHY-REASONS"));
        Output.WriteLine($"node 3 reported down {sw.ElapsedMilliseconds} ms after the kill");

        // The killed node's Admin API is unreachable: said clearly; with a second URL the survivor answers.
        var unreachable = Tool("cluster", "health", "--admin-url", cluster.Node(3).AdminUrl, "--timeout", "3s");
        Assert.Equal(1, unreachable.ExitCode);
        Assert.StartsWith($"error: cannot reach the Admin API at {cluster.Node(3).AdminUrl}/v1/cluster/health_overview: ", unreachable.Stderr);
        // (Node 2 answers from its own view, which may not have noticed the kill yet: only the fallback is checked.)
        var fallback = Tool("cluster", "health", "--admin-url", $"{cluster.Node(3).AdminUrl},{cluster.Node(2).AdminUrl}", "--timeout", "3s");
        Assert.False(fallback.TimedOut, fallback.Describe());
        Assert.Equal("", fallback.Stderr);
        Assert.Equal(fallback.Field("HEALTHY") == "true" ? 0 : 1, fallback.ExitCode);
        Assert.Equal("[1,2,3]", fallback.Field("ALL-NODES"));
    }
}

using System.Net;
using System.Net.Sockets;
using Xunit;
using Xunit.Abstractions;

namespace Broker.Integration.Tests.Tools;

/// <summary>Failures of the operator tool: non-zero exits with a clear message, within a bounded time.</summary>
public sealed class ToolErrorTests : ToolTest
{
    public ToolErrorTests(ITestOutputHelper output) : base(output) { }

    [Fact]
    public void UnknownTopic_Exit1_NamesTheError()
    {
        var broker = StartToolBroker("tool-errors");
        var r = ToolIn(broker, "x\n", "produce", "missing");
        AssertExit(1, r, broker, "produce to a missing topic");
        Assert.Equal("error: UNKNOWN_TOPIC_OR_PARTITION: Topic 'missing' does not exist.\n", r.Stderr);

        r = Tool(broker, "consume", "missing", "--timeout-ms", "1000");
        AssertExit(1, r, broker, "consume a missing topic");
        Assert.StartsWith("error: UNKNOWN_TOPIC_OR_PARTITION: ", r.Stderr);

        AssertOk(Tool(broker, "topic", "create", "one", "-p", "1"), broker, "topic create");
        r = ToolIn(broker, "x\n", "produce", "one", "--partition", "4");
        AssertExit(1, r, broker, "produce to a missing partition");
        Assert.Equal("error: partition 4 does not exist: topic 'one' has 1 partition\n", r.Stderr);

        r = Tool(broker, "topic", "create", "bad", "-r", "3");
        AssertExit(1, r, broker, "replication factor above the broker count");
        Assert.StartsWith("error: INVALID_REPLICATION_FACTOR", r.Stderr);
    }

    [Fact]
    public void UnreachableBootstrap_Exit1_WithinTheTimeout()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        int port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        foreach (var args in new[]
        {
            new[] { "topic", "list" },
            new[] { "produce", "t", "--count", "1" },
            new[] { "consume", "t", "--timeout-ms", "1000" },
            new[] { "group", "list" },
        })
        {
            var r = Tool(null, args.Concat(new[] { "-b", $"127.0.0.1:{port}", "--timeout", "3s" }).ToArray());
            AssertExit(1, r, null, string.Join(' ', args));
            Assert.StartsWith("error: ", r.Stderr);
            Assert.Contains($"127.0.0.1:{port}", r.Stderr);
            Assert.True(r.Elapsed < TimeSpan.FromSeconds(15), $"took {r.Elapsed.TotalSeconds:F1} s\n{r.Describe()}");
        }
    }

    [Fact]
    public void BadArguments_Exit2_WithUsage()
    {
        foreach (var args in new[]
        {
            new[] { "topic" },
            new[] { "topic", "create" },
            new[] { "topic", "create", "t", "-p", "zero" },
            new[] { "produce", "t", "--acks", "7" },
            new[] { "consume", "t", "--timestamp", "yesterday" },
            new[] { "consume", "t", "--group", "g", "--offset", "3" },
            new[] { "group", "frobnicate" },
            new[] { "cluster", "health", "--admin-url", "ftp://x" },
        })
        {
            var r = Tool(null, args);
            AssertExit(2, r, null, string.Join(' ', args));
            Assert.StartsWith("error: ", r.Stderr);
            Assert.Contains("Usage: broker ", r.Stderr);
            Assert.Equal("", r.Stdout);
        }

        var help = Tool(null, "help", "consume");
        AssertOk(help, null, "help consume");
        Assert.StartsWith("Usage: broker consume TOPIC", help.Stdout);
        help = Tool(null, "topic", "create", "--help");
        AssertOk(help, null, "topic create --help");
        Assert.Contains("--partitions", help.Stdout);
        help = Tool(null, "--help");
        AssertOk(help, null, "--help");
        Assert.Contains("produce", help.Stdout);
        Assert.Contains("start", help.Stdout);
    }
}

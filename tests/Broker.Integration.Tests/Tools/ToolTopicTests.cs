using System.Text.RegularExpressions;
using Xunit;
using Xunit.Abstractions;

namespace Broker.Integration.Tests.Tools;

/// <summary><c>broker topic create|list|describe|alter-config|delete</c> against a real broker.</summary>
public sealed class ToolTopicTests : ToolTest
{
    public ToolTopicTests(ITestOutputHelper output) : base(output) { }

    [Fact]
    public void CreateListDescribeAlterDelete()
    {
        var broker = StartToolBroker("tool-topic");

        var r = Tool(broker, "topic", "create", "orders", "-p", "3", "-r", "1", "-c", "retention.ms=3600000");
        AssertOk(r, broker, "topic create");
        Assert.Equal("created topic orders\n", r.Stdout);

        r = Tool(broker, "topic", "create", "orders");
        AssertExit(1, r, broker, "creating an existing topic");
        Assert.StartsWith("error: TOPIC_ALREADY_EXISTS: ", r.Stderr);
        Assert.Contains("orders", r.Stderr);
        Assert.Equal("", r.Stdout);

        r = Tool(broker, "topic", "create", "orders", "--if-not-exists");
        AssertOk(r, broker, "topic create --if-not-exists");
        Assert.Equal("topic orders already exists\n", r.Stdout);

        r = Tool(broker, "topic", "create", "second");
        AssertOk(r, broker, "topic create with cluster defaults");

        r = Tool(broker, "topic", "list");
        AssertOk(r, broker, "topic list");
        var lines = r.Lines();
        Assert.Equal("NAME", lines[0].Split(' ', StringSplitOptions.RemoveEmptyEntries)[0]);
        Assert.Contains(lines, l => Regex.IsMatch(l, @"^orders\s+3\s+1$"));
        Assert.Contains(lines, l => l.StartsWith("second ", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.StartsWith("__", StringComparison.Ordinal));
        Assert.True(Array.IndexOf(lines, lines.First(l => l.StartsWith("orders"))) < Array.IndexOf(lines, lines.First(l => l.StartsWith("second"))),
            "topics are not sorted\n" + r.Stdout);

        // Produce a little so the offsets columns mean something.
        AssertOk(ToolIn(broker, "a\nb\nc\n", "produce", "orders", "--partition", "1"), broker, "produce 3 records to partition 1");

        r = Tool(broker, "topic", "describe", "orders");
        AssertOk(r, broker, "topic describe");
        Assert.Equal("orders", r.Field("NAME"));
        Assert.Equal("3", r.Field("PARTITIONS"));
        Assert.Equal("false", r.Field("INTERNAL"));
        Assert.Matches(new Regex(@"(?m)^retention\.ms\s+3600000\s+\S+$"), r.Stdout);
        Assert.Matches(new Regex(@"(?m)^PARTITION\s+LEADER\s+EPOCH\s+REPLICAS\s+ISR\s+EARLIEST\s+LATEST$"), r.Stdout);
        Assert.Matches(new Regex(@"(?m)^0\s+1\s+\d+\s+\[1\]\s+\[1\]\s+0\s+0$"), r.Stdout);
        Assert.Matches(new Regex(@"(?m)^1\s+1\s+\d+\s+\[1\]\s+\[1\]\s+0\s+3$"), r.Stdout);
        Assert.Matches(new Regex(@"(?m)^2\s+1\s+\d+\s+\[1\]\s+\[1\]\s+0\s+0$"), r.Stdout);

        r = Tool(broker, "topic", "alter-config", "orders", "--set", "retention.ms=1000", "--set", "cleanup.policy=compact");
        AssertOk(r, broker, "topic alter-config --set");
        Assert.Equal("topic orders: set retention.ms=1000\ntopic orders: set cleanup.policy=compact\n", r.Stdout);
        r = Tool(broker, "topic", "describe", "orders", "--configs");
        AssertOk(r, broker, "topic describe --configs");
        Assert.Matches(new Regex(@"(?m)^retention\.ms\s+1000\s"), r.Stdout);
        Assert.Matches(new Regex(@"(?m)^cleanup\.policy\s+compact\s"), r.Stdout);
        Assert.DoesNotContain("PARTITION", r.Stdout);

        r = Tool(broker, "topic", "alter-config", "orders", "--delete", "retention.ms");
        AssertOk(r, broker, "topic alter-config --delete");
        r = Tool(broker, "topic", "describe", "orders", "-c");
        Assert.DoesNotMatch(new Regex(@"(?m)^retention\.ms\s+1000\s"), r.Stdout);
        Assert.Matches(new Regex(@"(?m)^retention\.ms\s+\d+\s"), r.Stdout);

        r = Tool(broker, "topic", "alter-config", "orders", "--set", "no.such.config=1");
        AssertExit(1, r, broker, "alter-config with an unknown key");
        Assert.StartsWith("error: INVALID_CONFIG", r.Stderr);

        r = Tool(broker, "topic", "delete", "orders", "second");
        AssertOk(r, broker, "topic delete");
        Assert.Equal("deleted topic orders\ndeleted topic second\n", r.Stdout);

        r = Tool(broker, "topic", "list");
        AssertOk(r, broker, "topic list after delete");
        Assert.DoesNotContain(r.Lines(), l => l.StartsWith("orders ", StringComparison.Ordinal));

        r = Tool(broker, "topic", "describe", "orders");
        AssertExit(1, r, broker, "describing a deleted topic");
        Assert.StartsWith("error: UNKNOWN_TOPIC_OR_PARTITION: ", r.Stderr);

        r = Tool(broker, "topic", "delete", "orders");
        AssertExit(1, r, broker, "deleting a deleted topic");
        Assert.StartsWith("error: UNKNOWN_TOPIC_OR_PARTITION: ", r.Stderr);
        AssertOk(Tool(broker, "topic", "delete", "orders", "--if-exists"), broker, "topic delete --if-exists");
    }

    [Fact]
    public void InternalTopicsListedOnRequest_ClusterInfo()
    {
        var broker = StartToolBroker("tool-info");
        // A group commit creates __consumer_offsets.
        AssertOk(Tool(broker, "topic", "create", "t", "-p", "1"), broker, "topic create");
        AssertOk(ToolIn(broker, "x\n", "produce", "t"), broker, "produce");
        AssertOk(Tool(broker, "consume", "t", "--group", "g", "--from-beginning", "--count", "1", "--timeout-ms", "20000"), broker, "group consume");

        var r = Tool(broker, "topic", "list", "--internal");
        AssertOk(r, broker, "topic list --internal");
        Assert.Contains(r.Lines(), l => l.StartsWith("__consumer_offsets ", StringComparison.Ordinal));

        r = Tool(broker, "cluster", "info");
        AssertOk(r, broker, "cluster info");
        Assert.NotEqual("-", r.Field("CLUSTER-ID"));
        Assert.Equal("1", r.Field("CONTROLLER"));
        Assert.Equal("1", r.Field("BROKERS"));
        Assert.Equal("1", r.Field("TOPICS"));
        Assert.Equal("1", r.Field("INTERNAL-TOPICS"));
        Assert.Matches(new Regex($@"(?m)^1\*\s+127\.0\.0\.1\s+{broker.Port}\s+-$"), r.Stdout);
    }
}

using System.Diagnostics;
using Broker.Integration.Tests.Cluster;
using Broker.Integration.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace Broker.Integration.Tests.Configs;

/// <summary>
/// Dynamic configs in a 3-node cluster (combined nodes): a change sent to a broker that is not the active controller
/// is forwarded to it, written to the metadata log and takes effect on every broker: each describes the new value
/// and each partition leader enforces it (max.message.bytes on produce, through confluent-kafka).
/// </summary>
[Trait("Category", "Cluster")]
public sealed class ConfigsClusterTests : ClusterTest
{
    private const sbyte Set = 0, Delete = 1;

    public ConfigsClusterTests(ITestOutputHelper output) : base(output) { }

    [Fact]
    public void A_change_sent_to_a_non_controller_broker_applies_cluster_wide()
    {
        var cluster = StartCluster("cfg3", ClusterLayout.Combined(3));
        var topic = cluster.CreateTopic("cfg-sized", partitions: 3, replicationFactor: 3);
        Output.WriteLine($"topic: {topic}");
        var produce = new[] { "produce-size", "--bootstrap", cluster.Bootstrap, "--topic", "cfg-sized", "--partitions", "3", "--size", "3000", "--timeout", "20" };
        var before = AssertScriptOk(Python("configs_scenario.py", produce), cluster, "3000-byte messages before the change");
        AssertErrors(before, null);

        int controller = cluster.WaitForController(TimeSpan.FromSeconds(20));
        var via = cluster.Nodes.First(n => n.Id != controller);
        Output.WriteLine($"active controller {controller}; sending the change to node {via.Id}");
        var results = ConfigsWire.IncrementalAlter(via.Host, via.KafkaPort, 1, false,
            (ConfigsWire.Broker, "", new[] { new WireConfigOp("message.max.bytes", Set, "1000") }));
        Assert.Equal((short)0, Assert.Single(results).ErrorCode);

        foreach (var node in cluster.Nodes)
            WaitForDescribed(node, "cfg-sized", "max.message.bytes", "1000", source: 3);
        var after = AssertScriptOk(Python("configs_scenario.py", produce), cluster, "3000-byte messages after the cluster default changed");
        AssertErrors(after, "MSG_SIZE_TOO_LARGE");

        // A topic override through another non-controller wins again everywhere; deleting it reverts.
        var other = cluster.Nodes.First(n => n.Id != controller && n.Id != via.Id);
        results = ConfigsWire.IncrementalAlter(other.Host, other.KafkaPort, 0, false,
            (ConfigsWire.Topic, "cfg-sized", new[] { new WireConfigOp("max.message.bytes", Set, "100000") }));
        Assert.Equal((short)0, Assert.Single(results).ErrorCode);
        foreach (var node in cluster.Nodes)
            WaitForDescribed(node, "cfg-sized", "max.message.bytes", "100000", source: 1);
        AssertErrors(AssertScriptOk(Python("configs_scenario.py", produce), cluster, "after the topic override"), null);

        results = ConfigsWire.IncrementalAlter(via.Host, via.KafkaPort, 1, false,
            (ConfigsWire.Topic, "cfg-sized", new[] { new WireConfigOp("max.message.bytes", Delete, null) }),
            (ConfigsWire.Broker, "", new[] { new WireConfigOp("listeners", Set, "PLAINTEXT://:1") }));
        Assert.Equal(new short[] { 0, 42 }, results.Select(r => r.ErrorCode));
        foreach (var node in cluster.Nodes)
            WaitForDescribed(node, "cfg-sized", "max.message.bytes", "1000", source: 3);
    }

    [Fact]
    public void Pure_brokers_forward_changes_to_pure_controllers()
    {
        var cluster = StartCluster("cfg-split", ClusterLayout.Split(controllers: 3, brokers: 2));
        cluster.CreateTopic("cfg-split", partitions: 2, replicationFactor: 2);
        var broker = cluster.Node(4);
        var results = ConfigsWire.IncrementalAlter(broker.Host, broker.KafkaPort, 1, false,
            (ConfigsWire.Broker, "", new[] { new WireConfigOp("log.retention.ms", Set, "7200000"), new WireConfigOp("node.id", Set, "9") }),
            (ConfigsWire.Broker, "", new[] { new WireConfigOp("log.retention.ms", Set, "7200000") }));
        // The same resource twice is refused as a whole, by the broker, before anything is forwarded.
        Assert.Equal(new short[] { 42, 42 }, results.Select(r => r.ErrorCode));
        results = ConfigsWire.IncrementalAlter(broker.Host, broker.KafkaPort, 1, false,
            (ConfigsWire.Broker, "", new[] { new WireConfigOp("log.retention.ms", Set, "7200000") }));
        Assert.Equal((short)0, Assert.Single(results).ErrorCode);
        foreach (var node in cluster.Brokers)
            WaitForDescribed(node, "cfg-split", "retention.ms", "7200000", source: 3);

        // Sent straight to a controller listener (as a broker forwards it), a read-only key is refused there too.
        var controller = cluster.Node(1);
        results = ConfigsWire.IncrementalAlter(controller.Host, controller.ControllerPort, 1, false,
            (ConfigsWire.Broker, "", new[] { new WireConfigOp("process.roles", Set, "broker") }));
        Assert.Equal((42, "Cannot update these configs dynamically: process.roles"), (Assert.Single(results).ErrorCode, results[0].ErrorMessage));
    }

    /// <summary>Polls one node's DescribeConfigs until the topic config shows the value and source (bounded).</summary>
    private void WaitForDescribed(ClusterNode node, string topic, string key, string value, sbyte source)
    {
        var sw = Stopwatch.StartNew();
        string last = "not asked";
        while (sw.Elapsed < TimeSpan.FromSeconds(15))
        {
            try
            {
                var described = ConfigsWire.Describe(node.Host, node.KafkaPort, ConfigsWire.Topic, topic, [key]);
                var entry = described.Entry(key);
                if (described.ErrorCode == 0 && entry?.Value == value && entry.Source == source)
                {
                    Output.WriteLine($"node {node.Id} describes {key}={value} (source {source}) after {sw.ElapsedMilliseconds} ms (before: {last})");
                    return;
                }
                last = $"error {described.ErrorCode} {described.ErrorMessage}, {key}={entry?.Value} source {entry?.Source}";
            }
            catch (Exception ex) when (ex is IOException or System.Net.Sockets.SocketException or InvalidDataException)
            {
                last = ex.Message;
            }
            Thread.Sleep(100);
        }
        Assert.Fail($"node {node.Id} never described {topic} {key}={value} (source {source}): {last}");
    }

    private static void AssertErrors(System.Text.Json.JsonElement summary, string? expected)
    {
        var errors = summary.GetProperty("observed").GetProperty("errors");
        foreach (var p in errors.EnumerateObject())
            Assert.True(p.Value.ValueKind == System.Text.Json.JsonValueKind.Null ? expected is null : p.Value.GetString() == expected,
                $"partition {p.Name}: {p.Value} (expected {expected ?? "success"})");
    }
}

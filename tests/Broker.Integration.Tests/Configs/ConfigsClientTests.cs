using Broker.Integration.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace Broker.Integration.Tests.Configs;

/// <summary>
/// Dynamic configs on one broker with real admin clients (confluent-kafka and kafka-python, tests/clients/python/
/// configs_scenario.py) and raw IncrementalAlterConfigs / DescribeConfigs: changes are described back, read-only keys
/// are refused with Kafka's error, and retention changes delete old segments of a live topic without a restart.
/// Retention runs every second here (log.retention.check.interval.ms=1000).
/// </summary>
[Trait("Category", "Configs")]
public sealed class ConfigsClientTests : IntegrationTest
{
    private static readonly Dictionary<string, string> FastRetention = new() { ["log.retention.check.interval.ms"] = "1000" };
    private const sbyte Set = 0, Delete = 1, Append = 2, Subtract = 3;

    public ConfigsClientTests(ITestOutputHelper output) : base(output) { }

    private ScriptResult Configs(BrokerProcess broker, params string[] args) =>
        Log(ScriptRunner.Python(Path.Combine(TestPaths.ClientsDir, "python", "configs_scenario.py"),
            args.Concat(new[] { "--bootstrap", broker.Bootstrap, "--timeout", "30" }), ScriptTimeout));

    [Fact]
    public void Confluent_admin_describes_alters_and_gets_read_only_keys_refused()
    {
        var broker = StartBroker("cfg-confluent", FastRetention);
        AssertScriptOk(Configs(broker, "describe-alter", "--topic", "cfg-described"), broker, "confluent-kafka describe/alter configs");
    }

    [Fact]
    public void Retention_altered_on_a_live_topic_deletes_old_segments_without_a_restart()
    {
        var broker = StartBroker("cfg-retention", FastRetention);
        int pid = broker.Pid;
        var summary = AssertScriptOk(Configs(broker, "retention", "--topic", "cfg-retained", "--count", "200", "--size", "300",
            "--segment-bytes", "2048"), broker, "retention.ms altered with confluent-kafka's AdminClient");
        Assert.Equal(pid, broker.Pid);
        Assert.True(broker.IsRunning);
        long low = summary.GetProperty("observed").GetProperty("low_after").GetInt64();
        Output.WriteLine($"low watermark moved to {low} after {summary.GetProperty("observed").GetProperty("seconds_to_effect")} s");
        Assert.Contains("retention deleted", broker.ReadLog());
    }

    [Fact]
    public void A_cluster_default_set_with_kafka_python_applies_to_topics_without_an_override()
    {
        var broker = StartBroker("cfg-default", FastRetention);
        AssertScriptOk(Configs(broker, "cluster-default", "--topic", "cfg-default", "--count", "200", "--size", "300",
            "--segment-bytes", "2048"), broker, "cluster default log.retention.ms through kafka-python");
    }

    [Fact]
    public void Kafka_python_admin_describes_alters_and_gets_refusals()
    {
        var broker = StartBroker("cfg-kafkapython");
        AssertScriptOk(Configs(broker, "kafkapython", "--topic", "cfg-kp"), broker, "kafka-python describe/alter configs");
    }

    [Fact]
    public void Incremental_alter_configs_over_the_wire_in_both_versions()
    {
        var broker = StartBroker("cfg-incremental");
        CreateTopic(broker, "cfg-inc", partitions: 1);

        // v0 (classic encoding): APPEND to the inherited cleanup.policy, SET retention.ms.
        var v0 = ConfigsWire.IncrementalAlter("127.0.0.1", broker.Port, 0, false,
            (ConfigsWire.Topic, "cfg-inc", new[] { new WireConfigOp("cleanup.policy", Append, "compact"), new WireConfigOp("retention.ms", Set, "86400000") }));
        Assert.Equal((short)0, Assert.Single(v0).ErrorCode);
        var described = ConfigsWire.Describe("127.0.0.1", broker.Port, ConfigsWire.Topic, "cfg-inc", ["cleanup.policy", "retention.ms", "segment.bytes"]);
        Assert.Equal(0, described.ErrorCode);
        Assert.Equal(("delete,compact", (sbyte)1), (described.Entry("cleanup.policy")!.Value, described.Entry("cleanup.policy")!.Source));
        Assert.Equal("86400000", described.Entry("retention.ms")!.Value);
        Assert.Equal((sbyte)5, described.Entry("segment.bytes")!.Source);   // DEFAULT_CONFIG

        // v1 (flexible): SUBTRACT and DELETE; a read-only broker key and a bad value are refused, naming the key.
        var v1 = ConfigsWire.IncrementalAlter("127.0.0.1", broker.Port, 1, false,
            (ConfigsWire.Topic, "cfg-inc", new[] { new WireConfigOp("cleanup.policy", Subtract, "delete"), new WireConfigOp("retention.ms", Delete, null) }),
            (ConfigsWire.Broker, "1", new[] { new WireConfigOp("listeners", Set, "PLAINTEXT://127.0.0.1:1") }),
            (ConfigsWire.Broker, "", new[] { new WireConfigOp("log.segment.bytes", Set, "12") }));
        Assert.Equal(new short[] { 0, 42, 40 }, v1.Select(r => r.ErrorCode));
        Assert.Equal("Cannot update these configs dynamically: listeners", v1[1].ErrorMessage);
        Assert.Contains("log.segment.bytes", v1[2].ErrorMessage);
        described = ConfigsWire.Describe("127.0.0.1", broker.Port, ConfigsWire.Topic, "cfg-inc", ["cleanup.policy", "retention.ms"], version: 1);
        Assert.Equal("compact", described.Entry("cleanup.policy")!.Value);
        Assert.NotEqual((sbyte)1, described.Entry("retention.ms")!.Source);

        // The cluster default num.partitions is used by the next CreateTopics that leaves the count to the broker.
        var defaults = ConfigsWire.IncrementalAlter("127.0.0.1", broker.Port, 1, false,
            (ConfigsWire.Broker, "", new[] { new WireConfigOp("num.partitions", Set, "3") }));
        Assert.Equal((short)0, Assert.Single(defaults).ErrorCode);
        var cluster = ConfigsWire.Describe("127.0.0.1", broker.Port, ConfigsWire.Broker, "");
        Assert.Equal(("num.partitions", "3", (sbyte)3), (cluster.Configs.Single().Name, cluster.Configs.Single().Value, cluster.Configs.Single().Source));
        var (error, message) = ClusterWire.CreateTopic("127.0.0.1", broker.Port, "cfg-defaulted", -1, -1, null, TimeSpan.FromSeconds(10));
        Assert.True(error == 0, $"CreateTopics with -1 partitions: {error} {message}");
        var md = ClusterWire.Metadata("127.0.0.1", broker.Port, ["cfg-defaulted"], TimeSpan.FromSeconds(10));
        Assert.Equal(3, md.Topic("cfg-defaulted")!.Partitions.Length);
    }

    [Fact]
    public void Dynamic_configs_survive_a_restart_through_the_metadata_log()
    {
        var broker = StartBroker("cfg-restart");
        CreateTopic(broker, "cfg-kept", partitions: 1);
        var results = ConfigsWire.IncrementalAlter("127.0.0.1", broker.Port, 1, false,
            (ConfigsWire.Broker, "", new[] { new WireConfigOp("log.retention.ms", Set, "3600000") }),
            (ConfigsWire.Topic, "cfg-kept", new[] { new WireConfigOp("max.message.bytes", Set, "5000") }));
        Assert.All(results, r => Assert.Equal((short)0, r.ErrorCode));

        broker.Stop();
        broker.Restart();
        var topic = ConfigsWire.Describe("127.0.0.1", broker.Port, ConfigsWire.Topic, "cfg-kept", ["retention.ms", "max.message.bytes"]);
        Assert.Equal(("3600000", (sbyte)3), (topic.Entry("retention.ms")!.Value, topic.Entry("retention.ms")!.Source));
        Assert.Equal(("5000", (sbyte)1), (topic.Entry("max.message.bytes")!.Value, topic.Entry("max.message.bytes")!.Source));
        var self = ConfigsWire.Describe("127.0.0.1", broker.Port, ConfigsWire.Broker, "1", ["log.retention.ms", "node.id"], documentation: true);
        Assert.Equal(("3600000", (sbyte)3, false), (self.Entry("log.retention.ms")!.Value, self.Entry("log.retention.ms")!.Source, self.Entry("log.retention.ms")!.ReadOnly));
        Assert.True(self.Entry("node.id")!.ReadOnly);
        Assert.False(string.IsNullOrEmpty(self.Entry("node.id")!.Documentation));
    }

    private static void CreateTopic(BrokerProcess broker, string name, int partitions)
    {
        var (error, message) = ClusterWire.CreateTopic("127.0.0.1", broker.Port, name, partitions, 1, null, TimeSpan.FromSeconds(10));
        Assert.True(error == 0, $"CreateTopics({name}): {error} {message}");
    }
}

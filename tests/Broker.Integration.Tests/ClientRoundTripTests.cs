using Broker.Integration.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace Broker.Integration.Tests;

/// <summary>
/// Each real client produces keyed binary messages with every codec it supports, reads them back byte for byte,
/// and after a graceful broker restart everything is still there.
/// </summary>
public sealed class ClientRoundTripTests : IntegrationTest
{
    public ClientRoundTripTests(ITestOutputHelper output) : base(output) { }

    [Fact]
    public void Confluent_AllCodecs_RoundTrip_SurvivesGracefulRestart()
    {
        var broker = StartBroker("confluent");
        string expected = Scratch("confluent.expected");
        var summary = AssertScriptOk(Confluent(broker, "roundtrip", "--topic", "cf", "--codecs", "all", "--partitions", "3",
            "--count", "200", "--expected-out", expected), broker, "confluent-kafka round trip (none,gzip,snappy,lz4,zstd)");
        Assert.Equal(5, summary.GetProperty("codecs").EnumerateObject().Count());

        broker.Stop();
        broker.Restart();
        var verify = AssertScriptOk(Confluent(broker, "verify", "--topic", "cf", "--expected", expected), broker,
            "confluent-kafka verify after graceful restart");
        Assert.Equal(1000, GetLong(verify, "consumed"));
    }

    [Fact]
    public void KafkaPython_AllCodecs_RoundTrip_SurvivesGracefulRestart()
    {
        var broker = StartBroker("kafkapython");
        string expected = Scratch("kafkapython.expected");
        AssertScriptOk(KafkaPython(broker, "roundtrip", "--topic", "kp", "--codecs", "all", "--partitions", "3",
            "--count", "150", "--expected-out", expected), broker, "kafka-python round trip (none,gzip,snappy,lz4,zstd)");

        broker.Stop();
        broker.Restart();
        var verify = AssertScriptOk(KafkaPython(broker, "verify", "--topic", "kp", "--expected", expected), broker,
            "kafka-python verify after graceful restart");
        Assert.Equal(750, GetLong(verify, "consumed"));
    }

    [Fact]
    public void Kcat_Metadata_AllCodecs_RoundTrip_SurvivesGracefulRestart()
    {
        var broker = StartBroker("kcat");
        string work = Scratch("kcat");
        AssertScriptOk(Kcat(broker, "--mode", "roundtrip", "--topic", "kc", "--codecs", "all", "--partitions", "3",
            "--count", "150", "--work-dir", work), broker, "kcat metadata + round trip (none,gzip,snappy,lz4,zstd)");

        broker.Stop();
        broker.Restart();
        AssertScriptOk(Kcat(broker, "--mode", "verify", "--topic", "kc", "--codecs", "all", "--partitions", "3",
            "--work-dir", work), broker, "kcat verify after graceful restart");
    }

    [Fact]
    public void KafkaJs_Admin_And_Produce_VerifiedByConfluent()
    {
        var broker = StartBroker("kafkajs");
        string expected = Scratch("kafkajs.expected");
        // "available": none and gzip are built into kafkajs, snappy and lz4 come from npm packages (lz4 needs
        // Node >= 20); the assertions below insist on none, gzip and snappy.
        var summary = AssertScriptOk(KafkaJs(broker, "--topic", "kj", "--codecs", "available", "--partitions", "3",
            "--count", "150", "--expected-out", expected), broker,
            "kafkajs admin (createTopics/validateOnly, metadata, offsets, createPartitions, deleteTopics) + produce");
        var codecs = summary.GetProperty("codecs").EnumerateObject().Select(p => p.Name).ToList();
        Output.WriteLine("kafkajs codecs: " + string.Join(",", codecs));
        Assert.Subset(codecs.ToHashSet(), new HashSet<string> { "none", "gzip", "snappy" });
        Assert.Equal(150 * codecs.Count, GetLong(summary, "produced"));

        var verify = AssertScriptOk(Confluent(broker, "verify", "--topic", "kj", "--expected", expected), broker,
            "confluent-kafka verify of what kafkajs produced");
        Assert.Equal(150 * codecs.Count, GetLong(verify, "consumed"));

        broker.Stop();
        broker.Restart();
        var after = AssertScriptOk(Confluent(broker, "verify", "--topic", "kj", "--expected", expected), broker,
            "confluent-kafka verify of what kafkajs produced, after a graceful restart");
        Assert.Equal(150 * codecs.Count, GetLong(after, "consumed"));
    }

    [Fact]
    public void CrossClient_KafkaPythonProduced_ReadByConfluent_AndViceVersa()
    {
        var broker = StartBroker("cross");
        string fromKp = Scratch("kp.expected");
        string fromCf = Scratch("cf.expected");
        AssertScriptOk(KafkaPython(broker, "roundtrip", "--topic", "x-kp", "--codecs", "gzip", "--codec-suffix",
            "--count", "100", "--expected-out", fromKp), broker, "kafka-python produce");
        AssertScriptOk(Confluent(broker, "produce", "--topic", "x-cf", "--codecs", "zstd", "--codec-suffix",
            "--count", "100", "--expected-out", fromCf), broker, "confluent-kafka produce");
        AssertScriptOk(Confluent(broker, "verify", "--topic", "x-kp", "--expected", fromKp), broker,
            "confluent-kafka reads kafka-python's records");
        AssertScriptOk(KafkaPython(broker, "verify", "--topic", "x-cf", "--expected", fromCf), broker,
            "kafka-python reads confluent-kafka's records");
    }
}

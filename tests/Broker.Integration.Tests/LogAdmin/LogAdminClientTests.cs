using System.Text.Json;
using Broker.Integration.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace Broker.Integration.Tests.LogAdmin;

/// <summary>
/// DeleteRecords, DescribeLogDirs and OffsetForLeaderEpoch on one broker process with real clients: kafkajs's
/// admin deleteTopicRecords (kafka-python 2.0.2 and confluent-kafka 1.7 expose no DeleteRecords), then librdkafka
/// (confluent-kafka and kcat) and kafka-python consumers reading "from the beginning", before and after kill -9.
/// </summary>
public sealed class LogAdminClientTests : IntegrationTest
{
    private const int Records = 30;

    public LogAdminClientTests(ITestOutputHelper output) : base(output) { }

    private static string Script => Path.Combine(TestPaths.ClientsDir, "python", "logadmin_clients.py");

    private JsonElement Clients(BrokerProcess broker, params string[] args)
    {
        var result = Log(ScriptRunner.Python(Script, args.Concat(["--bootstrap", broker.Bootstrap, "--timeout", "30"]), ScriptTimeout));
        return AssertScriptOk(result, broker, $"logadmin_clients.py {string.Join(' ', args)}");
    }

    private void CreateTopic(BrokerProcess broker, string topic)
    {
        var (error, message) = ClusterWire.CreateTopic("127.0.0.1", broker.Port, topic, 1, 1, null, TimeSpan.FromSeconds(15));
        Assert.True(error == 0, $"CreateTopics {topic}: {error} {message}");
    }

    /// <summary>kafkajs admin.deleteTopicRecords, then its fetchTopicOffsets: returns the low watermark it reports.</summary>
    private long KafkaJsDeleteRecords(BrokerProcess broker, string topic, long offset)
    {
        string nodeDir = Path.Combine(TestPaths.ClientsDir, "node");
        Assert.True(Directory.Exists(Path.Combine(nodeDir, "node_modules", "kafkajs")),
            "kafkajs is not installed: run 'npm ci' in tests/clients/node (tests/run-all.sh does)");
        const string code = """
            const { Kafka, logLevel } = require('kafkajs');
            const { BOOTSTRAP, TOPIC, OFFSET } = process.env;
            (async () => {
              const admin = new Kafka({ clientId: 'logadmin-it', brokers: [BOOTSTRAP], logLevel: logLevel.ERROR }).admin();
              await admin.connect();
              try {
                await admin.fetchTopicMetadata({ topics: [TOPIC] }); // deleteTopicRecords needs the leaders known
                await admin.deleteTopicRecords({ topic: TOPIC, partitions: [{ partition: 0, offset: OFFSET }] });
                const offsets = await admin.fetchTopicOffsets(TOPIC);
                console.log(JSON.stringify({ ok: true, offsets }));
              } finally {
                await admin.disconnect();
              }
            })().catch(e => { console.log(JSON.stringify({ ok: false, error: String(e) })); process.exit(1); });
            """;
        var result = Log(ScriptRunner.Run("node", ["-e", code], ScriptTimeout,
            new Dictionary<string, string> { ["BOOTSTRAP"] = broker.Bootstrap, ["TOPIC"] = topic, ["OFFSET"] = offset.ToString() }, nodeDir));
        var summary = AssertScriptOk(result, broker, "kafkajs deleteTopicRecords");
        var partition = summary.GetProperty("offsets").EnumerateArray().Single();
        return long.Parse(partition.GetProperty("low").GetString()!);
    }

    /// <summary>kcat from the beginning to the end of partition 0: the offsets it prints, one per record.</summary>
    private List<long> KcatOffsets(BrokerProcess broker, string topic)
    {
        var result = Log(ScriptRunner.Run("kcat", ["-C", "-b", broker.Bootstrap, "-t", topic, "-p", "0", "-o", "beginning", "-e", "-q",
            "-f", "%o\\n", "-X", "broker.address.family=v4"], TimeSpan.FromSeconds(60)));
        Assert.True(result.Succeeded, $"kcat failed\n{result.Describe()}");
        return result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(long.Parse).ToList();
    }

    [Fact]
    public void Deleted_records_stay_deleted_for_every_client_across_kill_9()
    {
        var broker = StartBroker("logadmin-delete");
        const string topic = "purge";
        CreateTopic(broker, topic);
        var produced = Clients(broker, "produce", "--topic", topic, "--count", Records.ToString());
        Assert.Equal(Records - 1, GetLong(produced, "last"));

        // kafkajs deletes up to offset 7 (inside a producer batch) and reads the low watermark back with ListOffsets.
        Assert.Equal(7, KafkaJsDeleteRecords(broker, topic, 7));
        AssertEveryClientStartsAt(broker, topic, 7);

        using (var c = new WireConnection("127.0.0.1", broker.Port, "logadmin-wire"))
        {
            var tooFar = LogAdminWire.DeleteRecords(c, 1, topic, 0, Records + 1);
            Assert.Equal((LogAdminWire.OffsetOutOfRange, -1L), (tooFar.Error, tooFar.LowWatermark));
            Assert.Equal(0, LogAdminWire.DeleteRecords(c, 0, topic, 0, 3).Error); // below the log start: a no-op
            var earliest = LogAdminWire.ListOffset(c, topic, 0, -2);
            Assert.Equal((0, 7L), ((int)earliest.Error, earliest.Offset));
        }

        broker.Kill();
        broker.Restart();
        AssertEveryClientStartsAt(broker, topic, 7);

        // Everything up to the high watermark (-1), over the flexible version.
        using (var c = new WireConnection("127.0.0.1", broker.Port, "logadmin-wire"))
        {
            var all = LogAdminWire.DeleteRecords(c, 2, topic, 0, -1);
            Assert.Equal((0, (long)Records), ((int)all.Error, all.LowWatermark));
        }
        Assert.Empty(KcatOffsets(broker, topic));
        var after = Clients(broker, "consume", "--topic", topic, "--client", "confluent");
        Assert.Equal((0L, (long)Records, (long)Records), (GetLong(after, "count"), GetLong(after, "low"), GetLong(after, "high")));
    }

    private void AssertEveryClientStartsAt(BrokerProcess broker, string topic, long start)
    {
        foreach (string client in new[] { "confluent", "kafka-python" })
        {
            var read = Clients(broker, "consume", "--topic", topic, "--client", client);
            Assert.Equal((start, start, Records - start, Records - 1L),
                (GetLong(read, "low"), GetLong(read, "first"), GetLong(read, "count"), GetLong(read, "last")));
        }
        var kcat = KcatOffsets(broker, topic);
        Assert.Equal(Enumerable.Range((int)start, Records - (int)start).Select(i => (long)i), kcat);
    }

    [Fact]
    public void DescribeLogDirs_lists_the_partitions_of_the_data_directory_in_every_version()
    {
        var broker = StartBroker("logadmin-dirs");
        CreateTopic(broker, "sized");
        CreateTopic(broker, "empty");
        Clients(broker, "produce", "--topic", "sized", "--count", "12");
        using var c = new WireConnection("127.0.0.1", broker.Port, "logadmin-wire");
        for (short version = 0; version <= 4; version++)
        {
            var dir = Assert.Single(LogAdminWire.DescribeLogDirs(c, version, null));
            Assert.Equal(0, dir.Error);
            Assert.Equal(Path.GetFullPath(broker.DataDir).TrimEnd('/'), dir.Dir);
            var sized = Assert.Single(dir.Partitions, p => p.Topic == "sized");
            var empty = Assert.Single(dir.Partitions, p => p.Topic == "empty");
            Assert.True(sized.Size > 12 * 10, $"v{version}: size {sized.Size}");
            Assert.Equal((0L, 0L, false), (empty.Size, sized.OffsetLag, sized.IsFuture));
            Assert.DoesNotContain(dir.Partitions, p => p.Topic.StartsWith("__cluster_metadata", StringComparison.Ordinal));
            if (version >= 4) Assert.True(dir.TotalBytes > 0 && dir.UsableBytes > 0 && dir.UsableBytes <= dir.TotalBytes, $"{dir}");
        }
        var filtered = Assert.Single(LogAdminWire.DescribeLogDirs(c, 4, [("sized", [0, 5]), ("unknown", [0])]));
        Assert.Equal([("sized", 0)], filtered.Partitions.Select(p => (p.Topic, p.Partition)));
    }

    [Fact]
    public void OffsetForLeaderEpoch_answers_each_epoch_after_restarts()
    {
        var broker = StartBroker("logadmin-epochs");
        const string topic = "epochs";
        CreateTopic(broker, topic);
        var starts = new List<(int Epoch, long Start)>();
        for (int round = 0; round < 3; round++)
        {
            if (round > 0)
            {
                broker.Kill(); // a one-voter group starts a new term (leader epoch) at every start
                broker.Restart();
            }
            long start;
            int epoch;
            using (var c = new WireConnection("127.0.0.1", broker.Port, "logadmin-wire"))
                (_, start, epoch) = LogAdminWire.ListOffset(c, topic, 0, -1);
            Clients(broker, "produce", "--topic", topic, "--count", "5");
            using (var c = new WireConnection("127.0.0.1", broker.Port, "logadmin-wire"))
                epoch = LogAdminWire.ListOffset(c, topic, 0, -1).LeaderEpoch;
            starts.Add((epoch, start));
        }
        Assert.True(starts[0].Epoch < starts[1].Epoch && starts[1].Epoch < starts[2].Epoch, string.Join(", ", starts));
        using var wire = new WireConnection("127.0.0.1", broker.Port, "logadmin-wire");
        for (short version = 3; version <= 4; version++)
        {
            // Each epoch ends where the next one started; the current one at the log end (3 rounds of 5 records).
            for (int i = 0; i < starts.Count; i++)
            {
                long end = i + 1 < starts.Count ? starts[i + 1].Start : 15;
                Assert.Equal(((short)0, starts[i].Epoch, end), LogAdminWire.OffsetForLeaderEpoch(wire, version, topic, 0, starts[i].Epoch));
            }
            Assert.Equal(-1L, LogAdminWire.OffsetForLeaderEpoch(wire, version, topic, 0, starts[2].Epoch + 1).EndOffset);
            Assert.Equal(LogAdminWire.FencedLeaderEpoch,
                LogAdminWire.OffsetForLeaderEpoch(wire, version, topic, 0, starts[2].Epoch, currentLeaderEpoch: starts[1].Epoch).Error);
        }
    }
}

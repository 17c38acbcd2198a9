using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Broker.Compression;
using Broker.Core.Records;
using Broker.Integration.Tests.Compression;
using Broker.Integration.Tests.Infrastructure;
using Broker.Integration.Tests.LogAdmin;
using Xunit;
using Xunit.Abstractions;

namespace Broker.Integration.Tests.Compaction;

/// <summary>
/// Compacted topics through the published broker and real clients: kcat produces keyed records (plain, snappy and
/// zstd batches, tombstones with -Z) into a cleanup.policy=compact topic with tiny segments and an eager cleaner; the
/// log is then compacted in the background (superseded values gone, tombstones gone after delete.retention.ms with no
/// further writes, offsets unchanged, surviving compressed batches still compressed) and confluent-kafka reads exactly
/// that. A compact,delete topic also loses whole old segments to retention.ms and accepts DeleteRecords, which a
/// compact-only topic refuses.
/// </summary>
public sealed class CompactedTopicClientTests : IntegrationTest
{
    private static readonly TimeSpan CompactionWait = TimeSpan.FromSeconds(40);

    public CompactedTopicClientTests(ITestOutputHelper output) : base(output) { }

    private BrokerProcess StartCompactingBroker() => StartBroker("compaction", new Dictionary<string, string>
    {
        ["log.cleaner.backoff.ms"] = "200",
        ["log.retention.check.interval.ms"] = "1000",
    });

    private static void CreateTopic(BrokerProcess broker, string topic, Dictionary<string, string> configs)
    {
        var (error, message) = ClusterWire.CreateTopic("127.0.0.1", broker.Port, topic, 1, 1, configs, TimeSpan.FromSeconds(10));
        Assert.True(error == 0, $"CreateTopics {topic}: error {error} {message}\n{broker.DescribeState()}");
    }

    /// <summary>kcat -P of key TAB value lines (an empty value is a tombstone: -Z) with an optional codec.</summary>
    private void Produce(BrokerProcess broker, string topic, string name, IEnumerable<(string Key, string? Value)> records, string? codec = null)
    {
        string input = Scratch($"{topic}-{name}.txt");
        File.WriteAllLines(input, records.Select(r => $"{r.Key}\t{r.Value ?? ""}"));
        var args = new List<string> { "-P", "-b", broker.Bootstrap, "-t", topic, "-p", "0", "-K", "\t", "-Z",
            "-X", "acks=all", "-X", "linger.ms=20", "-l", input };
        if (codec != null) args.AddRange(["-z", codec]);
        var result = Log(ScriptRunner.Run("kcat", args, ScriptTimeout));
        Assert.True(result.Succeeded, $"kcat -P {name} failed\n{result.Describe()}\n{broker.DescribeState()}");
    }

    /// <summary>Value of key k in a round (padded so that every codec really compresses the batch).</summary>
    private static string V(string prefix, int round, int k) => $"{prefix}-r{round}-k{k}-" + new string('x', 40);

    private static IEnumerable<(string, string?)> Round(string prefix, int round, IEnumerable<int> keys) =>
        keys.Select(k => ($"k{k}", (string?)V(prefix, round, k)));

    [Fact]
    public void A_compacted_topic_reads_back_as_the_latest_value_per_key_at_the_original_offsets()
    {
        var broker = StartCompactingBroker();
        const string topic = "compacted-kcat";
        CreateTopic(broker, topic, new()
        {
            ["cleanup.policy"] = "compact", ["segment.ms"] = "500", ["segment.bytes"] = "4096",
            ["min.cleanable.dirty.ratio"] = "0.01", ["delete.retention.ms"] = "2000", ["min.compaction.lag.ms"] = "0",
        });

        // What is produced, in order (one partition: offsets follow the input order).
        var produced = new List<(string Key, string? Value)>();
        void Send(string name, List<(string, string?)> records, string? codec)
        {
            Produce(broker, topic, name, records, codec);
            produced.AddRange(records);
            Thread.Sleep(600); // past segment.ms: the next run starts a new segment
        }
        Send("plain", Enumerable.Range(0, 3).SelectMany(r => Round("plain", r, Enumerable.Range(0, 10))).ToList(), null);
        Send("snappy", Enumerable.Range(3, 3).SelectMany(r => Round("snappy", r, Enumerable.Range(0, 10))).ToList(), "snappy");
        Send("zstd", Round("zstd", 6, Enumerable.Range(0, 5)).Append(("k8", null)).Append(("k9", null)).ToList(), "zstd");
        Send("marker", [("marker", "end")], null); // seals the zstd run's segment; stays in the active segment
        long end = produced.Count;

        // The model: latest record per key, tombstoned keys gone entirely.
        var latest = new Dictionary<string, long>();
        for (int i = 0; i < produced.Count; i++) latest[produced[i].Key] = i;
        var expected = latest.Where(e => produced[(int)e.Value].Value != null)
            .Select(e => new KeyedText(e.Value, e.Key, produced[(int)e.Value].Value)).OrderBy(r => r.Offset).ToList();
        Assert.Equal(9, expected.Count); // k0..k7 + marker

        var stored = WaitForRecords(broker, topic, end, expected);
        // Survivors of compressed batches are still compressed with their codec (recompressed, not inflated).
        Assert.Equal(CompressionCodec.Snappy, stored.Single(b => b.Records.Any(r => r.Key == "k5")).Codec);
        Assert.Equal(CompressionCodec.Zstd, stored.Single(b => b.Records.Any(r => r.Key == "k0")).Codec);
        Assert.All(stored.Where(b => b.Records.Count == 0), b => Assert.Equal(CompressionCodec.None, b.Codec));

        var consumed = ConfluentConsume(broker, topic, end);
        Assert.Equal(expected, consumed);
        Assert.Equal(0, ListOffset(broker, topic, -2)); // nothing deleted: the log still starts at 0
        Assert.Equal(end, ListOffset(broker, topic, -1));

        // DeleteRecords is refused on a compact-only topic (Kafka: POLICY_VIOLATION).
        using var connection = new WireConnection("127.0.0.1", broker.Port, "compaction-test");
        Assert.Equal(44, LogAdminWire.DeleteRecords(connection, 2, topic, 0, 5).Error);
    }

    [Fact]
    public void A_compact_delete_topic_is_compacted_loses_old_segments_to_retention_and_accepts_delete_records()
    {
        var broker = StartCompactingBroker();
        const string topic = "compact-delete-kcat";
        CreateTopic(broker, topic, new()
        {
            ["cleanup.policy"] = "compact,delete", ["retention.ms"] = "10000", ["segment.ms"] = "500",
            ["min.cleanable.dirty.ratio"] = "0.01", ["delete.retention.ms"] = "1000",
        });

        // Two rounds of a0..a4 (offsets 0-9), then a newer a0 in its own segment (offset 10).
        Produce(broker, topic, "old", Enumerable.Range(0, 2).SelectMany(r => Round("old", r, Enumerable.Range(0, 5))).ToList(), "zstd");
        Thread.Sleep(600);
        Produce(broker, topic, "old-a0", [("k0", "old-latest")]);
        var sealedAt = Stopwatch.StartNew();
        var compacted = new List<KeyedText>
        {
            new(6, "k1", V("old", 1, 1)), new(7, "k2", V("old", 1, 2)), new(8, "k3", V("old", 1, 3)), new(9, "k4", V("old", 1, 4)),
            new(10, "k0", "old-latest"),
        };
        // The sealed segment was compacted (the map covers the active segment too: k0's older values went).
        Thread.Sleep(600);
        Produce(broker, topic, "roll", [("k9", "roll")]); // offset 11: seals the segment holding offset 10
        compacted.Add(new(11, "k9", "roll"));
        WaitForRecords(broker, topic, 12, compacted);

        // retention.ms after the old data, new data: the old segments expire and the log start moves past them.
        var wait = TimeSpan.FromMilliseconds(10_500) - sealedAt.Elapsed;
        if (wait > TimeSpan.Zero) Thread.Sleep(wait);
        Produce(broker, topic, "new", [("b0", "new-0"), ("b1", "new-1"), ("b2", "new-2")]); // offsets 12-14
        var sw = Stopwatch.StartNew();
        long earliest;
        while ((earliest = ListOffset(broker, topic, -2)) < 11)
        {
            Assert.True(sw.Elapsed < CompactionWait, $"log start still {earliest} after {sw.Elapsed.TotalSeconds:F0} s\n{broker.DescribeState()}");
            Thread.Sleep(250);
        }
        Assert.InRange(earliest, 11, 12); // offset 11 sat in the segment sealed by the new run: expired or not yet

        // DeleteRecords works on compact,delete: the log start moves to 13 and clients see only what is left.
        using var connection = new WireConnection("127.0.0.1", broker.Port, "compaction-test");
        var deleted = LogAdminWire.DeleteRecords(connection, 2, topic, 0, 13);
        Assert.Equal(((short)0, 13L), (deleted.Error, deleted.LowWatermark));
        Assert.Equal(new List<KeyedText> { new(13, "b1", "new-1"), new(14, "b2", "new-2") }, ConfluentConsume(broker, topic, 15));
    }

    /// <summary>One record as the tests compare them: offset, key and value (null for a tombstone).</summary>
    private sealed record KeyedText(long Offset, string? Key, string? Value);

    private sealed record StoredBatch(long BaseOffset, CompressionCodec Codec, List<KeyedText> Records);

    /// <summary>Fetches the partition (raw, every batch) until its records equal <paramref name="expected"/> (bounded).</summary>
    private List<StoredBatch> WaitForRecords(BrokerProcess broker, string topic, long end, List<KeyedText> expected)
    {
        var sw = Stopwatch.StartNew();
        while (true)
        {
            var batches = FetchAll(broker, topic, end);
            var records = batches.SelectMany(b => b.Records).ToList();
            if (records.SequenceEqual(expected))
            {
                Output.WriteLine($"{topic}: compacted as expected after {sw.Elapsed.TotalSeconds:F1} s: {batches.Count} batches");
                return batches;
            }
            if (sw.Elapsed > CompactionWait)
            {
                Assert.Fail($"{topic} not compacted as expected in {CompactionWait.TotalSeconds:F0} s.\nexpected: {string.Join(", ", expected)}\n" +
                            $"stored:   {string.Join(", ", records)}\n{broker.DescribeState()}\n{broker.LogTail(40)}");
            }
            Thread.Sleep(300);
        }
    }

    /// <summary>Every stored batch from the log start up to <paramref name="end"/>, decompressed.</summary>
    private static List<StoredBatch> FetchAll(BrokerProcess broker, string topic, long end)
    {
        var result = new List<StoredBatch>();
        long next = Math.Max(0, ListOffset(broker, topic, -2));
        while (next < end)
        {
            var batches = CompressionWire.FetchBatches(broker, topic, next);
            if (batches.Count == 0) break;
            foreach (byte[] batch in batches)
            {
                RecordBatchHeader.TryRead(batch, out var header);
                var records = new List<KeyedText>();
                var reader = new RecordReader(RecordBatchCompression.Decompress(batch));
                while (reader.TryRead(out var r))
                {
                    records.Add(new KeyedText(r.Offset, r.KeyIsNull ? null : Encoding.UTF8.GetString(r.Key),
                        r.ValueIsNull ? null : Encoding.UTF8.GetString(r.Value)));
                }
                result.Add(new StoredBatch(header.BaseOffset, header.Compression, records));
                next = header.LastOffset + 1;
            }
        }
        return result;
    }

    private static long ListOffset(BrokerProcess broker, string topic, long timestamp)
    {
        using var connection = new WireConnection("127.0.0.1", broker.Port, "compaction-list-offsets");
        var (error, offset, _) = LogAdminWire.ListOffset(connection, topic, 0, timestamp);
        Assert.Equal(0, error);
        return offset;
    }

    /// <summary>confluent-kafka (librdkafka) reads the partition from the beginning up to <paramref name="end"/>.</summary>
    private List<KeyedText> ConfluentConsume(BrokerProcess broker, string topic, long end)
    {
        var result = Log(ScriptRunner.Run(TestPaths.Python, ["-c", ConfluentReader, broker.Bootstrap, topic, end.ToString()], ScriptTimeout));
        Assert.True(result.Succeeded, $"confluent-kafka reader failed\n{result.Describe()}\n{broker.DescribeState()}");
        using var doc = JsonDocument.Parse(result.Stdout.Trim().Split('\n')[^1]);
        return doc.RootElement.EnumerateArray()
            .Select(e => new KeyedText(e.GetProperty("offset").GetInt64(), e.GetProperty("key").GetString(), e.GetProperty("value").GetString()))
            .ToList();
    }

    /// <summary>Assigns partition 0 at the beginning, reads until the record before <c>end</c>, prints a JSON array.</summary>
    private const string ConfluentReader = """
        import json, sys, time
        from confluent_kafka import Consumer, KafkaError, TopicPartition, OFFSET_BEGINNING
        boot, topic, end = sys.argv[1], sys.argv[2], int(sys.argv[3])
        consumer = Consumer({"bootstrap.servers": boot, "group.id": "compaction-reader", "enable.auto.commit": False,
                             "check.crcs": True, "enable.partition.eof": True})
        consumer.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
        out, deadline = [], time.time() + 30
        while time.time() < deadline:
            m = consumer.poll(0.5)
            if m is None:
                continue
            if m.error():
                if m.error().code() == KafkaError._PARTITION_EOF:
                    if out and out[-1]["offset"] >= end - 1:
                        break
                    continue
                sys.exit("consume error: %s" % m.error())
            text = lambda b: None if b is None else b.decode()
            out.append({"offset": m.offset(), "key": text(m.key()), "value": text(m.value())})
            if m.offset() >= end - 1:
                break
        consumer.close()
        if not out or out[-1]["offset"] < end - 1:
            sys.exit("read %d records, last offset %s, wanted up to %d" % (len(out), out[-1]["offset"] if out else None, end - 1))
        print(json.dumps(out))
        """;
}

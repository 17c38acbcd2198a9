using System.Diagnostics;
using System.Globalization;
using Broker.Client;
using Broker.Compression;
using Broker.Core.Model;
using Broker.Core.Records;
using Broker.Integration.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace Broker.Integration.Tests.Compression;

/// <summary>
/// compression.type through the real broker: batches that kcat and kafka-python compress are stored with the topic's
/// codec (recompressed on append), read back by kcat and confluent-kafka; changing compression.type changes the codec
/// of later batches; and ListOffsets by timestamp answers the exact record inside a librdkafka-compressed batch.
/// </summary>
public sealed class TopicCompressionTypeTests : IntegrationTest
{
    private const int Count = 200;

    public TopicCompressionTypeTests(ITestOutputHelper output) : base(output) { }

    private static KafkaClient Connect(BrokerProcess broker) => new(new KafkaClientOptions { BootstrapServers = broker.Bootstrap });

    private static async Task CreateTopic(KafkaClient client, string topic, string? compressionType)
    {
        var configs = compressionType is null ? null : new Dictionary<string, string> { ["compression.type"] = compressionType };
        var result = Assert.Single(await client.CreateTopicsAsync([new NewTopic(topic, 1, 1, configs)]));
        Assert.True(result.Error == ErrorCode.None, $"create {topic}: {result.Error} {result.Message}");
    }

    private static List<TextRecord> Expected(string tag, int from) =>
        Enumerable.Range(0, Count)
            .Select(i => new TextRecord(from + i, $"{tag}-key-{i % 9}", $"{tag} value {i} " + string.Concat(Enumerable.Repeat($"chunk-{i % 5} ", 6))))
            .ToList();

    private string WriteInput(string name, List<TextRecord> records)
    {
        string path = Scratch(name);
        File.WriteAllLines(path, records.Select(r => r.Line));
        return path;
    }

    [Theory]
    [InlineData("zstd", "snappy", "lz4")]
    [InlineData("gzip", "lz4", "snappy")]
    [InlineData("uncompressed", "snappy", "gzip")]
    public async Task Batches_are_stored_with_the_topics_codec_and_read_back_by_kcat_and_confluent(string compressionType,
        string kcatCodec, string kafkaPythonCodec)
    {
        var broker = StartBroker($"ct-{compressionType}");
        await using var client = Connect(broker);
        string topic = $"ct-{compressionType}";
        await CreateTopic(client, topic, compressionType);

        var fromKcat = Expected("kcat", 0);
        var produce = Log(ScriptRunner.Run("kcat", ["-P", "-b", broker.Bootstrap, "-t", topic, "-p", "0", "-z", kcatCodec,
            "-K", "\t", "-X", "linger.ms=50", "-X", "acks=all", "-l", WriteInput("kcat.txt", fromKcat)], ScriptTimeout));
        Assert.True(produce.Succeeded, $"kcat -P -z {kcatCodec} failed\n{produce.Describe()}\n{broker.DescribeState()}");

        var fromPython = Expected("kafka-python", Count);
        var python = Log(ScriptRunner.Run(TestPaths.Python, ["-c", KafkaPythonProducer, broker.Bootstrap, topic, kafkaPythonCodec,
            WriteInput("python.txt", fromPython)], ScriptTimeout));
        Assert.True(python.Succeeded, $"kafka-python producer ({kafkaPythonCodec}) failed\n{python.Describe()}\n{broker.DescribeState()}");

        var expected = fromKcat.Concat(fromPython).ToList();
        Assert.True(Codecs.TryParse(compressionType == "uncompressed" ? "none" : compressionType, out var topicCodec));
        var codecs = new List<CompressionCodec>();
        var stored = CompressionWire.FetchRecords(broker, topic, expected.Count, codecs);
        Output.WriteLine($"{topic}: {stored.Count} records in {codecs.Count} batches: {string.Join(", ", codecs)}");
        Assert.Equal(expected, stored);
        Assert.All(codecs, c => Assert.Equal(topicCodec, c));

        var kcat = Log(ScriptRunner.Run("kcat", ["-C", "-b", broker.Bootstrap, "-t", topic, "-p", "0", "-o", "beginning",
            "-c", expected.Count.ToString(CultureInfo.InvariantCulture), "-e", "-q", "-f", "%k\t%s\n", "-X", "check.crcs=true"], ScriptTimeout));
        Assert.True(kcat.Succeeded, $"kcat -C failed\n{kcat.Describe()}");
        Assert.Equal(expected.Select(r => r.Line), Lines(kcat.Stdout));

        var confluent = Log(ScriptRunner.Run(TestPaths.Python, ["-c", ConfluentConsumer, broker.Bootstrap, topic,
            expected.Count.ToString(CultureInfo.InvariantCulture)], ScriptTimeout));
        Assert.True(confluent.Succeeded, $"confluent-kafka consumer failed\n{confluent.Describe()}");
        Assert.Equal(expected.Select(r => r.Line), Lines(confluent.Stdout));
    }

    [Fact]
    public async Task Changing_compression_type_changes_the_codec_of_later_batches()
    {
        var broker = StartBroker("ct-dynamic");
        await using var client = Connect(broker);
        const string topic = "ct-dynamic";
        await CreateTopic(client, topic, null); // "producer": stored as produced

        ProduceWithKcat(broker, topic, "snappy", "first");
        var first = CompressionWire.FetchBatches(broker, topic, 0);
        Assert.NotEmpty(first);
        Assert.All(first, b => Assert.Equal(CompressionCodec.Snappy, RecordBatchCompression.CodecOf(b)));

        await AlterCompression(client, topic, ConfigAlterOp.Set, "lz4");
        long next = WaitForStoredCodec(broker, topic, CompressionCodec.Lz4);
        ProduceWithKcat(broker, topic, "snappy", "second");
        var second = CompressionWire.FetchBatches(broker, topic, next);
        Assert.NotEmpty(second);
        Assert.All(second, b => Assert.Equal(CompressionCodec.Lz4, RecordBatchCompression.CodecOf(b)));

        await AlterCompression(client, topic, ConfigAlterOp.Delete, null);
        next = WaitForStoredCodec(broker, topic, CompressionCodec.None); // an uncompressed batch stays uncompressed again
        ProduceWithKcat(broker, topic, "snappy", "third");
        var third = CompressionWire.FetchBatches(broker, topic, next);
        Assert.NotEmpty(third);
        Assert.All(third, b => Assert.Equal(CompressionCodec.Snappy, RecordBatchCompression.CodecOf(b)));

        // Every batch, old and new, still reads back through kcat.
        long total = 3L * Count + _probes;
        var kcat = Log(ScriptRunner.Run("kcat", ["-C", "-b", broker.Bootstrap, "-t", topic, "-p", "0", "-o", "beginning",
            "-c", total.ToString(CultureInfo.InvariantCulture), "-e", "-q", "-f", "%s\n", "-X", "check.crcs=true"], ScriptTimeout));
        Assert.True(kcat.Succeeded, $"kcat -C failed\n{kcat.Describe()}");
        Assert.Equal(total, Lines(kcat.Stdout).Count);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("zstd")]
    public async Task ListOffsets_by_timestamp_answers_the_exact_record_inside_a_compressed_batch(string? compressionType)
    {
        var broker = StartBroker("ct-timestamps");
        await using var client = Connect(broker);
        string topic = $"ct-ts-{compressionType ?? "producer"}";
        await CreateTopic(client, topic, compressionType);

        const int records = 50;
        long t0 = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - 3_600_000;
        var produce = Log(ScriptRunner.Run(TestPaths.Python, ["-c", ConfluentTimedProducer, broker.Bootstrap, topic, "snappy",
            t0.ToString(CultureInfo.InvariantCulture), records.ToString(CultureInfo.InvariantCulture)], ScriptTimeout));
        Assert.True(produce.Succeeded, $"confluent-kafka producer failed\n{produce.Describe()}\n{broker.DescribeState()}");

        // The records sit in compressed batches (librdkafka's raw snappy, or zstd after recompression), the probed ones
        // in the middle of a batch.
        var batches = CompressionWire.FetchBatches(broker, topic, 0);
        var expectedCodec = compressionType is null ? CompressionCodec.Snappy : CompressionCodec.Zstd;
        Assert.All(batches, b => Assert.Equal(expectedCodec, RecordBatchCompression.CodecOf(b)));
        var headers = batches.Select(b => { RecordBatchHeader.TryRead(b, out var h); return h; }).ToList();
        Output.WriteLine($"{topic}: batches {string.Join(", ", headers.Select(h => $"{h.BaseOffset}-{h.LastOffset}"))}");
        Assert.Equal(records - 1, headers[^1].LastOffset);

        foreach (int target in new[] { 1, 17, 33, 49 })
        {
            long timestamp = t0 + 10L * target - 5; // between record target-1 and record target
            Assert.Contains(headers, h => h.BaseOffset < target && target <= h.LastOffset);
            Assert.Equal(target, await client.ListOffsetAsync(topic, 0, timestamp));
            Assert.Equal(target, await client.ListOffsetAsync(topic, 0, timestamp + 5)); // exactly the record's time

            var kcat = Log(ScriptRunner.Run("kcat", ["-C", "-b", broker.Bootstrap, "-t", topic, "-p", "0",
                "-o", $"s@{timestamp.ToString(CultureInfo.InvariantCulture)}", "-c", "1", "-e", "-q", "-f", "%o %T\n"], ScriptTimeout));
            Assert.True(kcat.Succeeded, $"kcat -o s@{timestamp} failed\n{kcat.Describe()}");
            Assert.Equal($"{target} {t0 + 10L * target}", Assert.Single(Lines(kcat.Stdout)));
        }
        Assert.Equal(-1, await client.ListOffsetAsync(topic, 0, t0 + 10L * records));
    }

    private void ProduceWithKcat(BrokerProcess broker, string topic, string codec, string tag)
    {
        var input = WriteInput($"{tag}.txt", Expected(tag, 0));
        var produce = Log(ScriptRunner.Run("kcat", ["-P", "-b", broker.Bootstrap, "-t", topic, "-p", "0", "-z", codec,
            "-K", "\t", "-X", "linger.ms=50", "-X", "acks=all", "-l", input], ScriptTimeout));
        Assert.True(produce.Succeeded, $"kcat -P -z {codec} failed\n{produce.Describe()}\n{broker.DescribeState()}");
    }

    private static async Task AlterCompression(KafkaClient client, string topic, ConfigAlterOp op, string? value)
    {
        var altered = await client.IncrementalAlterConfigsAsync(ConfigResourceKind.Topic, topic,
            [new ConfigAlteration("compression.type", op, value)]);
        Assert.True(altered.Error == ErrorCode.None, $"alter compression.type: {altered.Error} {altered.Message}");
    }

    /// <summary>Probe records produced by <see cref="WaitForStoredCodec"/> so far.</summary>
    private int _probes;

    /// <summary>
    /// Produces one-record uncompressed batches until one is stored as <paramref name="codec"/> (the config change
    /// reaches the partition through the metadata log a moment after the alter returns); returns the next offset.
    /// </summary>
    private long WaitForStoredCodec(BrokerProcess broker, string topic, CompressionCodec codec)
    {
        var sw = Stopwatch.StartNew();
        while (true)
        {
            var builder = new RecordBatchBuilder();
            long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            builder.Reset(now);
            builder.Add(now, "probe"u8, System.Text.Encoding.UTF8.GetBytes($"probe {_probes++} " + new string('x', 200)));
            long offset = CompressionWire.Produce(broker, topic, builder.ToArray());
            var stored = Assert.Single(CompressionWire.FetchBatches(broker, topic, offset));
            if (RecordBatchCompression.CodecOf(stored) == codec) return offset + 1;
            Assert.True(sw.Elapsed < TimeSpan.FromSeconds(15), $"no batch stored as {codec} 15 s after the alter\n{broker.DescribeState()}");
            Thread.Sleep(100);
        }
    }

    private static List<string> Lines(string stdout) => stdout.Split('\n').Where(l => l.Length > 0).ToList();

    /// <summary>kafka-python: produce key TAB value lines to partition 0 with the given codec; every send must succeed.</summary>
    private const string KafkaPythonProducer = """
        import sys
        from kafka import KafkaProducer
        boot, topic, codec, path = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
        producer = KafkaProducer(bootstrap_servers=boot, compression_type=codec, linger_ms=50, acks="all",
                                 api_version_auto_timeout_ms=10000, request_timeout_ms=30000)
        futures = []
        for line in open(path):
            key, value = line.rstrip("\n").split("\t", 1)
            futures.append(producer.send(topic, key=key.encode(), value=value.encode(), partition=0))
        producer.flush(30)
        for f in futures:
            f.get(timeout=30)
        producer.close(10)
        """;

    /// <summary>confluent-kafka: read partition 0 from the start, print key TAB value per record.</summary>
    private const string ConfluentConsumer = """
        import sys, time
        from confluent_kafka import Consumer, TopicPartition
        boot, topic, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
        consumer = Consumer({"bootstrap.servers": boot, "group.id": "ct-check", "enable.auto.commit": False,
                             "check.crcs": True})
        consumer.assign([TopicPartition(topic, 0, 0)])
        out, deadline = [], time.time() + 30
        while len(out) < n and time.time() < deadline:
            m = consumer.poll(1.0)
            if m is None:
                continue
            if m.error():
                sys.exit(str(m.error()))
            out.append(m.key().decode() + "\t" + m.value().decode())
        consumer.close()
        sys.stdout.write("".join(line + "\n" for line in out))
        """;

    /// <summary>confluent-kafka: n records with timestamps t0 + 10*i, compressed, lingering so they share batches.</summary>
    private const string ConfluentTimedProducer = """
        import sys
        from confluent_kafka import Producer
        boot, topic, codec, t0, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
        producer = Producer({"bootstrap.servers": boot, "compression.codec": codec, "linger.ms": 500, "acks": "all"})
        errors = []
        def delivered(err, msg):
            if err is not None:
                errors.append(str(err))
        for i in range(n):
            producer.produce(topic, key=b"k%d" % i, value=b"timed value %d" % i, partition=0, timestamp=t0 + 10 * i,
                             on_delivery=delivered)
        left = producer.flush(30)
        if left or errors:
            sys.exit("undelivered: %d, errors: %s" % (left, errors))
        """;
}

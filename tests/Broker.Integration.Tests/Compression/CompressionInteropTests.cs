using System.Text;
using Broker.Compression;
using Broker.Core.Records;
using Broker.Integration.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace Broker.Integration.Tests.Compression;

/// <summary>
/// Our codecs against librdkafka and kafka-python through the real broker: batches kcat compresses (gzip, snappy,
/// lz4, zstd) are fetched raw and must decompress to exactly the produced records; batches we compress are produced
/// raw, stored as they are, and read back by kcat and kafka-python.
/// </summary>
public sealed class CompressionInteropTests : IntegrationTest
{
    private const int Count = 300;
    private static readonly string[] CodecNames = ["gzip", "snappy", "lz4", "zstd"];

    public CompressionInteropTests(ITestOutputHelper output) : base(output) { }

    private static List<TextRecord> Expected(string codec) =>
        Enumerable.Range(0, Count)
            .Select(i => new TextRecord(i, $"key-{i % 10}", $"{codec} value {i}: " + string.Concat(Enumerable.Repeat($"payload-{i % 7} ", 8))))
            .ToList();

    [Fact]
    public void BatchesKcatCompresses_DecompressToExactlyTheProducedRecords()
    {
        var broker = StartBroker("codec-kcat");
        foreach (string codec in CodecNames)
        {
            string topic = $"from-kcat-{codec}";
            CompressionWire.CreateTopic(broker, topic);
            var expected = Expected(codec);
            string input = Scratch($"{codec}.txt");
            File.WriteAllLines(input, expected.Select(r => r.Line));
            var produce = Log(ScriptRunner.Run("kcat", ["-P", "-b", broker.Bootstrap, "-t", topic, "-p", "0", "-z", codec,
                "-K", "\t", "-X", "linger.ms=50", "-X", "acks=all", "-l", input], ScriptTimeout));
            Assert.True(produce.Succeeded, $"kcat -P -z {codec} failed\n{produce.Describe()}\n{broker.DescribeState()}");

            var codecs = new List<CompressionCodec>();
            var fetched = CompressionWire.FetchRecords(broker, topic, Count, codecs, batch =>
                Output.WriteLine($"{codec}: batch of {batch.Length} bytes, compressed records start {Convert.ToHexString(batch, RecordBatchHeader.Size, 8)}"));
            Output.WriteLine($"{codec}: {fetched.Count} records in {codecs.Count} batch(es): {string.Join(", ", codecs)}");
            Assert.Equal(expected, fetched);
            Assert.NotEmpty(codecs);
            Assert.All(codecs, c => Assert.Equal(codec, Codecs.Name(c)));
        }
    }

    [Fact]
    public void BatchesWeCompress_AreStoredAsIsAndReadByKcatAndKafkaPython()
    {
        var broker = StartBroker("codec-ours");
        foreach (string codec in CodecNames)
        {
            Assert.True(Codecs.TryParse(codec, out var parsed));
            string topic = $"from-us-{codec}";
            CompressionWire.CreateTopic(broker, topic);
            var expected = Expected(codec);
            byte[] batch = RecordBatchCompression.Compress(Build(expected), parsed);
            Assert.Equal(parsed, RecordBatchCompression.CodecOf(batch));
            Assert.Equal(0, CompressionWire.Produce(broker, topic, batch));

            // The broker keeps the batch as produced (same codec, same compressed bytes after the header).
            var stored = Assert.Single(CompressionWire.FetchBatches(broker, topic, 0));
            Assert.Equal(parsed, RecordBatchCompression.CodecOf(stored));
            Assert.True(stored.AsSpan(RecordBatchHeader.Size).SequenceEqual(batch.AsSpan(RecordBatchHeader.Size)), $"{codec}: stored records differ");

            var kcat = Log(ScriptRunner.Run("kcat", ["-C", "-b", broker.Bootstrap, "-t", topic, "-p", "0", "-o", "beginning",
                "-c", Count.ToString(), "-e", "-q", "-f", "%k\t%s\n", "-X", "check.crcs=true"], ScriptTimeout));
            Assert.True(kcat.Succeeded, $"kcat -C of {codec} failed\n{kcat.Describe()}");
            Assert.Equal(expected.Select(r => r.Line), Lines(kcat.Stdout));

            var python = Log(ScriptRunner.Run(TestPaths.Python, ["-c", KafkaPythonConsumer, broker.Bootstrap, topic, Count.ToString()], ScriptTimeout));
            Assert.True(python.Succeeded, $"kafka-python consumer of {codec} failed\n{python.Describe()}");
            Assert.Equal(expected.Select(r => r.Line), Lines(python.Stdout));
        }
    }

    private static byte[] Build(List<TextRecord> records)
    {
        var builder = new RecordBatchBuilder(64 * 1024);
        long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        builder.Reset(now);
        foreach (var r in records) builder.Add(now, Encoding.UTF8.GetBytes(r.Key), Encoding.UTF8.GetBytes(r.Value));
        return builder.ToArray();
    }

    private static List<string> Lines(string stdout) =>
        stdout.Split('\n').Where(l => l.Length > 0).ToList();

    /// <summary>kafka-python: assign partition 0, read from the beginning, print key TAB value per record.</summary>
    private const string KafkaPythonConsumer = """
        import sys
        import kafka.codec as codec
        from kafka import KafkaConsumer, TopicPartition
        boot, topic, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
        if not (codec.has_gzip() and codec.has_snappy() and codec.has_lz4() and codec.has_zstd()):
            sys.exit("kafka-python lacks a codec module (python3-snappy, python3-lz4, python3-zstandard)")
        consumer = KafkaConsumer(bootstrap_servers=boot, group_id=None, enable_auto_commit=False,
                                 auto_offset_reset="earliest", check_crcs=True, consumer_timeout_ms=20000,
                                 api_version_auto_timeout_ms=10000, request_timeout_ms=30000)
        tp = TopicPartition(topic, 0)
        consumer.assign([tp])
        consumer.seek_to_beginning(tp)
        out = []
        for m in consumer:
            out.append(m.key.decode() + "\t" + m.value.decode())
            if len(out) >= n:
                break
        consumer.close()
        sys.stdout.write("".join(line + "\n" for line in out))
        """;
}

using System.Diagnostics;
using System.Text;
using Broker.Client;
using Broker.Core.Model;
using Broker.Core.Records;
using Broker.Integration.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;
using Codec = Broker.Core.Records.CompressionCodec;

namespace Broker.Integration.Tests.Client;

/// <summary>
/// Our Kafka client library (Broker.Client) against the real broker binary: metadata, produce/fetch round trips
/// (headers, null key/value, every codec), ListOffsets by time, and topic administration errors.
/// </summary>
public sealed class ClientCoreTests : IntegrationTest
{
    public ClientCoreTests(ITestOutputHelper output) : base(output) { }

    private static KafkaClient Connect(BrokerProcess broker) => new(new KafkaClientOptions
    {
        BootstrapServers = broker.Bootstrap,
        ClientId = "client-core-it",
        RequestTimeout = TimeSpan.FromSeconds(10),
        RetryBudget = TimeSpan.FromSeconds(15),
    });

    private static async Task CreateTopic(KafkaClient client, string name, int partitions)
    {
        var result = Assert.Single(await client.CreateTopicsAsync(new[] { new NewTopic(name, partitions, 1) }));
        Assert.True(result.Error == ErrorCode.None, $"create {name}: {result.Error} {result.Message}");
    }

    /// <summary>Fetches from <paramref name="offset"/> until <paramref name="count"/> records arrived.</summary>
    private static async Task<List<ConsumedRecord>> FetchAll(KafkaClient client, string topic, int partition, long offset, int count)
    {
        var records = new List<ConsumedRecord>();
        var sw = Stopwatch.StartNew();
        while (records.Count < count)
        {
            Assert.True(sw.Elapsed < TimeSpan.FromSeconds(20), $"only {records.Count} of {count} records after 20 s");
            var result = await client.FetchAsync(topic, partition, offset, 1 << 20, TimeSpan.FromMilliseconds(200));
            Assert.Equal(ErrorCode.None, result.Error);
            records.AddRange(result.Records);
            Assert.True(result.NextOffset >= offset);
            offset = result.NextOffset;
        }
        return records;
    }

    [Fact]
    public async Task Metadata_ListsTheBrokerAndTopics()
    {
        var broker = StartBroker("cl-meta");
        await using var client = Connect(broker);
        await CreateTopic(client, "meta-three", 3);

        var all = await client.GetMetadataAsync(null);
        var b = Assert.Single(all.Brokers);
        Assert.Equal((1, "127.0.0.1", broker.Port), (b.NodeId, b.Host, b.Port));
        Assert.False(string.IsNullOrEmpty(all.ClusterId));
        Assert.Equal(1, all.ControllerId);
        var topic = Assert.Single(all.Topics, t => t.Name == "meta-three");
        Assert.Equal(ErrorCode.None, topic.Error);
        Assert.NotEqual(Guid.Empty, topic.TopicId);
        Assert.False(topic.IsInternal);
        Assert.Equal(new[] { 0, 1, 2 }, topic.Partitions.Select(p => p.Partition));
        Assert.All(topic.Partitions, p =>
        {
            Assert.Equal(1, p.Leader);
            Assert.Equal(new[] { 1 }, p.Replicas);
            Assert.Equal(new[] { 1 }, p.Isr);
        });

        var missing = await client.GetMetadataAsync(new[] { "no-such-topic" });
        Assert.Equal(ErrorCode.UnknownTopicOrPartition, Assert.Single(missing.Topics).Error);
        var stillMissing = await client.GetMetadataAsync(null);
        Assert.DoesNotContain(stillMissing.Topics, t => t.Name == "no-such-topic"); // allowAutoCreate=false created nothing
    }

    [Fact]
    public async Task ProduceFetch_RoundTrip_KeepsKeysValuesHeadersAndNulls()
    {
        var broker = StartBroker("cl-rt");
        await using var client = Connect(broker);
        await CreateTopic(client, "rt", 2);

        var first = new List<ProducerRecord>
        {
            new(Encoding.UTF8.GetBytes("key-1"), Encoding.UTF8.GetBytes("value-1"),
                new[] { new RecordHeader("trace", new byte[] { 0, 1, 255 }), new RecordHeader("empty", Array.Empty<byte>()), new RecordHeader("none", null) }),
            new(null, Encoding.UTF8.GetBytes("no key")),
            new(Encoding.UTF8.GetBytes("tombstone"), null),
            new(Array.Empty<byte>(), Array.Empty<byte>(), Timestamp: 1_600_000_000_000),
        };
        var r1 = await client.ProduceAsync("rt", 1, first);
        Assert.Equal((ErrorCode.None, 0L), (r1.Error, r1.BaseOffset));
        var r2 = await client.ProduceAsync("rt", 1, new[] { new ProducerRecord(null, new byte[100_000]) }, acks: 1);
        Assert.Equal((ErrorCode.None, 4L), (r2.Error, r2.BaseOffset));

        var records = await FetchAll(client, "rt", 1, 0, 5);
        Assert.Equal(new long[] { 0, 1, 2, 3, 4 }, records.Select(r => r.Offset));
        Assert.All(records, r => Assert.Equal(("rt", 1), (r.Topic, r.Partition)));
        Assert.Equal("key-1", Encoding.UTF8.GetString(records[0].Key!));
        Assert.Equal("value-1", Encoding.UTF8.GetString(records[0].Value!));
        Assert.Equal(new[] { "trace", "empty", "none" }, records[0].Headers.Select(h => h.Key));
        Assert.Equal(new byte[] { 0, 1, 255 }, records[0].Headers[0].Value);
        Assert.Equal(Array.Empty<byte>(), records[0].Headers[1].Value);
        Assert.Null(records[0].Headers[2].Value);
        Assert.Null(records[1].Key);
        Assert.Null(records[2].Value);
        Assert.Equal(Array.Empty<byte>(), records[3].Key);
        Assert.Equal(Array.Empty<byte>(), records[3].Value);
        Assert.Equal(1_600_000_000_000, records[3].Timestamp);
        Assert.InRange(records[0].Timestamp, DateTimeOffset.UtcNow.AddMinutes(-5).ToUnixTimeMilliseconds(), DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        Assert.Equal(100_000, records[4].Value!.Length);

        // From the middle of a batch: the records before the requested offset are dropped.
        var middle = await client.FetchAsync("rt", 1, 2, 1 << 20, TimeSpan.Zero);
        Assert.Equal(2, middle.Records[0].Offset);
        Assert.Equal(5, middle.HighWatermark);
        Assert.Equal(0, middle.LogStartOffset);

        // At the end: nothing after waiting (a long poll), the position stays.
        var sw = Stopwatch.StartNew();
        var end = await client.FetchAsync("rt", 1, 5, 1 << 20, TimeSpan.FromMilliseconds(300));
        Assert.Empty(end.Records);
        Assert.Equal(5, end.NextOffset);
        Assert.True(sw.ElapsedMilliseconds >= 200, $"the fetch at the end returned after {sw.ElapsedMilliseconds} ms, not after waiting");

        // The other partition is untouched; out of range is an error in the result.
        Assert.Empty((await client.FetchAsync("rt", 0, 0, 1 << 20, TimeSpan.Zero)).Records);
        Assert.Equal(ErrorCode.OffsetOutOfRange, (await client.FetchAsync("rt", 1, 99, 1 << 20, TimeSpan.Zero)).Error);
    }

    [Fact]
    public async Task ProduceFetch_EveryCodec_RoundTrips()
    {
        var broker = StartBroker("cl-codec");
        await using var client = Connect(broker);
        await CreateTopic(client, "codecs", 1);
        var codecs = new[] { Codec.None, Codec.Gzip, Codec.Snappy, Codec.Lz4, Codec.Zstd };
        long expectedOffset = 0;
        foreach (var codec in codecs)
        {
            var batch = Enumerable.Range(0, 50)
                .Select(i => new ProducerRecord(Encoding.UTF8.GetBytes($"{codec}-{i}"), Encoding.UTF8.GetBytes(new string((char)('a' + i % 26), 200))))
                .ToList();
            var result = await client.ProduceAsync("codecs", 0, batch, compression: codec);
            Assert.True(result.Error == ErrorCode.None, $"{codec}: {result.Error} {result.ErrorMessage}");
            Assert.Equal(expectedOffset, result.BaseOffset);
            expectedOffset += 50;
        }

        var records = await FetchAll(client, "codecs", 0, 0, 250);
        Assert.Equal(Enumerable.Range(0, 250).Select(i => (long)i), records.Select(r => r.Offset));
        for (int c = 0; c < codecs.Length; c++)
        for (int i = 0; i < 50; i++)
        {
            var r = records[c * 50 + i];
            Assert.Equal($"{codecs[c]}-{i}", Encoding.UTF8.GetString(r.Key!));
            Assert.Equal(new string((char)('a' + i % 26), 200), Encoding.UTF8.GetString(r.Value!));
        }

        // Starting inside a compressed batch drops the records before the offset.
        var inside = await client.FetchAsync("codecs", 0, 123, 1 << 20, TimeSpan.Zero);
        Assert.Equal(123, inside.Records[0].Offset);
    }

    [Fact]
    public async Task ListOffsets_EarliestLatestAndByTimestamp()
    {
        var broker = StartBroker("cl-lo");
        await using var client = Connect(broker);
        await CreateTopic(client, "lo", 1);
        Assert.Equal(0, await client.ListOffsetAsync("lo", 0, -1));
        Assert.Equal(0, await client.ListOffsetAsync("lo", 0, -2));

        foreach (long ts in new long[] { 1_000_000, 2_000_000, 3_000_000 })
        {
            var records = new[] { new ProducerRecord(null, "a"u8.ToArray(), Timestamp: ts), new ProducerRecord(null, "b"u8.ToArray(), Timestamp: ts + 10) };
            Assert.Equal(ErrorCode.None, (await client.ProduceAsync("lo", 0, records)).Error);
        }

        Assert.Equal(0, await client.ListOffsetAsync("lo", 0, -2));
        Assert.Equal(6, await client.ListOffsetAsync("lo", 0, -1));
        Assert.Equal(0, await client.ListOffsetAsync("lo", 0, 0));
        Assert.Equal(1, await client.ListOffsetAsync("lo", 0, 1_000_005));
        Assert.Equal(2, await client.ListOffsetAsync("lo", 0, 2_000_000));
        Assert.Equal(5, await client.ListOffsetAsync("lo", 0, 3_000_010));
        Assert.Equal(-1, await client.ListOffsetAsync("lo", 0, 3_000_011));

        var ex = await Assert.ThrowsAsync<KafkaException>(() => client.ListOffsetAsync("lo-missing", 0, -1));
        Assert.Equal(ErrorCode.UnknownTopicOrPartition, ex.Error);
    }

    [Fact]
    public async Task TopicAdministration_SurfacesTheBrokersErrors()
    {
        var broker = StartBroker("cl-admin");
        await using var client = Connect(broker);

        var validated = Assert.Single(await client.CreateTopicsAsync(new[] { new NewTopic("adm", 2, 1) }, validateOnly: true));
        Assert.Equal(ErrorCode.None, validated.Error);
        Assert.Equal(ErrorCode.UnknownTopicOrPartition, Assert.Single((await client.GetMetadataAsync(new[] { "adm" })).Topics).Error);

        var results = await client.CreateTopicsAsync(new[]
        {
            new NewTopic("adm", 2, 1, new Dictionary<string, string> { ["cleanup.policy"] = "compact" }),
            new NewTopic("adm-rf", 1, 3),
            new NewTopic("adm-zero", 0, 1),
            new NewTopic("adm-default"),
        });
        Assert.Equal(new[] { "adm", "adm-rf", "adm-zero", "adm-default" }, results.Select(r => r.Name));
        Assert.Equal(ErrorCode.None, results[0].Error);
        Assert.Equal(ErrorCode.InvalidReplicationFactor, results[1].Error);
        Assert.False(string.IsNullOrEmpty(results[1].Message));
        Assert.Equal(ErrorCode.InvalidPartitions, results[2].Error);
        Assert.Equal(ErrorCode.None, results[3].Error);

        var again = Assert.Single(await client.CreateTopicsAsync(new[] { new NewTopic("adm", 2, 1) }));
        Assert.Equal(ErrorCode.TopicAlreadyExists, again.Error);
        Assert.Contains("adm", again.Message);

        var meta = await client.GetMetadataAsync(new[] { "adm", "adm-default" });
        Assert.Equal(2, meta.Topics.Single(t => t.Name == "adm").Partitions.Count);
        Assert.True(meta.Topics.Single(t => t.Name == "adm-default").Partitions.Count >= 1);

        var deleted = await client.DeleteTopicsAsync(new[] { "adm", "never-existed" });
        Assert.Equal(ErrorCode.None, deleted[0].Error);
        Assert.Equal(ErrorCode.UnknownTopicOrPartition, deleted[1].Error);
        var gone = await WaitForMetadataError(client, "adm");
        Assert.Equal(ErrorCode.UnknownTopicOrPartition, gone);
    }

    [Fact]
    public async Task ProduceAndFetch_ToMissingTopicsOrPartitions_FailFastWithUnknownTopic()
    {
        var broker = StartBroker("cl-missing");
        await using var client = Connect(broker);
        await CreateTopic(client, "two", 2);

        var sw = Stopwatch.StartNew();
        var noTopic = await client.ProduceAsync("nope", 0, new[] { new ProducerRecord(null, "x"u8.ToArray()) });
        var noPartition = await client.ProduceAsync("two", 7, new[] { new ProducerRecord(null, "x"u8.ToArray()) });
        var fetchNoTopic = await client.FetchAsync("nope", 0, 0, 1024, TimeSpan.Zero);
        sw.Stop();

        Assert.Equal(ErrorCode.UnknownTopicOrPartition, noTopic.Error);
        Assert.Equal(-1, noTopic.BaseOffset);
        Assert.Contains("nope", noTopic.ErrorMessage);
        Assert.Equal(ErrorCode.UnknownTopicOrPartition, noPartition.Error);
        Assert.Contains("no partition 7", noPartition.ErrorMessage);
        Assert.Equal(ErrorCode.UnknownTopicOrPartition, fetchNoTopic.Error);
        // A short grace for metadata propagation, never the whole 15 s retry budget.
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(8), $"three unknown-topic failures took {sw.Elapsed}");
    }

    [Fact]
    public async Task Configs_AlterThenDescribe_RoundTrip()
    {
        var broker = StartBroker("cl-configs");
        await using var client = Connect(broker);
        await CreateTopic(client, "cfg", 1);

        var altered = await client.IncrementalAlterConfigsAsync(ConfigResourceKind.Topic, "cfg",
            new[] { new ConfigAlteration("retention.ms", ConfigAlterOp.Set, "123456") });
        Assert.True(altered.Error == ErrorCode.None, $"alter: {altered.Error} {altered.Message}");

        var described = await client.DescribeConfigsAsync(new[] { (ConfigResourceKind.Topic, "cfg"), (ConfigResourceKind.Topic, "cfg-missing") });
        Assert.Equal(2, described.Count);
        Assert.Equal(ErrorCode.None, described[0].Error);
        var retention = Assert.Single(described[0].Entries, e => e.Name == "retention.ms");
        Assert.Equal("123456", retention.Value);
        Assert.False(retention.IsDefault);
        Assert.Equal("DYNAMIC_TOPIC_CONFIG", retention.Source);
        Assert.Contains(described[0].Entries, e => e.Name == "cleanup.policy" && e.IsDefault);
        Assert.Equal(ErrorCode.UnknownTopicOrPartition, described[1].Error);

        var invalid = await client.IncrementalAlterConfigsAsync(ConfigResourceKind.Topic, "cfg",
            new[] { new ConfigAlteration("retention.ms", ConfigAlterOp.Set, "not-a-number") });
        Assert.Equal(ErrorCode.InvalidConfig, invalid.Error);
        Assert.False(string.IsNullOrEmpty(invalid.Message));

        var brokerConfigs = Assert.Single(await client.DescribeConfigsAsync(new[] { (ConfigResourceKind.Broker, "1") }));
        Assert.Equal(ErrorCode.None, brokerConfigs.Error);
        Assert.Contains(brokerConfigs.Entries, e => e.Name == "log.dirs");
    }

    private static async Task<ErrorCode> WaitForMetadataError(KafkaClient client, string topic)
    {
        var sw = Stopwatch.StartNew();
        while (true)
        {
            var error = Assert.Single((await client.GetMetadataAsync(new[] { topic })).Topics).Error;
            if (error != ErrorCode.None || sw.Elapsed > TimeSpan.FromSeconds(10)) return error;
            await Task.Delay(100);
        }
    }
}

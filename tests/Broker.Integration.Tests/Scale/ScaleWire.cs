using System.Diagnostics;
using Broker.Client;
using Broker.Client.Records;
using Broker.Core.Model;
using Broker.Protocol.Messages;
using Xunit;
using Codec = Broker.Core.Records.CompressionCodec;

namespace Broker.Integration.Tests.Scale;

/// <summary>
/// Many-partition requests through our client's low-level <see cref="KafkaClient.SendAsync{T}"/>: one Produce carrying
/// a batch for each of many partitions of a topic, and one Fetch reading many partitions at once (what real clients do
/// when they batch per broker). Retriable per-partition errors (a partition still opening) are retried, bounded.
/// </summary>
internal static class ScaleWire
{
    /// <summary>Outcome of one partition of a Produce: error, message and base offset.</summary>
    public readonly record struct Produced(ErrorCode Error, string? Message, long BaseOffset);

    private static bool IsRetriable(ErrorCode error) =>
        error is ErrorCode.UnknownTopicOrPartition or ErrorCode.NotLeaderOrFollower or ErrorCode.LeaderNotAvailable
            or ErrorCode.RequestTimedOut;

    /// <summary>One Produce request with one batch per partition; returns each partition's outcome.</summary>
    public static async Task<Dictionary<int, Produced>> ProduceOnceAsync(KafkaClient client, string topic,
        IReadOnlyDictionary<int, byte[]> batches, short acks = -1)
    {
        var data = new ProduceRequest.TopicProduceData { Name = topic };
        foreach (var (partition, batch) in batches)
            data.PartitionData.Add(new ProduceRequest.PartitionProduceData { Index = partition, Records = batch });
        var request = new ProduceRequest { Acks = acks, TimeoutMs = 30_000, TopicData = { data } };
        var response = await client.SendAsync(-1, ProduceRequest.ApiKey, 3, ProduceRequest.HighestVersion, _ => request,
            ProduceResponse.Read);
        var result = new Dictionary<int, Produced>(batches.Count);
        foreach (var t in response.Responses)
        {
            if (t.Name != topic) continue;
            foreach (var p in t.PartitionResponses)
                result[p.Index] = new Produced((ErrorCode)p.ErrorCode, p.ErrorMessage, p.BaseOffset);
        }
        return result;
    }

    /// <summary>
    /// Produces <paramref name="valueOf"/>(partition) as a one-record batch to every partition in
    /// <paramref name="partitions"/>, retrying partitions with retriable errors for up to <paramref name="budget"/>.
    /// Returns the base offset of each partition's record.
    /// </summary>
    public static async Task<Dictionary<int, long>> ProduceOneEachAsync(KafkaClient client, string topic, IEnumerable<int> partitions,
        Func<int, string> valueOf, TimeSpan budget)
    {
        var pending = new Dictionary<int, byte[]>();
        long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        foreach (int p in partitions)
            pending[p] = ProduceBatchEncoder.Encode([new ProducerRecord(null, System.Text.Encoding.UTF8.GetBytes(valueOf(p)))], Codec.None, now);
        var offsets = new Dictionary<int, long>(pending.Count);
        var sw = Stopwatch.StartNew();
        while (true)
        {
            var outcome = await ProduceOnceAsync(client, topic, pending);
            var lastErrors = new List<string>();
            foreach (var (p, o) in outcome)
            {
                if (o.Error == ErrorCode.None)
                {
                    offsets[p] = o.BaseOffset;
                    pending.Remove(p);
                }
                else if (!IsRetriable(o.Error))
                {
                    Assert.Fail($"produce to {topic}-{p} failed with {o.Error}: {o.Message}");
                }
                else if (lastErrors.Count < 5)
                {
                    lastErrors.Add($"{topic}-{p}: {o.Error}");
                }
            }
            if (pending.Count == 0) return offsets;
            Assert.True(sw.Elapsed < budget,
                $"{pending.Count} partitions of {topic} still not writable after {budget.TotalSeconds:F0} s, e.g. {string.Join(", ", lastErrors)}");
            await Task.Delay(200);
        }
    }

    /// <summary>One Fetch request for every partition in <paramref name="offsets"/> (no wait).</summary>
    public static async Task<Dictionary<int, FetchResponse.PartitionData>> FetchOnceAsync(KafkaClient client, string topic,
        IReadOnlyDictionary<int, long> offsets, int partitionMaxBytes)
    {
        var fetchTopic = new FetchRequest.FetchTopic { Topic = topic };
        foreach (var (partition, offset) in offsets)
            fetchTopic.Partitions.Add(new FetchRequest.FetchPartition { Partition = partition, FetchOffset = offset, PartitionMaxBytes = partitionMaxBytes });
        var request = new FetchRequest { MaxWaitMs = 0, MinBytes = 0, MaxBytes = 64 << 20, Topics = { fetchTopic } };
        var response = await client.SendAsync(-1, FetchRequest.ApiKey, 4, FetchRequest.HighestVersion, _ => request, FetchResponse.Read);
        Assert.Equal(0, response.ErrorCode);
        var result = new Dictionary<int, FetchResponse.PartitionData>(offsets.Count);
        foreach (var t in response.Responses)
        {
            if (t.Topic != topic) continue;
            foreach (var p in t.Partitions) result[p.PartitionIndex] = p;
        }
        return result;
    }

    /// <summary>
    /// Reads every partition in [0, <paramref name="partitionCount"/>) from offset 0 until it holds
    /// <paramref name="expected"/>(partition).Count records, and checks each record's value in order (batches are
    /// CRC-checked by the decoder). Retriable errors are retried within <paramref name="budget"/>.
    /// </summary>
    public static async Task ReadAllAndCheckAsync(KafkaClient client, string topic, int partitionCount,
        Func<int, IReadOnlyList<string>> expected, TimeSpan budget)
    {
        var offsets = new Dictionary<int, long>();
        var seen = new Dictionary<int, List<ConsumedRecord>>();
        for (int p = 0; p < partitionCount; p++)
        {
            offsets[p] = 0;
            seen[p] = new List<ConsumedRecord>();
        }
        var sw = Stopwatch.StartNew();
        while (offsets.Count > 0)
        {
            var answer = await FetchOnceAsync(client, topic, offsets, 64 * 1024);
            string? lastError = null;
            foreach (var (p, data) in answer)
            {
                if (!offsets.TryGetValue(p, out long offset)) continue;
                var error = (ErrorCode)data.ErrorCode;
                if (error != ErrorCode.None)
                {
                    Assert.True(IsRetriable(error), $"fetch {topic}-{p} at {offset}: {error}");
                    lastError = $"{topic}-{p}: {error}";
                    continue;
                }
                var records = seen[p];
                var outcome = data.Records is { } memory
                    ? FetchDecoder.Decode(topic, p, memory.Span, offset, records)
                    : new FetchDecodeOutcome(offset, ErrorCode.None, null);
                Assert.True(outcome.Error == ErrorCode.None, $"fetch {topic}-{p} at {offset}: {outcome.Error} {outcome.Message}");
                offsets[p] = outcome.NextOffset;
                var want = expected(p);
                if (records.Count < want.Count) continue;
                Assert.Equal(want.Count, records.Count);
                for (int i = 0; i < want.Count; i++)
                {
                    string value = records[i].Value is { } v ? System.Text.Encoding.UTF8.GetString(v) : "<null>";
                    Assert.True(want[i] == value, $"{topic}-{p} record {i} (offset {records[i].Offset}): expected '{want[i]}', got '{value}'");
                }
                offsets.Remove(p);
            }
            if (offsets.Count == 0) return;
            Assert.True(sw.Elapsed < budget,
                $"{offsets.Count} partitions of {topic} not fully read after {budget.TotalSeconds:F0} s (last error: {lastError ?? "none"})");
            await Task.Delay(100);
        }
    }
}

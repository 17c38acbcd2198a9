using System.Buffers;
using System.Diagnostics;
using Broker.Client;
using Broker.Core.Model;
using Microsoft.AspNetCore.Http;

namespace Broker.Http.Proxy;

// Records: POST /topics/{topic} (produce) and GET /topics/{topic}/partitions/{partition}/records (fetch).
internal sealed partial class ProxyEndpoints
{
    /// <summary>Longest wait a fetch may ask the broker for (the client's request timeout must stay above it).</summary>
    internal static readonly TimeSpan MaxFetchWait = TimeSpan.FromSeconds(20);

    /// <summary>How long a produce waits for an auto-created topic to get its partitions and leaders.</summary>
    private static readonly TimeSpan TopicReadyBudget = TimeSpan.FromSeconds(5);

    /// <summary>
    /// POST /topics/{topic}: records without a partition are spread by the default partitioner (murmur2 of the key,
    /// round robin for keyless ones); each partition's records go out as one batch; the answer lists one
    /// {partition, offset} per record in request order (error_code instead of a usable offset when it failed).
    /// </summary>
    private async Task ProduceAsync(HttpContext context)
    {
        var request = context.Request;
        var payloadFormat = ProxyHttp.ContentType(request, [ProxyFormat.Binary, ProxyFormat.Json], allowNone: false);
        var format = ProxyHttp.Accept(request, [ProxyFormat.V2], allowNone: true);
        string topic = ProxyHttp.RouteValue(context, "topic");
        var body = await ProxyHttp.ReadBodyAsync(request, context.RequestAborted).ConfigureAwait(false);
        var records = ProduceRequestParser.Parse(body, payloadFormat);

        var partitionOf = new int[records.Count];
        bool needsPartitioner = false;
        foreach (var record in records) needsPartitioner |= record.Partition is null;
        int partitionCount = needsPartitioner ? await PartitionCountAsync(topic, context.RequestAborted).ConfigureAwait(false) : 0;

        // Group record indexes by partition, keeping request order inside each group.
        var groups = new Dictionary<int, List<int>>();
        for (int i = 0; i < records.Count; i++)
        {
            var record = records[i];
            int partition = record.Partition
                ?? backend.ChoosePartition(record.Key ?? [], record.Key is null, partitionCount);
            partitionOf[i] = partition;
            if (!groups.TryGetValue(partition, out var list)) groups[partition] = list = new List<int>();
            list.Add(i);
        }

        var produced = new Dictionary<int, Task<ProduceResult>>(groups.Count);
        foreach (var (partition, indexes) in groups)
        {
            var batch = new ProducerRecord[indexes.Count];
            for (int j = 0; j < batch.Length; j++) batch[j] = new ProducerRecord(records[indexes[j]].Key, records[indexes[j]].Value);
            produced[partition] = ProduceOneAsync(topic, partition, batch, context.RequestAborted);
        }
        await Task.WhenAll(produced.Values).ConfigureAwait(false);

        var offsets = new ProduceOffset[records.Count];
        foreach (var (partition, indexes) in groups)
        {
            var result = produced[partition].Result;
            for (int j = 0; j < indexes.Count; j++)
            {
                bool ok = result.Error == ErrorCode.None;
                offsets[indexes[j]] = new ProduceOffset
                {
                    Partition = partition,
                    ErrorCode = ok ? null : (int)result.Error,
                    Offset = ok ? result.BaseOffset + j : -1,
                };
            }
        }
        await ProxyHttp.WriteJsonAsync(context, 200, new ProduceResponseBody { Offsets = offsets },
            ProxyJsonContext.Default.ProduceResponseBody, format).ConfigureAwait(false);
    }

    private async Task<ProduceResult> ProduceOneAsync(string topic, int partition, IReadOnlyList<ProducerRecord> batch,
        CancellationToken cancellationToken)
    {
        try
        {
            return await backend.ProduceAsync(topic, partition, batch, cancellationToken).ConfigureAwait(false);
        }
        catch (KafkaException ex)
        {
            return new ProduceResult(topic, partition, ex.Error, ex.Message, -1);
        }
    }

    /// <summary>The topic's partition count; a topic auto-created by this request is waited for briefly.</summary>
    private async Task<int> PartitionCountAsync(string topic, CancellationToken cancellationToken)
    {
        var waited = Stopwatch.StartNew();
        while (true)
        {
            var cluster = await backend.GetMetadataAsync([topic], true, cancellationToken).ConfigureAwait(false);
            TopicInfo? info = null;
            foreach (var t in cluster.Topics)
            {
                if (t.Name == topic) info = t;
            }
            var error = info?.Error ?? ErrorCode.UnknownTopicOrPartition;
            if (error == ErrorCode.None && info!.Partitions.Count > 0) return info.Partitions.Count;
            if (error == ErrorCode.UnknownTopicOrPartition)
                throw new ProxyException(ProxyErrorCodes.TopicNotFound, $"Topic '{topic}' not found");
            bool retriable = error is ErrorCode.None or ErrorCode.LeaderNotAvailable or ErrorCode.NotLeaderOrFollower;
            if (!retriable || waited.Elapsed > TopicReadyBudget)
                throw ProxyErrorCodes.Kafka(error, $"Topic '{topic}' metadata");
            await Task.Delay(100, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>GET /topics/{topic}/partitions/{partition}/records?offset=&amp;timeout=&amp;max_bytes= (all required).</summary>
    private async Task FetchAsync(HttpContext context)
    {
        var request = context.Request;
        var format = ProxyHttp.Accept(request, [ProxyFormat.Binary, ProxyFormat.Json], allowNone: false);
        string topic = ProxyHttp.RouteValue(context, "topic");
        int partition = ProxyHttp.RouteInt(context, "partition");
        long offset = ProxyHttp.QueryLong(request, "offset", required: true, 0, long.MaxValue)!.Value;
        long timeoutMs = ProxyHttp.QueryLong(request, "timeout", required: true, 0, int.MaxValue)!.Value;
        int maxBytes = (int)ProxyHttp.QueryLong(request, "max_bytes", required: true, 1, int.MaxValue)!.Value;
        var wait = TimeSpan.FromMilliseconds(Math.Min(timeoutMs, (long)MaxFetchWait.TotalMilliseconds));

        var result = await backend.FetchAsync(topic, partition, offset, maxBytes, wait, context.RequestAborted).ConfigureAwait(false);
        if (result.Error != ErrorCode.None)
            throw ProxyErrorCodes.Kafka(result.Error, $"Fetch of {topic}:{partition} at offset {offset}");
        await WriteRecordsAsync(context, result.Records, format, offset).ConfigureAwait(false);
    }

    private static Task WriteRecordsAsync(HttpContext context, IReadOnlyList<ConsumedRecord> records, ProxyFormat format,
        long fromOffset = long.MinValue)
    {
        var buffer = new ArrayBufferWriter<byte>(records.Count * 64 + 16);
        RecordJsonWriter.Write(buffer, records, format, fromOffset);
        return ProxyHttp.WriteBytesAsync(context, 200, buffer.WrittenMemory, format);
    }
}

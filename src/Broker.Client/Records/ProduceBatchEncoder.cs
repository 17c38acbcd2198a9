using Broker.Compression;
using Broker.Core.Model;
using Broker.Core.Records;

namespace Broker.Client.Records;

/// <summary>
/// Encodes producer records as one v2 record batch (base offset 0, no producer id) with
/// <see cref="RecordBatchBuilder"/>, then compresses it with <see cref="RecordBatchCompression"/> when asked.
/// </summary>
public static class ProduceBatchEncoder
{
    /// <summary>
    /// The batch for <paramref name="records"/>; a record timestamp of -1 becomes <paramref name="nowMs"/>.
    /// Throws <see cref="ArgumentException"/> for an empty list and <see cref="KafkaException"/>
    /// (UnsupportedCompressionType) when the codec fails.
    /// </summary>
    public static byte[] Encode(IReadOnlyList<ProducerRecord> records, Broker.Core.Records.CompressionCodec compression, long nowMs)
    {
        ArgumentNullException.ThrowIfNull(records);
        if (records.Count == 0) throw new ArgumentException("a batch needs at least one record", nameof(records));
        int estimate = RecordBatchHeader.Size;
        for (int i = 0; i < records.Count; i++)
        {
            var r = records[i] ?? throw new ArgumentException($"record {i} is null", nameof(records));
            estimate += 32 + (r.Key?.Length ?? 0) + (r.Value?.Length ?? 0);
        }

        var builder = new RecordBatchBuilder(estimate);
        long baseTimestamp = records[0].Timestamp >= 0 ? records[0].Timestamp : nowMs;
        builder.Reset(baseTimestamp);
        RecordHeader[]? headerBuffer = null;
        for (int i = 0; i < records.Count; i++)
        {
            var r = records[i];
            long timestamp = r.Timestamp >= 0 ? r.Timestamp : nowMs;
            ReadOnlySpan<RecordHeader> headers = default;
            if (r.Headers is RecordHeader[] array)
            {
                headers = array;
            }
            else if (r.Headers is { Count: > 0 } list)
            {
                if (headerBuffer is null || headerBuffer.Length < list.Count) headerBuffer = new RecordHeader[list.Count];
                for (int h = 0; h < list.Count; h++) headerBuffer[h] = list[h];
                headers = headerBuffer.AsSpan(0, list.Count);
            }
            foreach (var h in headers)
                if (h.Key is null) throw new ArgumentException($"record {i} has a header with a null key", nameof(records));
            builder.Add(timestamp, r.Key, r.Value, r.Key is null, r.Value is null, headers);
        }

        byte[] batch = builder.ToArray();
        if (compression == CompressionCodec.None) return batch;
        try
        {
            return RecordBatchCompression.Compress(batch, compression);
        }
        catch (Exception ex) when (ex is CompressionException or NotImplementedException or NotSupportedException)
        {
            throw new KafkaException(ErrorCode.UnsupportedCompressionType, $"cannot compress with {compression}: {ex.Message}", ex);
        }
    }
}

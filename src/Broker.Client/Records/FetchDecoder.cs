using Broker.Compression;
using Broker.Core.Encoding;
using Broker.Core.Hashing;
using Broker.Core.Model;
using Broker.Core.Records;

namespace Broker.Client.Records;

/// <summary>What <see cref="FetchDecoder.Decode"/> found: where the next fetch starts, and the problem that stopped it, if any.</summary>
public readonly record struct FetchDecodeOutcome(long NextOffset, ErrorCode Error, string? Message);

/// <summary>
/// Turns the records section of a fetch answer into <see cref="ConsumedRecord"/>s: batches are CRC-checked,
/// decompressed, control batches skipped, records below the fetch offset dropped, and a truncated trailing batch
/// (the broker cut the answer at the byte limit) ignored. The next offset is the last offset + 1 of the last complete
/// batch, so an empty, compacted or control batch still moves the consumer on.
/// </summary>
public static class FetchDecoder
{
    public const int DefaultMaxUncompressedBytes = 64 * 1024 * 1024;

    /// <summary>
    /// Appends the records of <paramref name="records"/> at or above <paramref name="fetchOffset"/> to
    /// <paramref name="output"/>. A corrupt batch stops decoding: the outcome carries the error and the offset of
    /// that batch (records before it are kept).
    /// </summary>
    public static FetchDecodeOutcome Decode(string topic, int partition, ReadOnlySpan<byte> records, long fetchOffset,
        List<ConsumedRecord> output, int maxUncompressedBytes = DefaultMaxUncompressedBytes)
    {
        long next = fetchOffset;
        int position = 0;
        while (RecordBatchHeader.TryRead(records[position..], out var header))
        {
            var rest = records[position..];
            if (header.BatchLength < RecordBatchHeader.Size - RecordBatchHeader.LogOverhead)
                return Corrupt(next, $"batch at offset {header.BaseOffset} declares a length of {header.BatchLength} bytes");
            if (header.TotalSize > rest.Length) break; // truncated trailing batch
            if (header.Magic != 2)
                return Corrupt(next, $"batch at offset {header.BaseOffset} has magic {header.Magic}; only magic 2 is supported");
            var batch = rest[..header.TotalSize];
            if (Crc32C.Compute(batch[RecordBatchHeader.AttributesOffset..]) != header.Crc)
                return Corrupt(next, $"batch at offset {header.BaseOffset} fails its CRC-32C check");
            position += header.TotalSize;
            if (header.LastOffset < fetchOffset) continue;
            if (!header.IsControl && header.RecordsCount > 0)
            {
                var failure = DecodeBatch(topic, partition, batch, header, fetchOffset, output, maxUncompressedBytes);
                if (failure is not null) return failure.Value with { NextOffset = next };
            }
            next = Math.Max(next, header.LastOffset + 1);
        }
        return new FetchDecodeOutcome(next, ErrorCode.None, null);
    }

    private static FetchDecodeOutcome? DecodeBatch(string topic, int partition, ReadOnlySpan<byte> batch, RecordBatchHeader header,
        long fetchOffset, List<ConsumedRecord> output, int maxUncompressedBytes)
    {
        ReadOnlySpan<byte> plain = batch;
        if (header.Compression != CompressionCodec.None)
        {
            try
            {
                plain = RecordBatchCompression.Decompress(batch, maxUncompressedBytes);
            }
            catch (CompressionException ex)
            {
                return new FetchDecodeOutcome(0, ErrorCode.CorruptMessage,
                    $"batch at offset {header.BaseOffset} ({header.Compression}) cannot be decompressed: {ex.Message}");
            }
            catch (NotImplementedException)
            {
                return new FetchDecodeOutcome(0, ErrorCode.UnsupportedCompressionType,
                    $"batch at offset {header.BaseOffset} is compressed with {header.Compression}, which this build cannot decompress");
            }
        }

        int added = output.Count;
        RecordReader reader;
        try
        {
            reader = new RecordReader(plain);
        }
        catch (FormatException ex)
        {
            return Corrupt(0, $"batch at offset {header.BaseOffset}: {ex.Message}");
        }
        string? error;
        while (reader.TryRead(out var record, out error))
        {
            if (record.Offset < fetchOffset) continue;
            long timestamp = header.IsLogAppendTime ? header.MaxTimestamp : record.Timestamp;
            output.Add(new ConsumedRecord(topic, partition, record.Offset, timestamp,
                record.KeyIsNull ? null : record.Key.ToArray(),
                record.ValueIsNull ? null : record.Value.ToArray(),
                ReadHeaders(record.Headers, record.HeaderCount)));
        }
        if (error is null) return null;
        output.RemoveRange(added, output.Count - added);
        return Corrupt(0, $"batch at offset {header.BaseOffset}: {error}");
    }

    /// <summary>Decodes a record's header section (already validated by <see cref="RecordReader"/>).</summary>
    internal static IReadOnlyList<RecordHeader> ReadHeaders(ReadOnlySpan<byte> section, int count)
    {
        if (count == 0) return Array.Empty<RecordHeader>();
        var headers = new RecordHeader[count];
        int p = 0;
        for (int i = 0; i < count; i++)
        {
            p += Varint.ReadZigZag32(section[p..], out int keyLength);
            string key = System.Text.Encoding.UTF8.GetString(section.Slice(p, keyLength));
            p += keyLength;
            p += Varint.ReadZigZag32(section[p..], out int valueLength);
            byte[]? value = null;
            if (valueLength >= 0)
            {
                value = section.Slice(p, valueLength).ToArray();
                p += valueLength;
            }
            headers[i] = new RecordHeader(key, value);
        }
        return headers;
    }

    private static FetchDecodeOutcome Corrupt(long next, string message) => new(next, ErrorCode.CorruptMessage, message);
}

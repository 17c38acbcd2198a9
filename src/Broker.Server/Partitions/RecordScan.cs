using Broker.Core.Encoding;
using Broker.Core.Records;

namespace Broker.Server.Partitions;

/// <summary>
/// Allocation-free walks over the records of an uncompressed v2 batch (layout: length varint, then attributes,
/// timestampDelta, offsetDelta, key, value and headers). Compressed batches are opaque to the broker.
/// </summary>
public static class RecordScan
{
    /// <summary>
    /// True when the batch holds exactly <see cref="RecordBatchHeader.RecordsCount"/> well-formed records with offset
    /// deltas 0, 1, 2, ... and nothing after the last one (Kafka's InvalidRecordException cases). Only meaningful
    /// for uncompressed batches.
    /// </summary>
    public static bool CheckRecords(ReadOnlySpan<byte> batch, in RecordBatchHeader header)
    {
        int pos = RecordBatchHeader.Size;
        for (int i = 0; i < header.RecordsCount; i++)
        {
            if (!TryReadRecord(batch, ref pos, out _, out int offsetDelta, checkBody: true) || offsetDelta != i) return false;
        }
        return pos == batch.Length;
    }

    /// <summary>
    /// The offset of the first record whose timestamp is <paramref name="timestamp"/> in an uncompressed CreateTime
    /// batch, else the batch's base offset (LogAppendTime and compressed batches: batch granularity).
    /// </summary>
    public static long OffsetOfTimestamp(ReadOnlySpan<byte> batch, in RecordBatchHeader header, long timestamp)
    {
        if (header.Compression != CompressionCodec.None || header.IsLogAppendTime) return header.BaseOffset;
        int pos = RecordBatchHeader.Size;
        for (int i = 0; i < header.RecordsCount; i++)
        {
            if (!TryReadRecord(batch, ref pos, out long timestampDelta, out int offsetDelta, checkBody: false)) break;
            if (header.BaseTimestamp + timestampDelta == timestamp) return header.BaseOffset + offsetDelta;
        }
        return header.BaseOffset;
    }

    /// <summary>Reads one record at <paramref name="pos"/> and moves past it; false when it is malformed.</summary>
    private static bool TryReadRecord(ReadOnlySpan<byte> batch, ref int pos, out long timestampDelta, out int offsetDelta, bool checkBody)
    {
        timestampDelta = 0;
        offsetDelta = -1;
        if (pos >= batch.Length) return false;
        int n = Varint.ReadZigZag32(batch[pos..], out int length);
        if (n <= 0 || length < 1) return false;
        int start = pos + n;
        if ((long)start + length > batch.Length) return false;
        var record = batch.Slice(start, length);
        int p = 1; // attributes
        if (!ReadLong(record, ref p, out timestampDelta) || !ReadInt(record, ref p, out offsetDelta)) return false;
        if (checkBody)
        {
            // key, value: length (-1 = null) + bytes; headers: count, then key (not null) and value (nullable).
            if (!SkipBytes(record, ref p, nullable: true) || !SkipBytes(record, ref p, nullable: true)) return false;
            if (!ReadInt(record, ref p, out int headers) || headers < 0) return false;
            for (int h = 0; h < headers; h++)
            {
                if (!SkipBytes(record, ref p, nullable: false) || !SkipBytes(record, ref p, nullable: true)) return false;
            }
            if (p != record.Length) return false;
        }
        pos = start + length;
        return true;
    }

    private static bool ReadInt(ReadOnlySpan<byte> record, ref int p, out int value)
    {
        value = 0;
        if (p >= record.Length) return false;
        int n = Varint.ReadZigZag32(record[p..], out value);
        if (n <= 0) return false;
        p += n;
        return true;
    }

    private static bool ReadLong(ReadOnlySpan<byte> record, ref int p, out long value)
    {
        value = 0;
        if (p >= record.Length) return false;
        int n = Varint.ReadZigZag64(record[p..], out value);
        if (n <= 0) return false;
        p += n;
        return true;
    }

    private static bool SkipBytes(ReadOnlySpan<byte> record, ref int p, bool nullable)
    {
        if (!ReadInt(record, ref p, out int length)) return false;
        if (length == -1 && nullable) return true;
        if (length < 0 || length > record.Length - p) return false;
        p += length;
        return true;
    }
}

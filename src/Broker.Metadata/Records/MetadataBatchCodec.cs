using System.Buffers.Binary;
using Broker.Core.Encoding;
using Broker.Core.Records;

namespace Broker.Metadata.Records;

/// <summary>
/// Builds and walks the Kafka v2 record batches that carry metadata records. A batch is uncompressed, has no
/// producer id, and its records have null keys and the framed record as value; one controller request becomes
/// one batch, so it is applied atomically.
/// </summary>
public static class MetadataBatchCodec
{
    /// <summary>Encodes <paramref name="records"/> as one batch with base offset 0 (the log assigns offsets).</summary>
    public static byte[] BuildBatch(IReadOnlyList<MetadataRecord> records, long timestampMs)
    {
        if (records.Count == 0) throw new ArgumentException("a metadata batch needs at least one record", nameof(records));
        var values = new BodyWriter(64 * records.Count);
        var ends = new int[records.Count];
        for (int i = 0; i < records.Count; i++)
        {
            MetadataRecordSerde.Write(records[i], values);
            ends[i] = values.Length;
        }

        var valueBytes = values.WrittenSpan;
        int size = RecordBatchHeader.Size;
        for (int i = 0, start = 0; i < ends.Length; start = ends[i], i++)
            size += RecordSize(i, ends[i] - start, out int bodyLength) + Varint.SizeOfZigZag32(bodyLength);

        var batch = new byte[size];
        var span = batch.AsSpan();
        BinaryPrimitives.WriteInt64BigEndian(span, 0);
        BinaryPrimitives.WriteInt32BigEndian(span[RecordBatchHeader.BatchLengthOffset..], size - RecordBatchHeader.LogOverhead);
        BinaryPrimitives.WriteInt32BigEndian(span[RecordBatchHeader.PartitionLeaderEpochOffset..], 0);
        span[RecordBatchHeader.MagicOffset] = 2;
        BinaryPrimitives.WriteInt16BigEndian(span[RecordBatchHeader.AttributesOffset..], 0);
        BinaryPrimitives.WriteInt32BigEndian(span[RecordBatchHeader.LastOffsetDeltaOffset..], records.Count - 1);
        BinaryPrimitives.WriteInt64BigEndian(span[RecordBatchHeader.BaseTimestampOffset..], timestampMs);
        BinaryPrimitives.WriteInt64BigEndian(span[RecordBatchHeader.MaxTimestampOffset..], timestampMs);
        BinaryPrimitives.WriteInt64BigEndian(span[RecordBatchHeader.ProducerIdOffset..], -1);
        BinaryPrimitives.WriteInt16BigEndian(span[RecordBatchHeader.ProducerEpochOffset..], -1);
        BinaryPrimitives.WriteInt32BigEndian(span[RecordBatchHeader.BaseSequenceOffset..], -1);
        BinaryPrimitives.WriteInt32BigEndian(span[RecordBatchHeader.RecordsCountOffset..], records.Count);

        int pos = RecordBatchHeader.Size;
        for (int i = 0, start = 0; i < ends.Length; start = ends[i], i++)
        {
            var value = valueBytes[start..ends[i]];
            RecordSize(i, value.Length, out int bodyLength);
            pos += Varint.WriteZigZag32(span[pos..], bodyLength);
            span[pos++] = 0;                                   // attributes
            pos += Varint.WriteZigZag64(span[pos..], 0);       // timestampDelta
            pos += Varint.WriteZigZag32(span[pos..], i);       // offsetDelta
            pos += Varint.WriteZigZag32(span[pos..], -1);      // key: null
            pos += Varint.WriteZigZag32(span[pos..], value.Length);
            value.CopyTo(span[pos..]);
            pos += value.Length;
            pos += Varint.WriteZigZag32(span[pos..], 0);       // headers
        }
        RecordBatchValidator.RewriteCrc(span);
        return batch;
    }

    /// <summary>Size of one record without its length prefix is returned in <paramref name="bodyLength"/>.</summary>
    private static int RecordSize(int offsetDelta, int valueLength, out int bodyLength)
    {
        bodyLength = 1 + Varint.SizeOfZigZag64(0) + Varint.SizeOfZigZag32(offsetDelta) + Varint.SizeOfZigZag32(-1)
                     + Varint.SizeOfZigZag32(valueLength) + valueLength + Varint.SizeOfZigZag32(0);
        return bodyLength;
    }
}

/// <summary>
/// Iterates the records of one validated, uncompressed v2 batch, yielding each record's absolute offset and value.
/// Malformed records throw <see cref="MetadataFormatException"/>.
/// </summary>
public ref struct BatchRecordReader
{
    private readonly ReadOnlySpan<byte> _batch;
    private readonly long _baseOffset;
    private readonly int _count;
    private int _index;
    private int _position;

    public BatchRecordReader(ReadOnlySpan<byte> batch, in RecordBatchHeader header)
    {
        _batch = batch[..header.TotalSize];
        _baseOffset = header.BaseOffset;
        _count = header.RecordsCount;
        _index = 0;
        _position = RecordBatchHeader.Size;
    }

    public bool MoveNext(out long offset, out ReadOnlySpan<byte> value)
    {
        offset = 0;
        value = default;
        if (_index >= _count) return false;
        var rest = _batch[_position..];
        int n = Varint.ReadZigZag32(rest, out int length);
        if (n <= 0 || length < 1 || length > rest.Length - n) throw Bad("record length");
        var record = rest.Slice(n, length);
        int p = 1; // attributes
        p += Read64(record[p..], "timestamp delta", out _);
        p += Read32(record[p..], "offset delta", out int offsetDelta);
        p += Read32(record[p..], "key length", out int keyLength);
        if (keyLength > 0) p += keyLength;
        if (p > record.Length) throw Bad("key");
        p += Read32(record[p..], "value length", out int valueLength);
        if (valueLength < 0) throw Bad("value (null)");
        if (valueLength > record.Length - p) throw Bad("value length");
        value = record.Slice(p, valueLength);
        offset = _baseOffset + offsetDelta;
        _position += n + length;
        _index++;
        return true;
    }

    private readonly int Read32(ReadOnlySpan<byte> src, string what, out int value)
    {
        int n = Varint.ReadZigZag32(src, out value);
        return n > 0 ? n : throw Bad(what);
    }

    private readonly int Read64(ReadOnlySpan<byte> src, string what, out long value)
    {
        int n = Varint.ReadZigZag64(src, out value);
        return n > 0 ? n : throw Bad(what);
    }

    private readonly MetadataFormatException Bad(string what) =>
        new($"malformed {what} in record {_index} of the metadata batch at offset {_baseOffset}");
}

using System.Buffers;
using System.Buffers.Binary;
using Broker.Core.Encoding;
using Broker.Core.Hashing;

namespace Broker.Core.Records;

/// <summary>
/// Builds one uncompressed v2 record batch in a reusable buffer: <see cref="Reset"/>, any number of
/// <see cref="Add"/> calls, then <see cref="Build"/> fills in the header and CRC-32C. Used by the metadata log,
/// the load generator and tests. Reusing one builder allocates nothing per record.
/// </summary>
public sealed class RecordBatchBuilder
{
    private byte[] _buffer;
    private int _length;
    private int _count;
    private long _baseTimestamp;
    private long _maxTimestamp;
    private long _producerId;
    private short _producerEpoch;
    private int _baseSequence;
    private short _attributes;

    public RecordBatchBuilder(int initialCapacity = 4096)
    {
        _buffer = new byte[Math.Max(initialCapacity, RecordBatchHeader.Size + 16)];
        Reset(0);
    }

    public int RecordCount => _count;
    /// <summary>Size the batch would have if built now.</summary>
    public int Length => _length;

    /// <summary>Starts a new batch. <paramref name="attributes"/> may set the timestamp type or control bits.</summary>
    public void Reset(long baseTimestamp, long producerId = -1, short producerEpoch = -1, int baseSequence = -1, short attributes = 0)
    {
        _length = RecordBatchHeader.Size;
        _count = 0;
        _baseTimestamp = baseTimestamp;
        _maxTimestamp = baseTimestamp;
        _producerId = producerId;
        _producerEpoch = producerEpoch;
        _baseSequence = baseSequence;
        _attributes = (short)(attributes & ~RecordBatchHeader.CompressionMask);
    }

    /// <summary>Appends a record; a null key or value is written as length -1.</summary>
    public void Add(long timestamp, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, bool keyIsNull = false,
        bool valueIsNull = false, ReadOnlySpan<RecordHeader> headers = default)
    {
        long timestampDelta = timestamp - _baseTimestamp;
        int offsetDelta = _count;
        int keyLength = keyIsNull ? -1 : key.Length;
        int valueLength = valueIsNull ? -1 : value.Length;
        int bodySize = 1 + Varint.SizeOfZigZag64(timestampDelta) + Varint.SizeOfZigZag32(offsetDelta)
            + Varint.SizeOfZigZag32(keyLength) + Math.Max(keyLength, 0)
            + Varint.SizeOfZigZag32(valueLength) + Math.Max(valueLength, 0)
            + Varint.SizeOfZigZag32(headers.Length);
        foreach (var h in headers)
        {
            int hv = h.Value is null ? -1 : h.Value.Length;
            int hk = System.Text.Encoding.UTF8.GetByteCount(h.Key);
            bodySize += Varint.SizeOfZigZag32(hk) + hk + Varint.SizeOfZigZag32(hv) + Math.Max(hv, 0);
        }
        EnsureCapacity(Varint.SizeOfZigZag32(bodySize) + bodySize);

        var span = _buffer.AsSpan(_length);
        int p = Varint.WriteZigZag32(span, bodySize);
        span[p++] = 0; // record attributes
        p += Varint.WriteZigZag64(span[p..], timestampDelta);
        p += Varint.WriteZigZag32(span[p..], offsetDelta);
        p += Varint.WriteZigZag32(span[p..], keyLength);
        if (keyLength > 0) { key.CopyTo(span[p..]); p += keyLength; }
        p += Varint.WriteZigZag32(span[p..], valueLength);
        if (valueLength > 0) { value.CopyTo(span[p..]); p += valueLength; }
        p += Varint.WriteZigZag32(span[p..], headers.Length);
        foreach (var h in headers)
        {
            int hk = System.Text.Encoding.UTF8.GetByteCount(h.Key);
            p += Varint.WriteZigZag32(span[p..], hk);
            p += System.Text.Encoding.UTF8.GetBytes(h.Key, span[p..]);
            int hv = h.Value is null ? -1 : h.Value.Length;
            p += Varint.WriteZigZag32(span[p..], hv);
            if (hv > 0) { h.Value.AsSpan().CopyTo(span[p..]); p += hv; }
        }
        _length += p;
        _count++;
        if (timestamp > _maxTimestamp) _maxTimestamp = timestamp;
    }

    /// <summary>Finishes the header (baseOffset 0) and CRC; the span is valid until the next Reset/Add.</summary>
    public ReadOnlySpan<byte> Build()
    {
        var b = _buffer.AsSpan(0, _length);
        BinaryPrimitives.WriteInt64BigEndian(b, 0);
        BinaryPrimitives.WriteInt32BigEndian(b[RecordBatchHeader.BatchLengthOffset..], _length - RecordBatchHeader.LogOverhead);
        BinaryPrimitives.WriteInt32BigEndian(b[RecordBatchHeader.PartitionLeaderEpochOffset..], -1);
        b[RecordBatchHeader.MagicOffset] = 2;
        BinaryPrimitives.WriteInt16BigEndian(b[RecordBatchHeader.AttributesOffset..], _attributes);
        BinaryPrimitives.WriteInt32BigEndian(b[RecordBatchHeader.LastOffsetDeltaOffset..], Math.Max(_count - 1, 0));
        BinaryPrimitives.WriteInt64BigEndian(b[RecordBatchHeader.BaseTimestampOffset..], _baseTimestamp);
        BinaryPrimitives.WriteInt64BigEndian(b[RecordBatchHeader.MaxTimestampOffset..], _maxTimestamp);
        BinaryPrimitives.WriteInt64BigEndian(b[RecordBatchHeader.ProducerIdOffset..], _producerId);
        BinaryPrimitives.WriteInt16BigEndian(b[RecordBatchHeader.ProducerEpochOffset..], _producerEpoch);
        BinaryPrimitives.WriteInt32BigEndian(b[RecordBatchHeader.BaseSequenceOffset..], _baseSequence);
        BinaryPrimitives.WriteInt32BigEndian(b[RecordBatchHeader.RecordsCountOffset..], _count);
        BinaryPrimitives.WriteUInt32BigEndian(b[RecordBatchHeader.CrcOffset..], Crc32C.Compute(b[RecordBatchHeader.AttributesOffset..]));
        return b;
    }

    /// <summary>Builds and copies the batch into a new array.</summary>
    public byte[] ToArray() => Build().ToArray();

    private void EnsureCapacity(int extra)
    {
        if (_length + extra <= _buffer.Length) return;
        Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _length + extra));
    }
}

/// <summary>A record header: UTF-8 key and nullable value.</summary>
public readonly record struct RecordHeader(string Key, byte[]? Value);

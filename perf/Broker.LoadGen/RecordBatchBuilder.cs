using System.Buffers.Binary;
using Broker.Core.Encoding;
using Broker.Core.Hashing;
using Broker.Core.Records;

namespace Broker.LoadGen;

/// <summary>
/// Builds one uncompressed Kafka record batch (magic 2) at a time in a fixed buffer, without allocating:
/// <see cref="Begin"/>, then <see cref="TryAppend"/> (copying) or <see cref="TryReserve"/> (the caller fills key and
/// value in place), then <see cref="Finish"/>, which writes the header fields and the CRC-32C over bytes 21..end.
/// The returned memory stays valid until the next <see cref="Begin"/>. Record headers are not supported (count 0).
/// </summary>
public sealed class RecordBatchBuilder
{
    /// <summary>The smallest record: length, attributes, timestamp delta, offset delta, null key, empty value, no headers.</summary>
    private const int MinRecordSize = 7;

    private readonly byte[] _buffer;
    private int _length;
    private int _count;
    private long _baseTimestamp;
    private long _maxTimestamp;
    private long _producerId = -1;
    private short _producerEpoch = -1;
    private int _baseSequence = -1;
    private bool _open;

    public RecordBatchBuilder(int capacity)
    {
        if (capacity < RecordBatchHeader.Size + MinRecordSize)
            throw new ArgumentOutOfRangeException(nameof(capacity), "capacity too small for one record");
        _buffer = new byte[capacity];
    }

    /// <summary>Buffer size: the largest batch this builder can produce.</summary>
    public int Capacity => _buffer.Length;

    /// <summary>Records appended since <see cref="Begin"/>.</summary>
    public int Count => _count;

    /// <summary>Bytes used so far, header included.</summary>
    public int Length => _length;

    /// <summary>Starts a new batch; timestamps of appended records are relative to <paramref name="baseTimestampMs"/>.</summary>
    public void Begin(long baseTimestampMs, long producerId = -1, short producerEpoch = -1, int baseSequence = -1)
    {
        _length = RecordBatchHeader.Size;
        _count = 0;
        _baseTimestamp = baseTimestampMs;
        _maxTimestamp = baseTimestampMs;
        _producerId = producerId;
        _producerEpoch = producerEpoch;
        _baseSequence = baseSequence;
        _open = true;
    }

    /// <summary>Size in bytes of one encoded record (length prefix included).</summary>
    public static int RecordSize(int keyLength, int valueLength, long timestampDelta, int offsetDelta)
    {
        int body = BodySize(keyLength, valueLength, timestampDelta, offsetDelta);
        return Varint.SizeOfZigZag32(body) + body;
    }

    /// <summary>Appends a record by copying key (null when <paramref name="nullKey"/>) and value. False when full.</summary>
    public bool TryAppend(ReadOnlySpan<byte> key, bool nullKey, ReadOnlySpan<byte> value, long timestampMs)
    {
        if (!TryReserve(nullKey ? -1 : key.Length, value.Length, timestampMs, out var k, out var v)) return false;
        if (!nullKey) key.CopyTo(k);
        value.CopyTo(v);
        return true;
    }

    /// <summary>
    /// Appends a record whose key (length -1 = null) and value the caller writes into <paramref name="key"/> and
    /// <paramref name="value"/> before the next call. False (and nothing written) when the batch is full.
    /// </summary>
    public bool TryReserve(int keyLength, int valueLength, long timestampMs, out Span<byte> key, out Span<byte> value)
    {
        if (!_open) throw new InvalidOperationException("Begin() must be called first");
        if (valueLength < 0) throw new ArgumentOutOfRangeException(nameof(valueLength));
        long tsDelta = timestampMs - _baseTimestamp;
        int body = BodySize(keyLength, valueLength, tsDelta, _count);
        int total = Varint.SizeOfZigZag32(body) + body;
        if (_length + total > _buffer.Length) { key = default; value = default; return false; }

        var dst = _buffer.AsSpan(_length, total);
        int p = Varint.WriteZigZag32(dst, body);
        dst[p++] = 0; // record attributes (unused)
        p += Varint.WriteZigZag64(dst[p..], tsDelta);
        p += Varint.WriteZigZag32(dst[p..], _count);
        p += Varint.WriteZigZag32(dst[p..], keyLength);
        key = keyLength > 0 ? dst.Slice(p, keyLength) : default;
        if (keyLength > 0) p += keyLength;
        p += Varint.WriteZigZag32(dst[p..], valueLength);
        value = dst.Slice(p, valueLength);
        p += valueLength;
        dst[p++] = 0; // header count: zigzag(0)
        _length += total;
        _count++;
        if (timestampMs > _maxTimestamp) _maxTimestamp = timestampMs;
        return true;
    }

    /// <summary>Completes the header and CRC. The batch is valid until the next <see cref="Begin"/>.</summary>
    public ReadOnlyMemory<byte> Finish()
    {
        if (!_open) throw new InvalidOperationException("Begin() must be called first");
        if (_count == 0) throw new InvalidOperationException("a record batch needs at least one record");
        var b = _buffer.AsSpan(0, _length);
        BinaryPrimitives.WriteInt64BigEndian(b, 0); // base offset: assigned by the broker
        BinaryPrimitives.WriteInt32BigEndian(b[RecordBatchHeader.BatchLengthOffset..], _length - RecordBatchHeader.LogOverhead);
        BinaryPrimitives.WriteInt32BigEndian(b[RecordBatchHeader.PartitionLeaderEpochOffset..], -1);
        b[RecordBatchHeader.MagicOffset] = 2;
        BinaryPrimitives.WriteInt16BigEndian(b[RecordBatchHeader.AttributesOffset..], 0); // no compression, CreateTime
        BinaryPrimitives.WriteInt32BigEndian(b[RecordBatchHeader.LastOffsetDeltaOffset..], _count - 1);
        BinaryPrimitives.WriteInt64BigEndian(b[RecordBatchHeader.BaseTimestampOffset..], _baseTimestamp);
        BinaryPrimitives.WriteInt64BigEndian(b[RecordBatchHeader.MaxTimestampOffset..], _maxTimestamp);
        BinaryPrimitives.WriteInt64BigEndian(b[RecordBatchHeader.ProducerIdOffset..], _producerId);
        BinaryPrimitives.WriteInt16BigEndian(b[RecordBatchHeader.ProducerEpochOffset..], _producerEpoch);
        BinaryPrimitives.WriteInt32BigEndian(b[RecordBatchHeader.BaseSequenceOffset..], _baseSequence);
        BinaryPrimitives.WriteInt32BigEndian(b[RecordBatchHeader.RecordsCountOffset..], _count);
        uint crc = Crc32C.Compute(b[RecordBatchHeader.AttributesOffset..]);
        BinaryPrimitives.WriteUInt32BigEndian(b[RecordBatchHeader.CrcOffset..], crc);
        _open = false;
        return _buffer.AsMemory(0, _length);
    }

    private static int BodySize(int keyLength, int valueLength, long timestampDelta, int offsetDelta) =>
        1 + Varint.SizeOfZigZag64(timestampDelta) + Varint.SizeOfZigZag32(offsetDelta)
        + Varint.SizeOfZigZag32(keyLength) + Math.Max(keyLength, 0)
        + Varint.SizeOfZigZag32(valueLength) + valueLength + 1;
}

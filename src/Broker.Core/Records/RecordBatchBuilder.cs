using System.Buffers.Binary;
using Broker.Core.Encoding;
using Broker.Core.Hashing;

namespace Broker.Core.Records;

/// <summary>
/// Builds one uncompressed v2 record batch at a time in a reusable buffer: <see cref="Reset"/>, records by
/// <see cref="Add"/> / <see cref="TryAppend"/> (copying) or <see cref="TryReserve"/> (the caller writes key and value
/// in place), then <see cref="Build"/> fills in the header and CRC-32C. The buffer grows as needed up to
/// <see cref="MaxBatchBytes"/>; a builder created with the same initial and maximum size never allocates again.
/// Used by the metadata log, the load generator and tests.
/// </summary>
public sealed class RecordBatchBuilder
{
    /// <summary>The smallest record: length, attributes, timestamp delta, offset delta, null key, empty value, no headers.</summary>
    private const int MinRecordSize = 7;

    private readonly int _maxBatchBytes;
    private byte[] _buffer;
    private int _length;
    private int _count;
    private long _baseTimestamp;
    private long _maxTimestamp;
    private long _producerId;
    private short _producerEpoch;
    private int _baseSequence;
    private short _attributes;
    private bool _open;

    /// <param name="initialCapacity">Bytes allocated up front.</param>
    /// <param name="maxBatchBytes">Largest batch (header included) this builder produces: a record that would pass
    /// it is refused by <see cref="TryAppend"/> / <see cref="TryReserve"/>, and <see cref="Add"/> throws.</param>
    public RecordBatchBuilder(int initialCapacity = 4096, int maxBatchBytes = int.MaxValue)
    {
        if (maxBatchBytes < RecordBatchHeader.Size + MinRecordSize)
            throw new ArgumentOutOfRangeException(nameof(maxBatchBytes), "too small for one record");
        _maxBatchBytes = maxBatchBytes;
        _buffer = new byte[Math.Min(Math.Max(initialCapacity, RecordBatchHeader.Size + 16), maxBatchBytes)];
    }

    /// <summary>Records appended since <see cref="Reset"/>.</summary>
    public int RecordCount => _count;
    /// <summary>Size the batch would have if built now.</summary>
    public int Length => _length;
    public int MaxBatchBytes => _maxBatchBytes;

    /// <summary>Size in bytes of one encoded record without headers (length prefix included).</summary>
    public static int RecordSize(int keyLength, int valueLength, long timestampDelta, int offsetDelta)
    {
        int body = BodySize(keyLength, valueLength, timestampDelta, offsetDelta, HeadersSize(default));
        return Varint.SizeOfZigZag32(body) + body;
    }

    /// <summary>
    /// Starts a new batch; record timestamps are relative to <paramref name="baseTimestamp"/>.
    /// <paramref name="attributes"/> may set the timestamp type or the transactional/control bits (never compression).
    /// </summary>
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
        _open = true;
    }

    /// <summary>Appends a record (a null key or value is written as length -1); throws when the batch is full.</summary>
    public void Add(long timestamp, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, bool keyIsNull = false,
        bool valueIsNull = false, ReadOnlySpan<RecordHeader> headers = default)
    {
        if (!TryAppend(timestamp, key, value, keyIsNull, valueIsNull, headers))
            throw new InvalidOperationException($"the record does not fit in a batch of at most {_maxBatchBytes} bytes");
    }

    /// <summary>Appends a record by copying key and value; false (and nothing written) when the batch is full.</summary>
    public bool TryAppend(long timestamp, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, bool keyIsNull = false,
        bool valueIsNull = false, ReadOnlySpan<RecordHeader> headers = default)
    {
        if (!TryWriteRecord(timestamp, keyIsNull ? -1 : key.Length, valueIsNull ? -1 : value.Length, headers, out var k, out var v))
            return false;
        if (!keyIsNull) key.CopyTo(k);
        if (!valueIsNull) value.CopyTo(v);
        return true;
    }

    /// <summary>
    /// Appends a record without headers whose key and value (length -1 = null) the caller writes into
    /// <paramref name="key"/> and <paramref name="value"/> before building. False (and nothing written) when full.
    /// </summary>
    public bool TryReserve(long timestamp, int keyLength, int valueLength, out Span<byte> key, out Span<byte> value) =>
        TryWriteRecord(timestamp, keyLength, valueLength, default, out key, out value);

    /// <summary>
    /// Finishes the header (baseOffset 0, partitionLeaderEpoch -1, as a producer sends it) and the CRC. The memory
    /// is valid until the next <see cref="Reset"/> or append. A batch needs at least one record.
    /// </summary>
    public ReadOnlyMemory<byte> Build()
    {
        EnsureOpen();
        if (_count == 0) throw new InvalidOperationException("a record batch needs at least one record");
        var b = _buffer.AsSpan(0, _length);
        BinaryPrimitives.WriteInt64BigEndian(b, 0);
        BinaryPrimitives.WriteInt32BigEndian(b[RecordBatchHeader.BatchLengthOffset..], _length - RecordBatchHeader.LogOverhead);
        BinaryPrimitives.WriteInt32BigEndian(b[RecordBatchHeader.PartitionLeaderEpochOffset..], -1);
        b[RecordBatchHeader.MagicOffset] = 2;
        BinaryPrimitives.WriteInt16BigEndian(b[RecordBatchHeader.AttributesOffset..], _attributes);
        BinaryPrimitives.WriteInt32BigEndian(b[RecordBatchHeader.LastOffsetDeltaOffset..], _count - 1);
        BinaryPrimitives.WriteInt64BigEndian(b[RecordBatchHeader.BaseTimestampOffset..], _baseTimestamp);
        BinaryPrimitives.WriteInt64BigEndian(b[RecordBatchHeader.MaxTimestampOffset..], _maxTimestamp);
        BinaryPrimitives.WriteInt64BigEndian(b[RecordBatchHeader.ProducerIdOffset..], _producerId);
        BinaryPrimitives.WriteInt16BigEndian(b[RecordBatchHeader.ProducerEpochOffset..], _producerEpoch);
        BinaryPrimitives.WriteInt32BigEndian(b[RecordBatchHeader.BaseSequenceOffset..], _baseSequence);
        BinaryPrimitives.WriteInt32BigEndian(b[RecordBatchHeader.RecordsCountOffset..], _count);
        BinaryPrimitives.WriteUInt32BigEndian(b[RecordBatchHeader.CrcOffset..], Crc32C.Compute(b[RecordBatchHeader.AttributesOffset..]));
        return _buffer.AsMemory(0, _length);
    }

    /// <summary>Builds and copies the batch into a new array.</summary>
    public byte[] ToArray() => Build().ToArray();

    /// <summary>Writes everything of the record but the key and value bytes, whose places are returned.</summary>
    private bool TryWriteRecord(long timestamp, int keyLength, int valueLength, scoped ReadOnlySpan<RecordHeader> headers,
        out Span<byte> key, out Span<byte> value)
    {
        EnsureOpen();
        if (keyLength < -1) throw new ArgumentOutOfRangeException(nameof(keyLength));
        if (valueLength < -1) throw new ArgumentOutOfRangeException(nameof(valueLength));
        long timestampDelta = timestamp - _baseTimestamp;
        int headersSize = HeadersSize(headers);
        int body = BodySize(keyLength, valueLength, timestampDelta, _count, headersSize);
        int total = Varint.SizeOfZigZag32(body) + body;
        if ((long)_length + total > _maxBatchBytes)
        {
            key = default;
            value = default;
            return false;
        }
        EnsureCapacity(_length + total);

        var dst = _buffer.AsSpan(_length, total);
        int p = Varint.WriteZigZag32(dst, body);
        dst[p++] = 0; // record attributes (unused)
        p += Varint.WriteZigZag64(dst[p..], timestampDelta);
        p += Varint.WriteZigZag32(dst[p..], _count);
        p += Varint.WriteZigZag32(dst[p..], keyLength);
        key = dst.Slice(p, Math.Max(keyLength, 0));
        p += key.Length;
        p += Varint.WriteZigZag32(dst[p..], valueLength);
        value = dst.Slice(p, Math.Max(valueLength, 0));
        p += value.Length;
        WriteHeaders(dst[p..], headers);
        _length += total;
        _count++;
        if (timestamp > _maxTimestamp) _maxTimestamp = timestamp;
        return true;
    }

    private static int BodySize(int keyLength, int valueLength, long timestampDelta, int offsetDelta, int headersSize) =>
        1 + Varint.SizeOfZigZag64(timestampDelta) + Varint.SizeOfZigZag32(offsetDelta)
        + Varint.SizeOfZigZag32(keyLength) + Math.Max(keyLength, 0)
        + Varint.SizeOfZigZag32(valueLength) + Math.Max(valueLength, 0)
        + headersSize;

    /// <summary>Encoded size of the header section: count, then per header key length, UTF-8 key, value length, value.</summary>
    private static int HeadersSize(scoped ReadOnlySpan<RecordHeader> headers)
    {
        int size = Varint.SizeOfZigZag32(headers.Length);
        foreach (var h in headers)
        {
            int keyLength = System.Text.Encoding.UTF8.GetByteCount(h.Key);
            int valueLength = h.Value is null ? -1 : h.Value.Length;
            size += Varint.SizeOfZigZag32(keyLength) + keyLength + Varint.SizeOfZigZag32(valueLength) + Math.Max(valueLength, 0);
        }
        return size;
    }

    private static void WriteHeaders(Span<byte> dst, scoped ReadOnlySpan<RecordHeader> headers)
    {
        int p = Varint.WriteZigZag32(dst, headers.Length);
        foreach (var h in headers)
        {
            p += Varint.WriteZigZag32(dst[p..], System.Text.Encoding.UTF8.GetByteCount(h.Key));
            p += System.Text.Encoding.UTF8.GetBytes(h.Key, dst[p..]);
            p += Varint.WriteZigZag32(dst[p..], h.Value is null ? -1 : h.Value.Length);
            if (h.Value is not null)
            {
                h.Value.CopyTo(dst[p..]);
                p += h.Value.Length;
            }
        }
    }

    private void EnsureOpen()
    {
        if (!_open) throw new InvalidOperationException("Reset() must start a batch first");
    }

    private void EnsureCapacity(int needed)
    {
        if (needed <= _buffer.Length) return;
        Array.Resize(ref _buffer, (int)Math.Min(Math.Max(_buffer.Length * 2L, needed), _maxBatchBytes));
    }
}

/// <summary>A record header: UTF-8 key and nullable value.</summary>
public readonly record struct RecordHeader(string Key, byte[]? Value);

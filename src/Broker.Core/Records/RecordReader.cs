using Broker.Core.Encoding;

namespace Broker.Core.Records;

/// <summary>One record inside an uncompressed batch; key/value/headers are slices of the batch bytes.</summary>
public readonly ref struct RecordView
{
    public RecordView(long offset, long timestamp, ReadOnlySpan<byte> key, bool keyIsNull, ReadOnlySpan<byte> value,
        bool valueIsNull, int headerCount, ReadOnlySpan<byte> headers)
    {
        Offset = offset; Timestamp = timestamp; Key = key; KeyIsNull = keyIsNull;
        Value = value; ValueIsNull = valueIsNull; HeaderCount = headerCount; Headers = headers;
    }

    public long Offset { get; }
    public long Timestamp { get; }
    public ReadOnlySpan<byte> Key { get; }
    public bool KeyIsNull { get; }
    public ReadOnlySpan<byte> Value { get; }
    public bool ValueIsNull { get; }
    public int HeaderCount { get; }
    /// <summary>The raw header section (HeaderCount entries of key length, key, value length, value).</summary>
    public ReadOnlySpan<byte> Headers { get; }
}

/// <summary>
/// Iterates the records of one uncompressed batch without allocating:
/// <c>var r = new RecordReader(batch); while (r.TryRead(out var rec)) ...</c>.
/// Compressed batches must be decompressed first (their records section is one compressed blob).
/// </summary>
public ref struct RecordReader
{
    private readonly ReadOnlySpan<byte> _batch;
    private readonly RecordBatchHeader _header;
    private int _position;
    private int _index;

    public RecordReader(ReadOnlySpan<byte> batch)
    {
        if (!RecordBatchHeader.TryRead(batch, out _header)) throw new FormatException("record batch shorter than its header");
        if (_header.Compression != CompressionCodec.None) throw new FormatException("compressed batch: decompress the records first");
        _batch = batch[..Math.Min(batch.Length, _header.TotalSize)];
        _position = RecordBatchHeader.Size;
        _index = 0;
    }

    public readonly RecordBatchHeader Header => _header;

    /// <summary>Reads the next record; false at the end. Throws FormatException on malformed records.</summary>
    public bool TryRead(out RecordView record)
    {
        record = default;
        if (_index >= _header.RecordsCount) return false;
        var s = _batch[_position..];
        int p = Need(Varint.ReadZigZag32(s, out int length));
        if (length < 0 || p + length > s.Length) throw new FormatException("record length out of range");
        var body = s.Slice(p, length);
        int q = 1; // attributes
        q += Need(Varint.ReadZigZag64(body[q..], out long timestampDelta));
        q += Need(Varint.ReadZigZag32(body[q..], out int offsetDelta));
        q += Need(Varint.ReadZigZag32(body[q..], out int keyLength));
        var key = keyLength > 0 ? Slice(body, ref q, keyLength) : default;
        q += Need(Varint.ReadZigZag32(body[q..], out int valueLength));
        var value = valueLength > 0 ? Slice(body, ref q, valueLength) : default;
        q += Need(Varint.ReadZigZag32(body[q..], out int headerCount));
        record = new RecordView(_header.BaseOffset + offsetDelta, _header.BaseTimestamp + timestampDelta, key, keyLength < 0,
            value, valueLength < 0, headerCount, body[q..]);
        _position += p + length;
        _index++;
        return true;
    }

    private static ReadOnlySpan<byte> Slice(ReadOnlySpan<byte> body, scoped ref int q, int length)
    {
        if (q + length > body.Length) throw new FormatException("record field longer than the record");
        var s = body.Slice(q, length);
        q += length;
        return s;
    }

    private static int Need(int consumed) => consumed > 0 ? consumed : throw new FormatException("malformed varint in record");
}

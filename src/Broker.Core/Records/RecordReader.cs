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

    /// <summary>Base offset + offset delta.</summary>
    public long Offset { get; }
    /// <summary>Base timestamp + timestamp delta (the CreateTime; a LogAppendTime batch stamps only its header).</summary>
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
/// Every record is checked in full (lengths in range, header keys not null, fields filling exactly the record's
/// length); <see cref="Validate"/> adds the batch-level checks Produce needs. Compressed batches must be
/// decompressed first (their records section is one compressed blob).
/// </summary>
public ref struct RecordReader
{
    private const string BadVarint = "malformed varint in record";
    private const string BadLength = "record length out of range";
    private const string FieldTooLong = "record field longer than the record";
    private const string NegativeLength = "negative length in record";

    private readonly ReadOnlySpan<byte> _batch;
    private readonly RecordBatchHeader _header;
    private int _position;
    private int _index;
    private string? _error;

    /// <summary>Throws <see cref="FormatException"/> when the header is short or inconsistent, or the batch compressed.</summary>
    public RecordReader(ReadOnlySpan<byte> batch)
    {
        if (!RecordBatchHeader.TryRead(batch, out _header)) throw new FormatException("record batch shorter than its header");
        if (_header.TotalSize < RecordBatchHeader.Size) throw new FormatException("record batch length shorter than its header");
        if (_header.Compression != CompressionCodec.None) throw new FormatException("compressed batch: decompress the records first");
        _batch = batch[..Math.Min(batch.Length, _header.TotalSize)];
        _position = RecordBatchHeader.Size;
        _index = 0;
        _error = null;
    }

    public readonly RecordBatchHeader Header => _header;

    /// <summary>Bytes of the batch read so far: <see cref="RecordBatchHeader.Size"/>, then the end of the last record read.</summary>
    public readonly int Position => _position;

    /// <summary>Reads the next record; false after the last one. Throws <see cref="FormatException"/> on a malformed record.</summary>
    public bool TryRead(out RecordView record)
    {
        if (TryRead(out record, out string? error)) return true;
        return error is null ? false : throw new FormatException(error);
    }

    /// <summary>
    /// Reads the next record without throwing: false after the last one (<paramref name="error"/> null) or at a
    /// malformed record (<paramref name="error"/> says what is wrong; the reader stays stopped there).
    /// </summary>
    public bool TryRead(out RecordView record, out string? error)
    {
        record = default;
        error = _error;
        if (error is not null || _index >= _header.RecordsCount) return false;
        var rest = _batch[_position..];
        int n = Varint.ReadZigZag32(rest, out int length);
        if (n <= 0 || length < 1 || length > rest.Length - n) return Fail(BadLength, out error);
        var body = rest.Slice(n, length);
        int p = 1; // record attributes (unused)
        int t = Varint.ReadZigZag64(body[p..], out long timestampDelta);
        if (t <= 0) return Fail(BadVarint, out error);
        p += t;
        if (!ReadInt(body, ref p, out int offsetDelta)) return Fail(BadVarint, out error);
        if ((error = ReadBytes(body, ref p, out var key, out bool keyIsNull)) is not null) return Fail(error, out error);
        if ((error = ReadBytes(body, ref p, out var value, out bool valueIsNull)) is not null) return Fail(error, out error);
        if (!ReadInt(body, ref p, out int headerCount)) return Fail(BadVarint, out error);
        if (headerCount < 0) return Fail("negative header count in record", out error);
        int headersStart = p;
        for (int h = 0; h < headerCount; h++)
        {
            if ((error = ReadBytes(body, ref p, out _, out bool headerKeyIsNull)) is not null) return Fail(error, out error);
            if (headerKeyIsNull) return Fail("null header key in record", out error);
            if ((error = ReadBytes(body, ref p, out _, out _)) is not null) return Fail(error, out error);
        }
        if (p != body.Length) return Fail("record fields do not fill the record's length", out error);
        record = new RecordView(_header.BaseOffset + offsetDelta, _header.BaseTimestamp + timestampDelta, key, keyIsNull,
            value, valueIsNull, headerCount, body[headersStart..]);
        _position += n + length;
        _index++;
        return true;
    }

    /// <summary>
    /// Checks every record of an uncompressed batch the way Produce must (Kafka's InvalidRecordException cases):
    /// exactly <see cref="RecordBatchHeader.RecordsCount"/> well-formed records with offset deltas 0, 1, 2, ...
    /// and nothing after the last one. Allocation-free; <paramref name="error"/> says what is wrong.
    /// </summary>
    public static bool Validate(ReadOnlySpan<byte> batch, out string? error)
    {
        if (!RecordBatchHeader.TryRead(batch, out var header) || header.TotalSize < RecordBatchHeader.Size || header.TotalSize > batch.Length)
            return Invalid("record batch truncated or of an invalid length", out error);
        if (header.Compression != CompressionCodec.None)
            return Invalid("compressed batch: decompress the records first", out error);
        if (header.RecordsCount < 0) return Invalid("negative record count", out error);
        var reader = new RecordReader(batch);
        long expectedOffset = header.BaseOffset;
        while (reader.TryRead(out var record, out error))
        {
            if (record.Offset != expectedOffset++) return Invalid("record offset deltas are not 0, 1, 2, ...", out error);
        }
        if (error is not null) return false;
        if (reader.Position != header.TotalSize) return Invalid("bytes after the last record of the batch", out error);
        return true;
    }

    private bool Fail(string message, out string? error)
    {
        _error = message;
        error = message;
        return false;
    }

    private static bool Invalid(string message, out string? error)
    {
        error = message;
        return false;
    }

    private static bool ReadInt(ReadOnlySpan<byte> body, scoped ref int p, out int value)
    {
        int n = Varint.ReadZigZag32(body[p..], out value);
        if (n <= 0) return false;
        p += n;
        return true;
    }

    /// <summary>A length-prefixed byte field (length -1 = null); null or an error message.</summary>
    private static string? ReadBytes(ReadOnlySpan<byte> body, scoped ref int p, out ReadOnlySpan<byte> bytes, out bool isNull)
    {
        bytes = default;
        isNull = false;
        if (!ReadInt(body, ref p, out int length)) return BadVarint;
        if (length < -1) return NegativeLength;
        if (length == -1)
        {
            isNull = true;
            return null;
        }
        if (length > body.Length - p) return FieldTooLong;
        bytes = body.Slice(p, length);
        p += length;
        return null;
    }
}

using Broker.Core.Encoding;
using Broker.Core.Records;

namespace Broker.LoadGen;

/// <summary>One record decoded from an uncompressed v2 batch; key and value are slices of the batch.</summary>
public readonly ref struct DecodedRecord
{
    public DecodedRecord(long timestampDelta, int offsetDelta, ReadOnlySpan<byte> key, bool keyIsNull, ReadOnlySpan<byte> value, int headerCount)
    {
        TimestampDelta = timestampDelta;
        OffsetDelta = offsetDelta;
        Key = key;
        KeyIsNull = keyIsNull;
        Value = value;
        HeaderCount = headerCount;
    }

    public long TimestampDelta { get; }
    public int OffsetDelta { get; }
    public ReadOnlySpan<byte> Key { get; }
    public bool KeyIsNull { get; }
    public ReadOnlySpan<byte> Value { get; }
    public int HeaderCount { get; }
}

/// <summary>
/// Walks the records of one uncompressed v2 batch without allocating. Used by the consumers (payload bytes,
/// e2e stamps) and by the selftest to check what <see cref="RecordBatchBuilder"/> wrote.
/// </summary>
public static class RecordReader
{
    /// <summary>Where the records start inside a batch.</summary>
    public const int RecordsOffset = RecordBatchHeader.Size;

    /// <summary>
    /// Decodes the record at <paramref name="pos"/> in <paramref name="batch"/> and advances past it. False at the end
    /// of the batch; throws <see cref="FormatException"/> on a malformed record.
    /// </summary>
    public static bool TryRead(ReadOnlySpan<byte> batch, ref int pos, out DecodedRecord record)
    {
        record = default;
        if (pos >= batch.Length) return false;
        var s = batch[pos..];
        int n = Varint.ReadZigZag32(s, out int length);
        if (n <= 0 || length < 0 || n + length > s.Length) throw new FormatException($"bad record length at {pos}");
        var body = s.Slice(n, length);
        if (body.Length < 1) throw new FormatException($"empty record at {pos}");
        int p = 1; // attributes
        p += Check(Varint.ReadZigZag64(body[p..], out long tsDelta));
        p += Check(Varint.ReadZigZag32(body[p..], out int offsetDelta));
        p += Check(Varint.ReadZigZag32(body[p..], out int keyLength));
        ReadOnlySpan<byte> key = default;
        if (keyLength >= 0) { key = Slice(body, p, keyLength); p += keyLength; }
        p += Check(Varint.ReadZigZag32(body[p..], out int valueLength));
        ReadOnlySpan<byte> value = default;
        if (valueLength >= 0) { value = Slice(body, p, valueLength); p += valueLength; }
        p += Check(Varint.ReadZigZag32(body[p..], out int headerCount));
        for (int h = 0; h < headerCount; h++)
        {
            p += Check(Varint.ReadZigZag32(body[p..], out int hk));
            if (hk > 0) p += Slice(body, p, hk).Length;
            p += Check(Varint.ReadZigZag32(body[p..], out int hv));
            if (hv > 0) p += Slice(body, p, hv).Length;
        }
        if (p != body.Length) throw new FormatException($"record at {pos}: length {length} but fields end at {p}");
        pos += n + length;
        record = new DecodedRecord(tsDelta, offsetDelta, key, keyLength < 0, value, headerCount);
        return true;
    }

    private static int Check(int consumed) => consumed > 0 ? consumed : throw new FormatException("truncated varint in record");

    private static ReadOnlySpan<byte> Slice(ReadOnlySpan<byte> body, int start, int length) =>
        start + length <= body.Length ? body.Slice(start, length) : throw new FormatException("record field past its end");
}

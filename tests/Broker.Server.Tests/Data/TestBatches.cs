using System.Buffers.Binary;
using Broker.Core.Encoding;
using Broker.Core.Hashing;
using Broker.Core.Records;

namespace Broker.Server.Tests.Data;

/// <summary>Builds magic-2 record batches the way a producer does (baseOffset 0, partitionLeaderEpoch -1).</summary>
internal static class TestBatches
{
    /// <summary>
    /// A batch of records with values of <paramref name="valueSize"/> bytes; record i has timestamp
    /// <paramref name="baseTimestamp"/> + i, or <paramref name="timestamps"/>[i] when given.
    /// </summary>
    public static byte[] Build(int count = 1, long baseTimestamp = 1_000, int valueSize = 16, long[]? timestamps = null,
        short attributes = 0, long producerId = -1, short producerEpoch = -1, int baseSequence = -1, byte fill = 0x61)
    {
        var body = new List<byte>();
        long maxTimestamp = long.MinValue;
        long first = timestamps?[0] ?? baseTimestamp;
        for (int i = 0; i < count; i++)
        {
            long ts = timestamps?[i] ?? baseTimestamp + i;
            maxTimestamp = Math.Max(maxTimestamp, ts);
            var value = new byte[valueSize];
            Array.Fill(value, (byte)(fill + i % 26));
            body.AddRange(Record(ts - first, i, key: i % 2 == 0 ? [(byte)'k', (byte)i] : null, value));
        }

        var batch = new byte[RecordBatchHeader.Size + body.Count];
        var s = batch.AsSpan();
        BinaryPrimitives.WriteInt64BigEndian(s, 0);
        BinaryPrimitives.WriteInt32BigEndian(s[RecordBatchHeader.BatchLengthOffset..], batch.Length - RecordBatchHeader.LogOverhead);
        BinaryPrimitives.WriteInt32BigEndian(s[RecordBatchHeader.PartitionLeaderEpochOffset..], -1);
        s[RecordBatchHeader.MagicOffset] = 2;
        BinaryPrimitives.WriteInt16BigEndian(s[RecordBatchHeader.AttributesOffset..], attributes);
        BinaryPrimitives.WriteInt32BigEndian(s[RecordBatchHeader.LastOffsetDeltaOffset..], count - 1);
        BinaryPrimitives.WriteInt64BigEndian(s[RecordBatchHeader.BaseTimestampOffset..], first);
        BinaryPrimitives.WriteInt64BigEndian(s[RecordBatchHeader.MaxTimestampOffset..], maxTimestamp);
        BinaryPrimitives.WriteInt64BigEndian(s[RecordBatchHeader.ProducerIdOffset..], producerId);
        BinaryPrimitives.WriteInt16BigEndian(s[RecordBatchHeader.ProducerEpochOffset..], producerEpoch);
        BinaryPrimitives.WriteInt32BigEndian(s[RecordBatchHeader.BaseSequenceOffset..], baseSequence);
        BinaryPrimitives.WriteInt32BigEndian(s[RecordBatchHeader.RecordsCountOffset..], count);
        body.CopyTo(batch, RecordBatchHeader.Size);
        RecordBatchValidator.RewriteCrc(batch);
        return batch;
    }

    /// <summary>Re-stamps the CRC after a test edited covered bytes.</summary>
    public static byte[] Recrc(byte[] batch)
    {
        RecordBatchValidator.RewriteCrc(batch);
        return batch;
    }

    public static RecordBatchHeader Header(ReadOnlySpan<byte> batch)
    {
        if (!RecordBatchHeader.TryRead(batch, out var header)) throw new InvalidOperationException("short batch");
        return header;
    }

    /// <summary>Splits fetched bytes into whole batches (a partial tail is dropped, as clients do).</summary>
    public static List<byte[]> Split(ReadOnlySpan<byte> records)
    {
        var batches = new List<byte[]>();
        int pos = 0;
        while (RecordBatchHeader.TryRead(records[pos..], out var h) && pos + h.TotalSize <= records.Length)
        {
            batches.Add(records.Slice(pos, h.TotalSize).ToArray());
            pos += h.TotalSize;
        }
        return batches;
    }

    private static byte[] Record(long timestampDelta, int offsetDelta, byte[]? key, byte[] value)
    {
        var r = new List<byte> { 0 };
        ZigZag(r, timestampDelta);
        ZigZag(r, offsetDelta);
        ZigZag(r, key?.Length ?? -1);
        if (key is not null) r.AddRange(key);
        ZigZag(r, value.Length);
        r.AddRange(value);
        ZigZag(r, 1); // one header
        ZigZag(r, 1);
        r.Add((byte)'h');
        ZigZag(r, -1); // null header value
        var framed = new List<byte>();
        ZigZag(framed, r.Count);
        framed.AddRange(r);
        return framed.ToArray();
    }

    private static void ZigZag(List<byte> into, long value)
    {
        Span<byte> buf = stackalloc byte[10];
        int n = Varint.WriteZigZag64(buf, value);
        for (int i = 0; i < n; i++) into.Add(buf[i]);
    }
}

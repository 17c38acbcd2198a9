using Broker.Core.Records;

namespace Broker.Server.Tests.Data;

/// <summary>Builds magic-2 record batches the way a producer does (baseOffset 0, partitionLeaderEpoch -1).</summary>
internal static class TestBatches
{
    private static readonly RecordHeader[] OneHeader = [new("h", null)];

    /// <summary>
    /// A batch of records with values of <paramref name="valueSize"/> bytes (keys on even records, one header "h"
    /// with a null value each); record i has timestamp <paramref name="baseTimestamp"/> + i, or
    /// <paramref name="timestamps"/>[i] when given. Compression bits in <paramref name="attributes"/> only flag the
    /// batch: its records stay uncompressed (the broker never decompresses).
    /// </summary>
    public static byte[] Build(int count = 1, long baseTimestamp = 1_000, int valueSize = 16, long[]? timestamps = null,
        short attributes = 0, long producerId = -1, short producerEpoch = -1, int baseSequence = -1, byte fill = 0x61)
    {
        var builder = new RecordBatchBuilder();
        builder.Reset(timestamps?[0] ?? baseTimestamp, producerId, producerEpoch, baseSequence, attributes);
        var value = new byte[valueSize];
        for (int i = 0; i < count; i++)
        {
            Array.Fill(value, (byte)(fill + i % 26));
            builder.Add(timestamps?[i] ?? baseTimestamp + i, [(byte)'k', (byte)i], value, keyIsNull: i % 2 != 0, headers: OneHeader);
        }
        var batch = builder.ToArray();
        if ((attributes & RecordBatchHeader.CompressionMask) == 0) return batch;
        System.Buffers.Binary.BinaryPrimitives.WriteInt16BigEndian(batch.AsSpan(RecordBatchHeader.AttributesOffset), attributes);
        return Recrc(batch);
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
}

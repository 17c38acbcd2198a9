using System.Buffers.Binary;
using System.Text;
using Broker.Core.Hashing;
using Broker.Core.Records;
using Xunit;

namespace Broker.Compression.Tests;

/// <summary>Whole-batch compression: header fields kept, codec bits/length/CRC rewritten, exact round trip, clear errors.</summary>
public sealed class RecordBatchCompressionTests
{
    public static TheoryData<CompressionCodec> RealCodecs => TestData.Codecs();

    internal static byte[] BuildBatch(int records, long baseOffset = 1000, int valueSize = 60, short attributes = RecordBatchHeader.TransactionalMask)
    {
        var builder = new RecordBatchBuilder(1 << 16);
        builder.Reset(1_700_000_000_000, producerId: 77, producerEpoch: 3, baseSequence: 10, attributes: attributes);
        var random = new Random(records);
        for (int i = 0; i < records; i++)
        {
            byte[] key = Encoding.ASCII.GetBytes($"key-{i % 17}");
            var value = new StringBuilder($"value {i}:");
            while (value.Length < valueSize) value.Append(' ').Append(random.Next(1000));
            RecordHeader[] headers = i % 5 == 0 ? [new RecordHeader("trace", [(byte)i])] : [];
            builder.Add(1_700_000_000_000 + i, key, Encoding.ASCII.GetBytes(value.ToString()), keyIsNull: i % 7 == 0, headers: headers);
        }
        byte[] batch = builder.ToArray();
        RecordBatchHeader.WriteBaseOffset(batch, baseOffset);
        RecordBatchHeader.WritePartitionLeaderEpoch(batch, 9);
        return batch;
    }

    [Theory]
    [MemberData(nameof(RealCodecs))]
    public void CompressKeepsTheHeaderAndDecompressRestoresTheExactBatch(CompressionCodec codec)
    {
        byte[] original = BuildBatch(500);
        byte[] compressed = RecordBatchCompression.Compress(original, codec);

        Assert.Equal(codec, RecordBatchCompression.CodecOf(compressed));
        Assert.True(RecordBatchHeader.TryRead(original, out var before));
        Assert.True(RecordBatchHeader.TryRead(compressed, out var after));
        Assert.Equal(compressed.Length, after.TotalSize);
        Assert.Equal(Crc32C.Compute(compressed.AsSpan(RecordBatchHeader.AttributesOffset)), after.Crc);
        Assert.Equal((short)(before.Attributes | (short)codec), after.Attributes);
        Assert.True(after.IsTransactional);
        Assert.Equal((before.BaseOffset, before.PartitionLeaderEpoch, before.LastOffsetDelta, before.BaseTimestamp, before.MaxTimestamp),
            (after.BaseOffset, after.PartitionLeaderEpoch, after.LastOffsetDelta, after.BaseTimestamp, after.MaxTimestamp));
        Assert.Equal((before.ProducerId, before.ProducerEpoch, before.BaseSequence, before.RecordsCount),
            (after.ProducerId, after.ProducerEpoch, after.BaseSequence, after.RecordsCount));
        Assert.True(compressed.Length < original.Length * 3 / 4, $"{codec}: {original.Length} -> {compressed.Length}");
        Assert.True(RecordBatchValidator_Accepts(compressed), "a standard batch validator must accept the compressed batch");

        byte[] restored = RecordBatchCompression.Decompress(compressed);
        Assert.Equal(original, restored);
        Assert.True(RecordReader.Validate(restored, out string? error), error);
    }

    [Theory]
    [MemberData(nameof(RealCodecs))]
    public void EmptyBatchesRoundTrip(CompressionCodec codec)
    {
        // A batch with no records (the builder refuses to make one): header only, count 0.
        byte[] empty = BuildBatch(1)[..RecordBatchHeader.Size];
        BinaryPrimitives.WriteInt32BigEndian(empty.AsSpan(RecordBatchHeader.BatchLengthOffset), RecordBatchHeader.Size - RecordBatchHeader.LogOverhead);
        BinaryPrimitives.WriteInt32BigEndian(empty.AsSpan(RecordBatchHeader.RecordsCountOffset), 0);
        BinaryPrimitives.WriteUInt32BigEndian(empty.AsSpan(RecordBatchHeader.CrcOffset), Crc32C.Compute(empty.AsSpan(RecordBatchHeader.AttributesOffset)));
        Assert.Equal(empty, RecordBatchCompression.Decompress(RecordBatchCompression.Compress(empty, codec)));
    }

    [Fact]
    public void UncompressedBatchesAreCopied()
    {
        byte[] batch = BuildBatch(3);
        Assert.Equal(CompressionCodec.None, RecordBatchCompression.CodecOf(batch));
        byte[] copy = RecordBatchCompression.Decompress(batch);
        Assert.Equal(batch, copy);
        Assert.NotSame(batch, copy);
        Assert.Equal(batch, RecordBatchCompression.Compress(batch, CompressionCodec.None));
    }

    [Fact]
    public void BytesAfterTheBatchAreIgnored()
    {
        byte[] batch = BuildBatch(20);
        byte[] compressed = RecordBatchCompression.Compress(batch, CompressionCodec.Lz4);
        Assert.Equal(batch, RecordBatchCompression.Decompress([.. compressed, .. BuildBatch(2)]));
    }

    [Fact]
    public void CrcMismatchIsCorrupt()
    {
        byte[] compressed = RecordBatchCompression.Compress(BuildBatch(50), CompressionCodec.Zstd);
        compressed[^3] ^= 0x40;
        var ex = Assert.Throws<CompressionException>(() => RecordBatchCompression.Decompress(compressed));
        Assert.Contains("CRC-32C mismatch", ex.Message);
        Assert.Contains("offset 1000", ex.Message);
    }

    [Theory]
    [MemberData(nameof(RealCodecs))]
    public void CorruptPayloadWithAValidCrcNamesTheCodec(CompressionCodec codec)
    {
        byte[] compressed = RecordBatchCompression.Compress(BuildBatch(50), codec);
        // Chop the compressed records in half and re-seal the batch, so only the codec can notice.
        int half = RecordBatchHeader.Size + (compressed.Length - RecordBatchHeader.Size) / 2;
        byte[] broken = compressed[..half];
        BinaryPrimitives.WriteInt32BigEndian(broken.AsSpan(RecordBatchHeader.BatchLengthOffset), broken.Length - RecordBatchHeader.LogOverhead);
        BinaryPrimitives.WriteUInt32BigEndian(broken.AsSpan(RecordBatchHeader.CrcOffset), Crc32C.Compute(broken.AsSpan(RecordBatchHeader.AttributesOffset)));
        var ex = Assert.Throws<CompressionException>(() => RecordBatchCompression.Decompress(broken));
        Assert.Contains(Codecs.Name(codec), ex.Message);
        Assert.Contains("offset 1000", ex.Message);
    }

    [Fact]
    public void MalformedBatchesAreRefusedClearly()
    {
        byte[] compressed = RecordBatchCompression.Compress(BuildBatch(10), CompressionCodec.Gzip);
        Assert.Contains("truncated", Assert.Throws<CompressionException>(() => RecordBatchCompression.Decompress(compressed[..^1])).Message);
        Assert.Contains("shorter than its 61-byte header", Assert.Throws<CompressionException>(() => RecordBatchCompression.Decompress(compressed[..40])).Message);
        Assert.Throws<CompressionException>(() => RecordBatchCompression.CodecOf(compressed[..22]));

        byte[] badLength = (byte[])compressed.Clone();
        BinaryPrimitives.WriteInt32BigEndian(badLength.AsSpan(RecordBatchHeader.BatchLengthOffset), 10);
        Assert.Contains("shorter than its header", Assert.Throws<CompressionException>(() => RecordBatchCompression.Decompress(badLength)).Message);
        BinaryPrimitives.WriteInt32BigEndian(badLength.AsSpan(RecordBatchHeader.BatchLengthOffset), int.MaxValue);
        Assert.Contains("truncated", Assert.Throws<CompressionException>(() => RecordBatchCompression.Decompress(badLength)).Message);

        byte[] magic1 = (byte[])compressed.Clone();
        magic1[RecordBatchHeader.MagicOffset] = 1;
        Assert.Contains("magic 1", Assert.Throws<CompressionException>(() => RecordBatchCompression.Decompress(magic1)).Message);

        byte[] codec5 = (byte[])compressed.Clone();
        codec5[RecordBatchHeader.AttributesOffset + 1] = (byte)((codec5[RecordBatchHeader.AttributesOffset + 1] & ~7) | 5);
        Assert.Contains("unknown compression codec 5", Assert.Throws<CompressionException>(() => RecordBatchCompression.CodecOf(codec5)).Message);
        Assert.Throws<CompressionException>(() => RecordBatchCompression.Decompress(codec5));

        Assert.Contains("already compressed", Assert.Throws<CompressionException>(() => RecordBatchCompression.Compress(compressed, CompressionCodec.Zstd)).Message);
        Assert.Throws<CompressionException>(() => RecordBatchCompression.Compress(BuildBatch(2), (CompressionCodec)6));
    }

    [Fact]
    public void TheLimitCoversTheWholeDecompressedBatch()
    {
        byte[] original = BuildBatch(2000);
        byte[] compressed = RecordBatchCompression.Compress(original, CompressionCodec.Snappy);
        Assert.Equal(original, RecordBatchCompression.Decompress(compressed, maxUncompressedBytes: original.Length));
        var ex = Assert.Throws<CompressionException>(() => RecordBatchCompression.Decompress(compressed, maxUncompressedBytes: original.Length - 1));
        Assert.Contains("exceeds the limit", ex.Message);
        Assert.Throws<CompressionException>(() => RecordBatchCompression.Decompress(compressed, maxUncompressedBytes: 60));
    }

    private static bool RecordBatchValidator_Accepts(byte[] batch)
    {
        // What a broker checks on Produce for a compressed batch: sizes and the CRC-32C.
        return RecordBatchHeader.TryRead(batch, out var h) && h.TotalSize == batch.Length && h.Magic == 2 &&
               Crc32C.Compute(batch.AsSpan(RecordBatchHeader.AttributesOffset)) == h.Crc;
    }
}

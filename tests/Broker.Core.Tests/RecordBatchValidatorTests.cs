using System.Buffers.Binary;
using Broker.Core.Encoding;
using Broker.Core.Hashing;
using Broker.Core.Records;
using Xunit;

namespace Broker.Core.Tests;

public class RecordBatchValidatorTests
{
    /// <summary>Builds a valid uncompressed v2 batch with one record per value.</summary>
    internal static byte[] Batch(long baseTimestamp, params string[] values)
    {
        var records = new List<byte>();
        var tmp = new byte[10];
        for (int i = 0; i < values.Length; i++)
        {
            var body = new List<byte> { 0 }; // attributes
            void V(long v) { int n = Varint.WriteZigZag64(tmp, v); body.AddRange(tmp.AsSpan(0, n).ToArray()); }
            V(i);          // timestamp delta
            V(i);          // offset delta
            V(-1);         // null key
            var value = System.Text.Encoding.UTF8.GetBytes(values[i]);
            V(value.Length);
            body.AddRange(value);
            V(0);          // headers
            int ln = Varint.WriteZigZag32(tmp, body.Count);
            records.AddRange(tmp.AsSpan(0, ln).ToArray());
            records.AddRange(body);
        }
        var b = new byte[RecordBatchHeader.Size + records.Count];
        BinaryPrimitives.WriteInt32BigEndian(b.AsSpan(8), b.Length - 12);
        b[16] = 2;
        BinaryPrimitives.WriteInt32BigEndian(b.AsSpan(23), values.Length - 1);
        BinaryPrimitives.WriteInt64BigEndian(b.AsSpan(27), baseTimestamp);
        BinaryPrimitives.WriteInt64BigEndian(b.AsSpan(35), baseTimestamp + values.Length - 1);
        BinaryPrimitives.WriteInt64BigEndian(b.AsSpan(43), -1);
        BinaryPrimitives.WriteInt16BigEndian(b.AsSpan(51), -1);
        BinaryPrimitives.WriteInt32BigEndian(b.AsSpan(53), -1);
        BinaryPrimitives.WriteInt32BigEndian(b.AsSpan(57), values.Length);
        records.ToArray().CopyTo(b, 61);
        BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(17), Crc32C.Compute(b.AsSpan(21)));
        return b;
    }

    [Fact]
    public void ValidBatchPassesAndHeaderFieldsRead()
    {
        var b = Batch(1000, "a", "bb", "ccc");
        Assert.Equal(BatchError.None, RecordBatchValidator.ValidateOne(b, 1 << 20, out var h));
        Assert.Equal(b.Length, h.TotalSize);
        Assert.Equal(2, h.LastOffsetDelta);
        Assert.Equal(3, h.RecordsCount);
        Assert.Equal(1002, h.MaxTimestamp);
        Assert.Equal(CompressionCodec.None, h.Compression);
    }

    [Fact]
    public void FlippedByteIsCrcMismatch()
    {
        var b = Batch(1000, "hello");
        b[^1] ^= 0x40;
        Assert.Equal(BatchError.CrcMismatch, RecordBatchValidator.ValidateOne(b, 1 << 20, out _));
    }

    [Fact]
    public void BaseOffsetAndLeaderEpochAreNotCoveredByCrc()
    {
        var b = Batch(1000, "hello");
        RecordBatchHeader.WriteBaseOffset(b, 12345);
        RecordBatchHeader.WritePartitionLeaderEpoch(b, 7);
        Assert.Equal(BatchError.None, RecordBatchValidator.ValidateOne(b, 1 << 20, out var h));
        Assert.Equal(12345, h.BaseOffset);
        Assert.Equal(7, h.PartitionLeaderEpoch);
    }

    [Fact]
    public void TruncatedMagicAndLengthErrors()
    {
        var b = Batch(1000, "hello");
        Assert.Equal(BatchError.Truncated, RecordBatchValidator.ValidateOne(b.AsSpan(0, b.Length - 1), 1 << 20, out _));
        Assert.Equal(BatchError.Truncated, RecordBatchValidator.ValidateOne(b.AsSpan(0, 30), 1 << 20, out _));
        var m = (byte[])b.Clone(); m[16] = 1;
        Assert.Equal(BatchError.UnsupportedMagic, RecordBatchValidator.ValidateOne(m, 1 << 20, out _));
        Assert.Equal(BatchError.BadLength, RecordBatchValidator.ValidateOne(b, 10, out _));
        var z = new byte[100];
        Assert.NotEqual(BatchError.None, RecordBatchValidator.ValidateOne(z, 1 << 20, out _));
    }

    [Fact]
    public void ValidatePrefixStopsAtFirstBadBatch()
    {
        var a = Batch(1, "x");
        var c = Batch(2, "y");
        var bad = Batch(3, "z"); bad[^1] ^= 1;
        var all = a.Concat(c).Concat(bad).ToArray();
        int valid = RecordBatchValidator.ValidatePrefix(all, 1 << 20, out var err, out int count);
        Assert.Equal(a.Length + c.Length, valid);
        Assert.Equal(2, count);
        Assert.Equal(BatchError.CrcMismatch, err);
    }

    [Fact]
    public void RewriteCrcMakesModifiedBatchValidAgain()
    {
        var b = Batch(1000, "hello");
        BinaryPrimitives.WriteInt64BigEndian(b.AsSpan(RecordBatchHeader.MaxTimestampOffset), 999999);
        Assert.Equal(BatchError.CrcMismatch, RecordBatchValidator.ValidateOne(b, 1 << 20, out _));
        RecordBatchValidator.RewriteCrc(b);
        Assert.Equal(BatchError.None, RecordBatchValidator.ValidateOne(b, 1 << 20, out _));
    }
}

public class RecordBatchValidatorHostileInputTests
{
    [Theory]
    [InlineData(int.MaxValue)]
    [InlineData(int.MaxValue - 11)]
    [InlineData(int.MaxValue - 12)]
    public void HugeBatchLengthIsAnErrorNotAnException(int batchLength)
    {
        var b = RecordBatchValidatorTests.Batch(1, "x");
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(b.AsSpan(8), batchLength);
        Assert.Equal(BatchError.BadLength, RecordBatchValidator.ValidateOne(b, 1 << 20, out _));
        var expected = (long)batchLength + 12 > int.MaxValue ? BatchError.BadLength : BatchError.Truncated;
        Assert.Equal(expected, RecordBatchValidator.ValidateOne(b, int.MaxValue, out _));
    }
}

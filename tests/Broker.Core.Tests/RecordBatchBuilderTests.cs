using System.Buffers.Binary;
using Broker.Core.Hashing;
using Broker.Core.Records;
using Xunit;

namespace Broker.Core.Tests;

public class RecordBatchBuilderTests
{
    [Fact]
    public void BuiltBatchValidatesAndReadsBack()
    {
        var b = new RecordBatchBuilder(64);
        b.Reset(1_000);
        b.Add(1_000, "k1"u8, "v1"u8);
        b.Add(1_005, default, "v2"u8, keyIsNull: true, headers: [new RecordHeader("h", [1, 2]), new RecordHeader("n", null)]);
        b.Add(1_003, "k3"u8, default, valueIsNull: true);
        var batch = b.ToArray();
        Assert.Equal(BatchError.None, RecordBatchValidator.ValidateOne(batch, 1 << 20, out var h));
        Assert.Equal(3, h.RecordsCount);
        Assert.Equal(2, h.LastOffsetDelta);
        Assert.Equal(1_005, h.MaxTimestamp);
        Assert.Equal(-1, h.PartitionLeaderEpoch);

        RecordBatchHeader.WriteBaseOffset(batch, 100);
        var reader = new RecordReader(batch);
        Assert.True(reader.TryRead(out var r));
        Assert.Equal(100, r.Offset);
        Assert.Equal("k1"u8.ToArray(), r.Key.ToArray());
        Assert.True(reader.TryRead(out r));
        Assert.True(r.KeyIsNull);
        Assert.Equal(2, r.HeaderCount);
        Assert.Equal(new byte[] { 2, (byte)'h', 4, 1, 2, 2, (byte)'n', 1 }, r.Headers.ToArray());
        Assert.Equal(1_005, r.Timestamp);
        Assert.True(reader.TryRead(out r));
        Assert.Equal(102, r.Offset);
        Assert.True(r.ValueIsNull);
        Assert.False(reader.TryRead(out _));
        Assert.Equal(batch.Length, reader.Position);
    }

    [Fact]
    public void SameBytesAsTheHandBuiltTestBatch()
    {
        var b = new RecordBatchBuilder();
        b.Reset(1000);
        b.Add(1000, default, "a"u8, keyIsNull: true);
        b.Add(1001, default, "bb"u8, keyIsNull: true);
        Assert.Equal(RecordBatchValidatorTests.Batch(1000, "a", "bb"), b.ToArray()[..]
            .Select((x, i) => i is >= 12 and < 16 ? (byte)0 : x).ToArray()); // hand-built batch leaves the epoch at 0
    }

    [Fact]
    public void ByteExactKnownAnswer()
    {
        // One record, key "k", value "v", CreateTime 1000, every byte written out from the v2 format.
        byte[] expected = Convert.FromHexString(
            "0000000000000000" + "0000003A" + "FFFFFFFF" + "02" + "00000000" + "0000" + "00000000" +
            "00000000000003E8" + "00000000000003E8" + "FFFFFFFFFFFFFFFF" + "FFFF" + "FFFFFFFF" + "00000001" +
            "10" + "00" + "00" + "00" + "02" + "6B" + "02" + "76" + "00");
        BinaryPrimitives.WriteUInt32BigEndian(expected.AsSpan(17), Crc32C.Compute(expected.AsSpan(21)));
        var b = new RecordBatchBuilder();
        b.Reset(1000);
        Assert.True(b.TryAppend(1000, "k"u8, "v"u8));
        Assert.Equal(expected, b.ToArray());
    }

    [Fact]
    public void FixedSizeBuilderRefusesTheRecordThatDoesNotFit()
    {
        int max = RecordBatchHeader.Size + 3 * RecordBatchBuilder.RecordSize(-1, 100, 0, 2);
        var b = new RecordBatchBuilder(max, maxBatchBytes: max);
        b.Reset(0);
        var v = new byte[100];
        for (int i = 0; i < 3; i++) Assert.True(b.TryAppend(0, default, v, keyIsNull: true));
        int length = b.Length;
        Assert.False(b.TryAppend(0, default, v, keyIsNull: true));
        Assert.False(b.TryReserve(0, -1, 100, out var key, out var value));
        Assert.True(key.IsEmpty && value.IsEmpty);
        Assert.Throws<InvalidOperationException>(() => b.Add(0, default, v, keyIsNull: true));
        Assert.Equal(3, b.RecordCount);
        Assert.Equal(length, b.Length);
        Assert.Equal(max, b.Length);
        Assert.Equal(BatchError.None, RecordBatchValidator.ValidateOne(b.Build().Span, max, out var h));
        Assert.Equal(3, h.RecordsCount);
    }

    [Fact]
    public void ReserveLetsTheCallerWriteKeyAndValueInPlace()
    {
        var b = new RecordBatchBuilder();
        b.Reset(50, producerId: 42, producerEpoch: 3, baseSequence: 7);
        Assert.True(b.TryReserve(40, 3, 4, out var key, out var value));
        "abc"u8.CopyTo(key);
        BinaryPrimitives.WriteInt32BigEndian(value, 12345);
        Assert.True(b.TryReserve(60, -1, 0, out key, out value));
        Assert.True(key.IsEmpty && value.IsEmpty);
        Assert.Equal(RecordBatchHeader.Size + RecordBatchBuilder.RecordSize(3, 4, -10, 0) + RecordBatchBuilder.RecordSize(-1, 0, 10, 1), b.Length);

        var batch = b.Build().Span;
        Assert.Equal(BatchError.None, RecordBatchValidator.ValidateOne(batch, 1 << 20, out var h));
        Assert.Equal((42L, (short)3, 7, 50L, 60L), (h.ProducerId, h.ProducerEpoch, h.BaseSequence, h.BaseTimestamp, h.MaxTimestamp));
        var reader = new RecordReader(batch);
        Assert.True(reader.TryRead(out var r));
        Assert.Equal("abc", System.Text.Encoding.ASCII.GetString(r.Key));
        Assert.Equal(12345, BinaryPrimitives.ReadInt32BigEndian(r.Value));
        Assert.Equal(40, r.Timestamp);
        Assert.True(reader.TryRead(out r));
        Assert.True(r.KeyIsNull);
        Assert.False(r.ValueIsNull);
        Assert.True(r.Value.IsEmpty);
    }

    [Fact]
    public void GrowsPastItsInitialCapacityAndIsReusable()
    {
        var b = new RecordBatchBuilder(initialCapacity: 16);
        var value = new byte[1000];
        b.Reset(1);
        for (int i = 0; i < 100; i++) b.Add(1 + i, default, value, keyIsNull: true);
        var first = b.ToArray();
        Assert.Equal(BatchError.None, RecordBatchValidator.ValidateOne(first, int.MaxValue, out var h));
        Assert.Equal(100, h.RecordsCount);
        Assert.Equal(100, h.MaxTimestamp);

        b.Reset(7);
        b.Add(7, "x"u8, "y"u8);
        var second = b.ToArray();
        Assert.Equal(BatchError.None, RecordBatchValidator.ValidateOne(second, int.MaxValue, out h));
        Assert.Equal(1, h.RecordsCount);
        Assert.Equal(second.Length, h.TotalSize);
    }

    [Fact]
    public void AttributesKeepTimestampTypeAndControlButNeverCompression()
    {
        var b = new RecordBatchBuilder();
        b.Reset(0, attributes: (short)(RecordBatchHeader.TimestampTypeMask | RecordBatchHeader.ControlMask | (short)CompressionCodec.Zstd));
        b.Add(0, default, "v"u8, keyIsNull: true);
        Assert.True(RecordBatchHeader.TryRead(b.Build().Span, out var h));
        Assert.True(h.IsLogAppendTime);
        Assert.True(h.IsControl);
        Assert.Equal(CompressionCodec.None, h.Compression);
    }

    [Fact]
    public void MisuseIsRefused()
    {
        Assert.Throws<InvalidOperationException>(() => new RecordBatchBuilder().Add(0, "k"u8, "v"u8));
        var b = new RecordBatchBuilder();
        b.Reset(0);
        Assert.Throws<InvalidOperationException>(() => b.Build());
        Assert.Throws<ArgumentOutOfRangeException>(() => b.TryReserve(0, -2, 0, out _, out _));
        Assert.Throws<ArgumentOutOfRangeException>(() => b.TryReserve(0, 0, -2, out _, out _));
        Assert.Throws<ArgumentOutOfRangeException>(() => new RecordBatchBuilder(maxBatchBytes: RecordBatchHeader.Size));
    }

    [Fact]
    public void ReusingAFixedSizeBuilderAllocatesNothing()
    {
        var b = new RecordBatchBuilder(200_000, maxBatchBytes: 200_000);
        var value = new byte[1024];
        RecordHeader[] headers = [new("trace", [1, 2, 3])];
        Build(b, value, headers); // warm up (JIT)
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 50; i++) Build(b, value, headers);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);

        static void Build(RecordBatchBuilder b, byte[] value, RecordHeader[] headers)
        {
            b.Reset(1);
            for (int i = 0; i < 50; i++)
            {
                b.TryReserve(1 + i, 8, value.Length, out var k, out var v);
                k.Fill((byte)'0');
                value.CopyTo(v);
                b.TryAppend(2, "key"u8, value, headers: headers);
            }
            b.Build();
        }
    }
}

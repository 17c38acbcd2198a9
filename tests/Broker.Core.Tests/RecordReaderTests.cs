using System.Buffers.Binary;
using Broker.Core.Records;
using Xunit;

namespace Broker.Core.Tests;

public class RecordReaderTests
{
    // A well-formed record: length 7, attributes 0, timestamp delta 0, offset delta 0, null key, value "v", no headers.
    private const string Good = "0E" + "00" + "00" + "00" + "01" + "0276" + "00";

    /// <summary>A batch header (base offset 0, base timestamp 1000) around raw record bytes; the CRC is not set.</summary>
    private static byte[] WithRecords(int count, params string[] hexRecords)
    {
        var records = Convert.FromHexString(string.Concat(hexRecords));
        var batch = new byte[RecordBatchHeader.Size + records.Length];
        BinaryPrimitives.WriteInt32BigEndian(batch.AsSpan(RecordBatchHeader.BatchLengthOffset), batch.Length - RecordBatchHeader.LogOverhead);
        batch[RecordBatchHeader.MagicOffset] = 2;
        BinaryPrimitives.WriteInt32BigEndian(batch.AsSpan(RecordBatchHeader.LastOffsetDeltaOffset), count - 1);
        BinaryPrimitives.WriteInt64BigEndian(batch.AsSpan(RecordBatchHeader.BaseTimestampOffset), 1000);
        BinaryPrimitives.WriteInt32BigEndian(batch.AsSpan(RecordBatchHeader.RecordsCountOffset), count);
        records.CopyTo(batch, RecordBatchHeader.Size);
        return batch;
    }

    [Fact]
    public void HandWrittenRecordReadsBack()
    {
        var batch = WithRecords(2, Good, "0E" + "00" + "04" + "02" + "01" + "0276" + "00");
        RecordBatchHeader.WriteBaseOffset(batch, 10);
        var reader = new RecordReader(batch);
        Assert.True(reader.TryRead(out var r, out var error));
        Assert.Null(error);
        Assert.Equal((10L, 1000L, true, "v"), (r.Offset, r.Timestamp, r.KeyIsNull, System.Text.Encoding.ASCII.GetString(r.Value)));
        Assert.True(reader.TryRead(out r));
        Assert.Equal((11L, 1002L), (r.Offset, r.Timestamp));
        Assert.False(reader.TryRead(out _, out error));
        Assert.Null(error);
        Assert.Equal(batch.Length, reader.Position);
        Assert.True(RecordReader.Validate(batch, out error));
        Assert.Null(error);
    }

    [Theory]
    [InlineData("7E" + "00000001027600", "record length out of range")]                 // longer than the batch
    [InlineData("00", "record length out of range")]                                    // empty record
    [InlineData("0E" + "00000003027600", "negative length in record")]                  // key length -2
    [InlineData("0E" + "00000001027601", "negative header count in record")]            // header count -1
    [InlineData("12" + "000000010276020101", "null header key in record")]              // one header with a null key
    [InlineData("10" + "00000001027600FF", "record fields do not fill the record's length")]
    [InlineData("0E" + "000000010A7600", "record field longer than the record")]        // value length 5, 1 byte left
    [InlineData("04" + "0080", "malformed varint in record")]                           // timestamp varint never ends
    public void MalformedRecordIsAnErrorNeverAnOverread(string record, string expected)
    {
        var batch = WithRecords(1, record);
        var reader = new RecordReader(batch);
        Assert.False(reader.TryRead(out _, out var error));
        Assert.Equal(expected, error);
        Assert.False(reader.TryRead(out _, out error)); // stays stopped
        Assert.Equal(expected, error);
        Assert.Equal(expected, Assert.Throws<FormatException>(() => { var r = new RecordReader(batch); r.TryRead(out _); }).Message);
        Assert.False(RecordReader.Validate(batch, out error));
        Assert.Equal(expected, error);
    }

    [Fact]
    public void ValidateWantsSequentialOffsetDeltasTheFullCountAndNothingAfter()
    {
        var skipped = WithRecords(2, Good, "0E" + "00" + "00" + "04" + "01" + "0276" + "00"); // offset deltas 0, 2
        Assert.True(CountRecords(skipped) == 2);
        Assert.False(RecordReader.Validate(skipped, out var error));
        Assert.Contains("offset deltas", error);

        var trailing = WithRecords(1, Good, "00");
        Assert.True(CountRecords(trailing) == 1);
        Assert.False(RecordReader.Validate(trailing, out error));
        Assert.Contains("after the last record", error);

        Assert.False(RecordReader.Validate(WithRecords(2, Good), out error));
        Assert.Equal("record length out of range", error);

        var negative = WithRecords(1, Good);
        BinaryPrimitives.WriteInt32BigEndian(negative.AsSpan(RecordBatchHeader.RecordsCountOffset), -1);
        Assert.False(RecordReader.Validate(negative, out _));

        Assert.False(RecordReader.Validate(WithRecords(1, Good).AsSpan(0, 65), out _)); // truncated
        var compressed = WithRecords(1, Good);
        compressed[RecordBatchHeader.AttributesOffset + 1] = (byte)CompressionCodec.Lz4;
        Assert.False(RecordReader.Validate(compressed, out error));
        Assert.Contains("compressed", error);
        Assert.Throws<FormatException>(() => new RecordReader(compressed));
    }

    [Fact]
    public void HeaderShorterThanItselfIsRefused()
    {
        var batch = WithRecords(1, Good);
        BinaryPrimitives.WriteInt32BigEndian(batch.AsSpan(RecordBatchHeader.BatchLengthOffset), 10);
        Assert.Throws<FormatException>(() => new RecordReader(batch));
        Assert.False(RecordReader.Validate(batch, out _));
        Assert.Throws<FormatException>(() => new RecordReader(batch.AsSpan(0, 40)));
    }

    [Fact]
    public void ValidatingALargeBatchAllocatesNothing()
    {
        var b = new RecordBatchBuilder();
        b.Reset(0);
        for (int i = 0; i < 1000; i++) b.Add(i, "key"u8, new byte[20], headers: [new RecordHeader("h", null)]);
        var batch = b.ToArray();
        Assert.True(RecordReader.Validate(batch, out _));
        long before = GC.GetAllocatedBytesForCurrentThread();
        bool ok = RecordReader.Validate(batch, out _);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.True(ok);
    }

    private static int CountRecords(byte[] batch)
    {
        var reader = new RecordReader(batch);
        int n = 0;
        while (reader.TryRead(out _)) n++;
        return n;
    }
}

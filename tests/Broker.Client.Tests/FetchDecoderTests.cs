using System.Buffers.Binary;
using System.Text;
using Broker.Client.Records;
using Broker.Core.Hashing;
using Broker.Core.Model;
using Broker.Core.Records;
using Xunit;
using Codec = Broker.Core.Records.CompressionCodec;

namespace Broker.Client.Tests;

/// <summary>Decoding fetched record batches: offsets, nulls, headers, control/compacted/truncated/corrupt batches, compression.</summary>
public sealed class FetchDecoderTests
{
    private static byte[] Batch(long baseOffset, int count, long baseTimestamp = 1_000, short attributes = 0, string prefix = "v")
    {
        var builder = new RecordBatchBuilder();
        builder.Reset(baseTimestamp, attributes: attributes);
        for (int i = 0; i < count; i++)
            builder.Add(baseTimestamp + i, Encoding.UTF8.GetBytes($"k{i}"), Encoding.UTF8.GetBytes($"{prefix}{baseOffset + i}"));
        var bytes = builder.ToArray();
        RecordBatchHeader.WriteBaseOffset(bytes, baseOffset); // not covered by the CRC
        return bytes;
    }

    private static void RewriteCrc(byte[] batch) =>
        BinaryPrimitives.WriteUInt32BigEndian(batch.AsSpan(RecordBatchHeader.CrcOffset), Crc32C.Compute(batch.AsSpan(RecordBatchHeader.AttributesOffset)));

    private static (List<ConsumedRecord> Records, FetchDecodeOutcome Outcome) Decode(byte[] data, long fetchOffset)
    {
        var records = new List<ConsumedRecord>();
        var outcome = FetchDecoder.Decode("t", 3, data, fetchOffset, records);
        return (records, outcome);
    }

    private static long[] Offsets(List<ConsumedRecord> records) => records.Select(r => r.Offset).ToArray();

    [Fact]
    public void NullKeyNullValueAndHeaders_AreDecoded()
    {
        var builder = new RecordBatchBuilder();
        builder.Reset(5_000);
        builder.Add(5_000, default, "v0"u8, keyIsNull: true);
        builder.Add(5_001, "k1"u8, default, valueIsNull: true,
            headers: new[] { new RecordHeader("h1", new byte[] { 1, 2 }), new RecordHeader("h-null", null), new RecordHeader("é", Array.Empty<byte>()) });
        builder.Add(5_002, Array.Empty<byte>(), Array.Empty<byte>());
        var batch = builder.ToArray();
        RecordBatchHeader.WriteBaseOffset(batch, 40);

        var (records, outcome) = Decode(batch, 40);

        Assert.Equal(ErrorCode.None, outcome.Error);
        Assert.Equal(43, outcome.NextOffset);
        Assert.Equal(new long[] { 40, 41, 42 }, Offsets(records));
        Assert.All(records, r => { Assert.Equal("t", r.Topic); Assert.Equal(3, r.Partition); });
        Assert.Null(records[0].Key);
        Assert.Equal("v0"u8.ToArray(), records[0].Value);
        Assert.Empty(records[0].Headers);
        Assert.Equal("k1"u8.ToArray(), records[1].Key);
        Assert.Null(records[1].Value);
        Assert.Equal(3, records[1].Headers.Count);
        Assert.Equal(new RecordHeader("h1", new byte[] { 1, 2 }).Key, records[1].Headers[0].Key);
        Assert.Equal(new byte[] { 1, 2 }, records[1].Headers[0].Value);
        Assert.Equal("h-null", records[1].Headers[1].Key);
        Assert.Null(records[1].Headers[1].Value);
        Assert.Equal("é", records[1].Headers[2].Key);
        Assert.Equal(Array.Empty<byte>(), records[1].Headers[2].Value);
        Assert.Equal(Array.Empty<byte>(), records[2].Key); // empty, not null
        Assert.Equal(Array.Empty<byte>(), records[2].Value);
        Assert.Equal(new long[] { 5_000, 5_001, 5_002 }, records.Select(r => r.Timestamp).ToArray());
    }

    [Fact]
    public void RecordsBelowTheFetchOffset_AreDropped()
    {
        var (records, outcome) = Decode(Batch(10, 5), fetchOffset: 12);
        Assert.Equal(new long[] { 12, 13, 14 }, Offsets(records));
        Assert.Equal(15, outcome.NextOffset);
    }

    [Fact]
    public void BatchEntirelyBelowTheFetchOffset_IsSkipped_AndNextOffsetNeverGoesBack()
    {
        byte[] data = [.. Batch(0, 3), .. Batch(3, 3)];
        var (records, outcome) = Decode(data, fetchOffset: 4);
        Assert.Equal(new long[] { 4, 5 }, Offsets(records));
        Assert.Equal(6, outcome.NextOffset);

        var (none, nothing) = Decode(Batch(0, 3), fetchOffset: 9);
        Assert.Empty(none);
        Assert.Equal(9, nothing.NextOffset);
    }

    [Theory]
    [InlineData(10)]  // cut inside the second batch's header
    [InlineData(70)]  // cut inside its records
    public void TruncatedTrailingBatch_IsIgnored(int keepOfSecond)
    {
        var first = Batch(0, 2);
        var second = Batch(2, 4);
        byte[] data = [.. first, .. second.AsSpan(0, keepOfSecond)];
        var (records, outcome) = Decode(data, 0);
        Assert.Equal(ErrorCode.None, outcome.Error);
        Assert.Equal(new long[] { 0, 1 }, Offsets(records));
        Assert.Equal(2, outcome.NextOffset);
    }

    [Fact]
    public void ControlBatch_IsSkipped_ButConsumed()
    {
        byte[] data = [.. Batch(0, 2), .. Batch(2, 1, attributes: RecordBatchHeader.ControlMask | RecordBatchHeader.TransactionalMask), .. Batch(3, 1)];
        var (records, outcome) = Decode(data, 0);
        Assert.Equal(new long[] { 0, 1, 3 }, Offsets(records));
        Assert.Equal(4, outcome.NextOffset);

        var (onlyControl, after) = Decode(Batch(7, 1, attributes: RecordBatchHeader.ControlMask), 7);
        Assert.Empty(onlyControl);
        Assert.Equal(8, after.NextOffset); // a consumer positioned on a commit marker moves on
    }

    [Fact]
    public void CompactedBatch_NextOffsetIsTheBatchEnd_NotTheLastRecord()
    {
        // Two surviving records at deltas 0 and 1 of a batch that covered ten offsets.
        var batch = Batch(100, 2);
        BinaryPrimitives.WriteInt32BigEndian(batch.AsSpan(RecordBatchHeader.LastOffsetDeltaOffset), 9);
        RewriteCrc(batch);
        var (records, outcome) = Decode(batch, 100);
        Assert.Equal(new long[] { 100, 101 }, Offsets(records));
        Assert.Equal(110, outcome.NextOffset);

        var (none, past) = Decode(batch, 105); // positioned inside the removed tail
        Assert.Empty(none);
        Assert.Equal(110, past.NextOffset);
    }

    [Fact]
    public void CorruptCrc_StopsThere_KeepingEarlierBatches()
    {
        var bad = Batch(2, 2);
        bad[^1] ^= 0xFF;
        byte[] data = [.. Batch(0, 2), .. bad, .. Batch(4, 2)];

        var (records, outcome) = Decode(data, 0);
        Assert.Equal(ErrorCode.CorruptMessage, outcome.Error);
        Assert.Contains("CRC", outcome.Message);
        Assert.Equal(new long[] { 0, 1 }, Offsets(records));
        Assert.Equal(2, outcome.NextOffset);

        var (none, again) = Decode(data[Batch(0, 2).Length..], 2);
        Assert.Empty(none);
        Assert.Equal(ErrorCode.CorruptMessage, again.Error);
        Assert.Equal(2, again.NextOffset);
    }

    [Fact]
    public void MalformedRecord_WithValidCrc_IsReportedNotThrown()
    {
        var batch = Batch(0, 2);
        BinaryPrimitives.WriteInt32BigEndian(batch.AsSpan(RecordBatchHeader.RecordsCountOffset), 5); // claims more records than present
        RewriteCrc(batch);
        var (records, outcome) = Decode(batch, 0);
        Assert.Empty(records);
        Assert.Equal(ErrorCode.CorruptMessage, outcome.Error);
        Assert.Equal(0, outcome.NextOffset);
    }

    [Fact]
    public void ImpossibleBatchLength_IsCorrupt()
    {
        var batch = Batch(0, 1);
        BinaryPrimitives.WriteInt32BigEndian(batch.AsSpan(RecordBatchHeader.BatchLengthOffset), 3);
        var (_, outcome) = Decode(batch, 0);
        Assert.Equal(ErrorCode.CorruptMessage, outcome.Error);
    }

    [Fact]
    public void LogAppendTimeBatch_UsesTheBatchMaxTimestamp()
    {
        var batch = Batch(0, 3, baseTimestamp: 1_000, attributes: RecordBatchHeader.TimestampTypeMask);
        BinaryPrimitives.WriteInt64BigEndian(batch.AsSpan(RecordBatchHeader.MaxTimestampOffset), 99_999);
        RewriteCrc(batch);
        var (records, _) = Decode(batch, 0);
        Assert.All(records, r => Assert.Equal(99_999, r.Timestamp));
    }

    [Fact]
    public void EmptyRecords_LeaveTheOffsetAlone()
    {
        var (records, outcome) = Decode(Array.Empty<byte>(), 17);
        Assert.Empty(records);
        Assert.Equal(new FetchDecodeOutcome(17, ErrorCode.None, null), outcome);
    }

    [Fact]
    public void GzipBatch_FromTheEncoder_DecodesToTheSameRecords()
    {
        var produced = new List<ProducerRecord>();
        for (int i = 0; i < 50; i++)
            produced.Add(new ProducerRecord(i % 5 == 0 ? null : Encoding.UTF8.GetBytes($"key-{i}"), Encoding.UTF8.GetBytes(new string('x', i)),
                new[] { new RecordHeader("i", BitConverter.GetBytes(i)) }, Timestamp: 10_000 + i));
        var batch = ProduceBatchEncoder.Encode(produced, Codec.Gzip, nowMs: 0);
        Assert.True(RecordBatchHeader.TryRead(batch, out var header));
        Assert.Equal(Broker.Core.Records.CompressionCodec.Gzip, header.Compression);
        RecordBatchHeader.WriteBaseOffset(batch, 500);

        var (records, outcome) = Decode(batch, 510);

        Assert.Equal(ErrorCode.None, outcome.Error);
        Assert.Equal(550, outcome.NextOffset);
        Assert.Equal(40, records.Count);
        for (int n = 0; n < records.Count; n++)
        {
            int i = n + 10;
            Assert.Equal(500 + i, records[n].Offset);
            Assert.Equal(produced[i].Key, records[n].Key);
            Assert.Equal(produced[i].Value, records[n].Value);
            Assert.Equal(10_000 + i, records[n].Timestamp);
            Assert.Equal(i, BitConverter.ToInt32(Assert.Single(records[n].Headers).Value));
        }
    }
}

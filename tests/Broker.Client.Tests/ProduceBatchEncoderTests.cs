using Broker.Client.Records;
using Broker.Core.Records;
using Xunit;
using Codec = Broker.Core.Records.CompressionCodec;

namespace Broker.Client.Tests;

/// <summary>The produce-side batch: valid v2 batch, timestamps, nulls and headers, refusal of bad input.</summary>
public sealed class ProduceBatchEncoderTests
{
    [Fact]
    public void Encode_ProducesAValidBatch_WithTimestampsNullsAndHeaders()
    {
        var records = new List<ProducerRecord>
        {
            new(null, "a"u8.ToArray(), Timestamp: 2_000),
            new("k"u8.ToArray(), null, new List<RecordHeader> { new("h", "x"u8.ToArray()), new("n", null) }),
            new("k2"u8.ToArray(), "b"u8.ToArray(), Timestamp: 1_500),
        };
        var batch = ProduceBatchEncoder.Encode(records, Codec.None, nowMs: 7_000);

        Assert.True(RecordReader.Validate(batch, out string? error), error);
        Assert.True(RecordBatchHeader.TryRead(batch, out var header));
        Assert.Equal(3, header.RecordsCount);
        Assert.Equal(2_000, header.BaseTimestamp);
        Assert.Equal(7_000, header.MaxTimestamp);
        Assert.Equal(-1, header.ProducerId);
        Assert.Equal(Broker.Core.Records.CompressionCodec.None, header.Compression);

        var reader = new RecordReader(batch);
        Assert.True(reader.TryRead(out var r0));
        Assert.True(r0.KeyIsNull);
        Assert.Equal(2_000, r0.Timestamp);
        Assert.True(reader.TryRead(out var r1));
        Assert.True(r1.ValueIsNull);
        Assert.Equal(2, r1.HeaderCount);
        Assert.Equal(7_000, r1.Timestamp); // -1 = now
        Assert.True(reader.TryRead(out var r2));
        Assert.Equal(1_500, r2.Timestamp); // earlier than the base: a negative delta
    }

    [Fact]
    public void Encode_RefusesEmptyAndNullRecords()
    {
        Assert.Throws<ArgumentException>(() => ProduceBatchEncoder.Encode(Array.Empty<ProducerRecord>(), Codec.None, 0));
        Assert.Throws<ArgumentException>(() => ProduceBatchEncoder.Encode(new ProducerRecord[] { null! }, Codec.None, 0));
    }

    [Theory]
    [InlineData(Codec.Gzip)]
    [InlineData(Codec.Snappy)]
    [InlineData(Codec.Lz4)]
    [InlineData(Codec.Zstd)]
    public void Encode_Compressed_SetsTheCodecBits(Codec codec)
    {
        var records = Enumerable.Range(0, 20).Select(i => new ProducerRecord(null, new byte[100])).ToList();
        var batch = ProduceBatchEncoder.Encode(records, codec, 0);
        Assert.True(RecordBatchHeader.TryRead(batch, out var header));
        Assert.Equal((byte)codec, (byte)header.Compression);
        Assert.Equal(20, header.RecordsCount);
        Assert.True(batch.Length < 20 * 100, $"{codec}: {batch.Length} bytes for 2000 bytes of zeros");
    }
}

using System.Buffers.Binary;
using Broker.Compression;
using Broker.Core.Hashing;
using Broker.Core.Records;

namespace Broker.Storage.Tests;

/// <summary>
/// FindOffsetByTimestamp answers the first *record* at or after the target, inside compressed batches too (the batch is
/// decompressed), never below the log start offset, and survives a batch whose records cannot be read.
/// </summary>
public class CompressedTimestampTests : LogTestBase
{
    public static TheoryData<CompressionCodec> Codecs =>
        new() { CompressionCodec.Gzip, CompressionCodec.Snappy, CompressionCodec.Lz4, CompressionCodec.Zstd };

    /// <summary>A batch compressed with <paramref name="codec"/> whose records carry <paramref name="timestamps"/>.</summary>
    private static byte[] Compressed(CompressionCodec codec, params long[] timestamps) =>
        RecordBatchCompression.Compress(BatchBuilder.WithTimestamps(timestamps), codec);

    private static long[] Steps(long start, int count, long step) =>
        Enumerable.Range(0, count).Select(i => start + i * step).ToArray();

    [Theory]
    [MemberData(nameof(Codecs))]
    public void Finds_the_exact_record_inside_compressed_batches(CompressionCodec codec)
    {
        var log = Open(new LogOptions { IndexIntervalBytes = 0 });
        // Three batches of 10 records: batch b holds offsets 10b..10b+9 with timestamps 1000*(b+1) + 10*j.
        for (int b = 0; b < 3; b++) log.Append(Compressed(codec, Steps(1000 * (b + 1), 10, 10)), 0);

        Assert.Equal((0L, 1000L), log.FindOffsetByTimestamp(0));
        Assert.Equal((0L, 1000L), log.FindOffsetByTimestamp(1000));
        Assert.Equal((1L, 1010L), log.FindOffsetByTimestamp(1001));
        Assert.Equal((7L, 1070L), log.FindOffsetByTimestamp(1065));
        Assert.Equal((10L, 2000L), log.FindOffsetByTimestamp(1091)); // past batch 0's last record
        Assert.Equal((24L, 3040L), log.FindOffsetByTimestamp(3031));
        Assert.Equal((29L, 3090L), log.FindOffsetByTimestamp(3090));
        Assert.Null(log.FindOffsetByTimestamp(3091));
    }

    [Theory]
    [MemberData(nameof(Codecs))]
    public void Out_of_order_records_answer_the_first_by_offset_that_reaches_the_target(CompressionCodec codec)
    {
        var log = Open(new LogOptions { IndexIntervalBytes = 0 });
        log.Append(Compressed(codec, 500, 100, 900, 300, 950), 0);
        Assert.Equal((0L, 500L), log.FindOffsetByTimestamp(200));
        Assert.Equal((2L, 900L), log.FindOffsetByTimestamp(501));
        Assert.Equal((4L, 950L), log.FindOffsetByTimestamp(901));
    }

    [Fact]
    public void Never_answers_below_the_log_start_offset_inside_a_compressed_batch()
    {
        var log = Open(new LogOptions { IndexIntervalBytes = 0 });
        log.Append(Compressed(CompressionCodec.Zstd, Steps(100, 10, 10)), 0);    // offsets 0-9, 100..190
        log.Append(Compressed(CompressionCodec.Lz4, Steps(1000, 10, 10)), 0);    // offsets 10-19, 1000..1090
        Assert.True(log.AdvanceLogStartOffset(4));

        Assert.Equal((4L, 140L), log.FindOffsetByTimestamp(0));
        Assert.Equal((6L, 160L), log.FindOffsetByTimestamp(155));

        // Only records below the start offset of batch 0 reach 120..: the search goes on to the next qualifying record.
        Assert.True(log.AdvanceLogStartOffset(9));
        Assert.Equal((9L, 190L), log.FindOffsetByTimestamp(0));
        Assert.True(log.AdvanceLogStartOffset(10));
        Assert.Equal((10L, 1000L), log.FindOffsetByTimestamp(120));
        Assert.True(log.AdvanceLogStartOffset(13));
        Assert.Equal((13L, 1030L), log.FindOffsetByTimestamp(0));
    }

    [Fact]
    public void A_batch_whose_qualifying_records_are_all_below_the_start_offset_is_skipped()
    {
        var log = Open(new LogOptions { IndexIntervalBytes = 0 });
        log.Append(Compressed(CompressionCodec.Gzip, 900, 100, 100), 0);        // offsets 0-2, only offset 0 reaches 500
        log.Append(Compressed(CompressionCodec.Snappy, 200, 600, 700), 0);      // offsets 3-5
        Assert.True(log.AdvanceLogStartOffset(1));
        Assert.Equal((4L, 600L), log.FindOffsetByTimestamp(500));
    }

    [Theory]
    [MemberData(nameof(Codecs))]
    public void LogAppendTime_compressed_batches_answer_their_first_offset_at_the_broker_time(CompressionCodec codec)
    {
        var log = Open();
        log.Append(Compressed(codec, 1, 2, 3), 0, logAppendTimeMs: 5_000);
        log.Append(Compressed(codec, 4, 5, 6), 0, logAppendTimeMs: 6_000);
        Assert.Equal((3L, 6_000L), log.FindOffsetByTimestamp(5_001));
        Assert.Equal((0L, 5_000L), log.FindOffsetByTimestamp(3));
        Assert.True(log.AdvanceLogStartOffset(1));
        Assert.Equal((1L, 5_000L), log.FindOffsetByTimestamp(3));
    }

    [Fact]
    public void A_corrupt_compressed_batch_answers_its_batch_offset_instead_of_failing()
    {
        var log = Open(new LogOptions { IndexIntervalBytes = 0 });
        log.Append(Compressed(CompressionCodec.Zstd, 100, 200, 300), 0);
        byte[] broken = Compressed(CompressionCodec.Lz4, 1000, 2000, 3000);
        broken.AsSpan(RecordBatchHeader.Size + 7).Fill(0xEE); // garbage after the lz4 frame header
        BinaryPrimitives.WriteUInt32BigEndian(broken.AsSpan(RecordBatchHeader.CrcOffset), Crc32C.Compute(broken.AsSpan(RecordBatchHeader.AttributesOffset)));
        log.Append(broken, 0);                                                   // offsets 3-5
        log.Append(Compressed(CompressionCodec.Zstd, 4000, 5000), 0);            // offsets 6-7

        Assert.Equal((1L, 200L), log.FindOffsetByTimestamp(150));
        Assert.Equal((3L, 3000L), log.FindOffsetByTimestamp(2500));              // batch-level answer: offset, max time
        Assert.Equal((7L, 5000L), log.FindOffsetByTimestamp(4500));
    }

    [Fact]
    public void Compressed_batches_are_found_across_segments_and_after_reopening()
    {
        var options = new LogOptions { SegmentBytes = 400, IndexIntervalBytes = 64 };
        var log = Open(options);
        for (int b = 0; b < 12; b++) log.Append(Compressed(CompressionCodec.Gzip, Steps(10_000 + 100 * b, 5, 10)), 0);
        Assert.True(log.SegmentCount > 2, $"{log.SegmentCount} segments");
        Assert.Equal((37L, 10_720L), log.FindOffsetByTimestamp(10_711));
        log.Dispose();

        var reopened = Open(options);
        Assert.Equal((37L, 10_720L), reopened.FindOffsetByTimestamp(10_711));
        Assert.Equal((59L, 11_140L), reopened.FindOffsetByTimestamp(11_131));
        Assert.Null(reopened.FindOffsetByTimestamp(11_141));
    }
}

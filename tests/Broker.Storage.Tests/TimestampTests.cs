namespace Broker.Storage.Tests;

public class TimestampTests : LogTestBase
{
    [Fact]
    public void FindOffsetByTimestamp_walks_records_of_uncompressed_batches()
    {
        var log = Open(new LogOptions { SegmentBytes = 600, IndexIntervalBytes = 64 });
        // 20 batches of 5 records, record timestamps 10_000 + 100*i + 10*j.
        for (int i = 0; i < 20; i++) log.Append(BatchBuilder.Build(5, baseTimestamp: 10_000 + 100 * i, timestampStep: 10), 0);
        Assert.True(log.SegmentCount > 3);

        Assert.Equal((0L, 10_000L), log.FindOffsetByTimestamp(0));
        Assert.Equal((0L, 10_000L), log.FindOffsetByTimestamp(10_000));
        Assert.Equal((1L, 10_010L), log.FindOffsetByTimestamp(10_001));
        Assert.Equal((37L, 10_720L), log.FindOffsetByTimestamp(10_715)); // batch 7, record 2
        Assert.Equal((40L, 10_800L), log.FindOffsetByTimestamp(10_741)); // after batch 7's last record
        Assert.Equal((99L, 11_940L), log.FindOffsetByTimestamp(11_940));
        Assert.Null(log.FindOffsetByTimestamp(11_941));
        Assert.Equal((95L, 11_940L), log.FindMaxTimestamp());
    }

    [Fact]
    public void Out_of_order_timestamps_find_the_first_batch_reaching_the_target()
    {
        var log = Open(new LogOptions { IndexIntervalBytes = 0 });
        log.Append(BatchBuilder.WithTimestamps(500, 900), 0);   // offsets 0-1, max 900
        log.Append(BatchBuilder.WithTimestamps(100, 200), 0);   // 2-3, max 200
        log.Append(BatchBuilder.WithTimestamps(950, 1000), 0);  // 4-5, max 1000
        log.Append(BatchBuilder.WithTimestamps(300, 400), 0);   // 6-7

        Assert.Equal((0L, 500L), log.FindOffsetByTimestamp(150));
        Assert.Equal((1L, 900L), log.FindOffsetByTimestamp(600));
        Assert.Equal((4L, 950L), log.FindOffsetByTimestamp(901));
        Assert.Equal((4L, 1000L), log.FindMaxTimestamp());
        log.Dispose();

        var reopened = Open(new LogOptions { IndexIntervalBytes = 0 });
        Assert.Equal((1L, 900L), reopened.FindOffsetByTimestamp(600));
        Assert.Equal((4L, 1000L), reopened.FindMaxTimestamp());
    }

    [Fact]
    public void LogAppendTime_batches_match_at_the_broker_time()
    {
        var log = Open();
        log.Append(BatchBuilder.Build(3, baseTimestamp: 1), 0, logAppendTimeMs: 5_000);
        log.Append(BatchBuilder.Build(3, baseTimestamp: 2), 0, logAppendTimeMs: 6_000);
        Assert.Equal((3L, 6_000L), log.FindOffsetByTimestamp(5_001));
        Assert.Equal((0L, 5_000L), log.FindOffsetByTimestamp(3));
    }

    [Fact]
    public void Empty_log_has_no_timestamps()
    {
        var log = Open();
        Assert.Null(log.FindMaxTimestamp());
        Assert.Null(log.FindOffsetByTimestamp(0));
    }
}

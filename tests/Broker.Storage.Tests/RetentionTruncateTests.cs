namespace Broker.Storage.Tests;

public class RetentionTruncateTests : LogTestBase
{
    /// <summary>Five segments of 3 batches each (2 records per batch): segment k holds offsets [6k, 6k+6) and
    /// timestamps around 1_000_000 + k * 100_000.</summary>
    private PartitionLog FiveSegments(LogOptions? options = null)
    {
        var log = Open(options ?? new LogOptions { SegmentBytes = 100_000, RetentionMs = -1 });
        for (int k = 0; k < 5; k++)
        {
            for (int j = 0; j < 3; j++) log.Append(BatchBuilder.Build(2, baseTimestamp: 1_000_000 + k * 100_000 + j * 10), 1);
            Clock.Now += 1;
            log.UpdateOptions(log.Options with { SegmentMs = 1 }); // next append rolls
            Clock.Now += 1;
        }
        log.UpdateOptions(log.Options with { SegmentMs = 7L * 24 * 3600 * 1000 });
        Assert.Equal([0L, 6L, 12L, 18L, 24L], log.SegmentBaseOffsets());
        return log;
    }

    [Fact]
    public void Retention_by_time_deletes_expired_segments_and_advances_the_start()
    {
        var log = FiveSegments();
        log.UpdateOptions(log.Options with { RetentionMs = 1_000 });

        // Segment k's largest timestamp is 1_000_000 + k*100_000 + 21.
        Assert.Equal(2, log.ApplyRetention(nowMs: 1_100_021 + 1_000 + 1));
        Assert.Equal(12, log.LogStartOffset);
        Assert.Equal(30, log.LogEndOffset);
        Assert.True(log.Read(11, 1000, long.MaxValue, true).OutOfRange);
        Assert.True(log.Read(0, 1000, long.MaxValue, true).OutOfRange);
        using (var r = log.Read(12, 1000, long.MaxValue, true)) Assert.False(r.Records.IsEmpty);
        Assert.False(File.Exists(SegmentPath(0, ".log")));
        Assert.False(File.Exists(SegmentPath(6, ".index")));
        Assert.False(File.Exists(SegmentPath(6, ".timeindex")));

        Assert.Equal(0, log.ApplyRetention(nowMs: 1_100_021 + 1_000 + 1));
    }

    [Fact]
    public void Retention_by_bytes_keeps_at_most_the_limit()
    {
        var log = FiveSegments();
        long segmentSize = log.SizeInBytes / 5;
        log.UpdateOptions(log.Options with { RetentionBytes = 2 * segmentSize + 10 });

        Assert.Equal(2, log.ApplyRetention(Clock.Now));
        Assert.Equal(12, log.LogStartOffset);
        Assert.Equal(3 * segmentSize, log.SizeInBytes);

        log.UpdateOptions(log.Options with { RetentionBytes = 2 * segmentSize });
        Assert.Equal(1, log.ApplyRetention(Clock.Now));
        Assert.Equal(18, log.LogStartOffset);
    }

    [Fact]
    public void When_everything_expires_an_empty_segment_remains_at_the_end_offset()
    {
        var log = FiveSegments();
        log.UpdateOptions(log.Options with { RetentionMs = 1 });
        Assert.Equal(5, log.ApplyRetention(nowMs: 10_000_000));
        Assert.Equal(30, log.LogStartOffset);
        Assert.Equal(30, log.LogEndOffset);
        Assert.Equal(0, log.SizeInBytes);
        Assert.True(log.Read(29, 100, long.MaxValue, true).OutOfRange);
        using (var r = log.Read(30, 100, long.MaxValue, true))
        {
            Assert.False(r.OutOfRange);
            Assert.True(r.Records.IsEmpty);
        }
        Assert.Equal(0, log.ApplyRetention(nowMs: 10_000_000));
        log.Dispose();

        var reopened = Open();
        Assert.Equal(30, reopened.LogStartOffset);
        Assert.Equal(30, reopened.LogEndOffset);
        Assert.Equal(30, reopened.Append(BatchBuilder.Build(1), 2).FirstOffset);
    }

    [Fact]
    public void Disabled_retention_deletes_nothing()
    {
        var log = FiveSegments(new LogOptions { SegmentBytes = 100_000, RetentionMs = -1, RetentionBytes = -1 });
        Assert.Equal(0, log.ApplyRetention(long.MaxValue / 2));
        Assert.Equal(5, log.SegmentCount);
    }

    [Fact]
    public void A_lease_keeps_the_bytes_readable_after_retention_deletes_the_segment()
    {
        var log = FiveSegments();
        var result = log.Read(0, int.MaxValue, long.MaxValue, true);
        byte[] copy = result.Records.ToArray();

        log.UpdateOptions(log.Options with { RetentionMs = 1 });
        Assert.Equal(5, log.ApplyRetention(nowMs: 10_000_000));
        Assert.False(File.Exists(SegmentPath(0, ".log")));

        // The mapping is still there: same bytes, still valid batches.
        Assert.Equal(copy, result.Records.ToArray());
        Assert.Equal(3, BatchBuilder.ParseValid(result.Records.Span).Count);
        result.Dispose();
    }

    [Fact]
    public void A_lease_outlives_the_log_itself()
    {
        var log = FiveSegments();
        var result = log.Read(24, int.MaxValue, long.MaxValue, true); // active segment
        byte[] copy = result.Records.ToArray();
        log.Dispose();
        Assert.Equal(copy, result.Records.ToArray());
        result.Dispose();
        Assert.Throws<ObjectDisposedException>(() => log.Read(24, 100, long.MaxValue, true));
    }

    [Fact]
    public void TruncateTo_inside_the_active_segment_cuts_at_the_batch_start()
    {
        var log = Open();
        for (int i = 0; i < 5; i++) log.Append(BatchBuilder.Build(3, baseTimestamp: 1000 + i), 1); // [0..14]
        log.TruncateTo(7); // inside batch 6-8: that batch goes too
        Assert.Equal(6, log.LogEndOffset);
        Assert.Equal([0L, 3L], BatchBuilder.ParseValid(ReadAll(log, 0)).Select(h => h.BaseOffset));
        Assert.Equal(1001 + 2, log.FindMaxTimestamp()!.Value.Timestamp);

        var info = log.Append(BatchBuilder.Build(2), 2);
        Assert.Equal(6, info.FirstOffset);
        log.Dispose();

        var reopened = Open();
        Assert.Equal(8, reopened.LogEndOffset);
        Assert.Equal([0L, 3L, 6L], BatchBuilder.ParseValid(ReadAll(reopened, 0)).Select(h => h.BaseOffset));
    }

    [Fact]
    public void TruncateTo_an_older_segment_deletes_the_later_ones_and_reactivates_it()
    {
        var log = FiveSegments();
        log.TruncateTo(9); // segment 6 holds batches 6-7, 8-9, 10-11
        Assert.Equal([0L, 6L], log.SegmentBaseOffsets());
        Assert.Equal(8, log.LogEndOffset);
        Assert.False(File.Exists(SegmentPath(12, ".log")));
        Assert.Equal(8, log.Append(BatchBuilder.Build(4), 3).FirstOffset);
        Assert.Equal(12, log.LogEndOffset);
        Assert.Equal([0L, 2L, 4L, 6L, 8L], BatchBuilder.ParseValid(ReadAll(log, 0)).Select(h => h.BaseOffset));
        log.Dispose();

        // The zeroed tail never comes back after a restart.
        var reopened = Open();
        Assert.Equal(12, reopened.LogEndOffset);
        Assert.Equal([0L, 2L, 4L, 6L, 8L], BatchBuilder.ParseValid(ReadAll(reopened, 0)).Select(h => h.BaseOffset));
    }

    [Fact]
    public void TruncateTo_the_start_or_before_it_empties_the_log()
    {
        var log = FiveSegments();
        log.TruncateTo(0);
        Assert.Equal(0, log.LogEndOffset);
        Assert.Equal(0, log.SizeInBytes);
        Assert.Equal(0, log.Append(BatchBuilder.Build(1), 1).FirstOffset);

        log.UpdateOptions(log.Options with { RetentionMs = 1 });
        log.ApplyRetention(10_000_000_000_000);
        Assert.Equal(1, log.LogStartOffset);
        log.TruncateTo(0);
        Assert.Equal(0, log.LogStartOffset);
        Assert.Equal(0, log.LogEndOffset);
        Assert.Equal([0L], log.SegmentBaseOffsets());
    }

    [Fact]
    public void TruncateTo_at_or_past_the_end_changes_nothing()
    {
        var log = FiveSegments();
        long size = log.SizeInBytes;
        log.TruncateTo(30);
        log.TruncateTo(1000);
        Assert.Equal(30, log.LogEndOffset);
        Assert.Equal(size, log.SizeInBytes);
    }
}

namespace Broker.Storage.Tests;

/// <summary><see cref="IPartitionLog.ResetTo"/> (restart empty at any offset, as a snapshot install needs) and
/// retention bounded by a high watermark.</summary>
public class ResetAndBoundedRetentionTests : LogTestBase
{
    /// <summary>Three segments: [0, 6), [6, 12), [12, 18) (active).</summary>
    private PartitionLog ThreeSegments()
    {
        var log = Open(new LogOptions { SegmentBytes = 100_000, RetentionMs = -1 });
        for (int k = 0; k < 3; k++)
        {
            for (int j = 0; j < 3; j++) log.Append(BatchBuilder.Build(2, baseTimestamp: 1_000_000 + k * 100_000 + j * 10), 1);
            log.UpdateOptions(log.Options with { SegmentMs = 1 });
            Clock.Now += 2;
        }
        log.UpdateOptions(log.Options with { SegmentMs = 7L * 24 * 3600 * 1000 });
        Assert.Equal([0L, 6L, 12L], log.SegmentBaseOffsets());
        return log;
    }

    [Fact]
    public void ResetTo_forward_discards_everything_and_restarts_empty_at_the_offset_durably()
    {
        var log = ThreeSegments();
        using var lease = log.Read(0, 1000, long.MaxValue, true); // an outstanding reader keeps its bytes
        log.ResetTo(500);
        Assert.Equal(500, log.LogStartOffset);
        Assert.Equal(500, log.LogEndOffset);
        Assert.Equal(0, log.SizeInBytes);
        Assert.Equal([500L], log.SegmentBaseOffsets());
        Assert.True(log.Read(10, 100, long.MaxValue, true).OutOfRange);
        Assert.False(File.Exists(SegmentPath(0, ".log")));
        Assert.False(File.Exists(SegmentPath(12, ".index")));
        Assert.Equal(3, BatchBuilder.ParseValid(lease.Records.Span).Count);
        Assert.Equal(500, log.Append(BatchBuilder.Build(3), 4).FirstOffset);
        Assert.Equal(503, log.LogEndOffset);
        log.Dispose();

        var reopened = Open();
        Assert.Equal(500, reopened.LogStartOffset);
        Assert.Equal(503, reopened.LogEndOffset);
        Assert.Equal(3, BatchBuilder.ParseValid(ReadAll(reopened, 500)).Sum(h => h.LastOffsetDelta + 1));
    }

    [Fact]
    public void ResetTo_backwards_or_onto_an_existing_base_offset_works_too()
    {
        var log = ThreeSegments();
        log.ResetTo(6); // the base offset of a segment being deleted
        Assert.Equal((6L, 6L), (log.LogStartOffset, log.LogEndOffset));
        log.Append(BatchBuilder.Build(2), 1);
        log.ResetTo(2);
        Assert.Equal((2L, 2L), (log.LogStartOffset, log.LogEndOffset));
        Assert.Throws<ArgumentOutOfRangeException>(() => log.ResetTo(-1));
        log.Dispose();
        Assert.Throws<ObjectDisposedException>(() => log.ResetTo(10));
        var reopened = Open();
        Assert.Equal((2L, 2L), (reopened.LogStartOffset, reopened.LogEndOffset));
    }

    [Fact]
    public void Retention_never_deletes_a_segment_holding_offsets_at_or_above_the_bound()
    {
        var log = ThreeSegments();
        log.UpdateOptions(log.Options with { RetentionMs = 1 });
        // Everything is expired, but only offsets below 13 may go: segment [12, 18) straddles the bound.
        Assert.Equal(0, log.ApplyRetention(10_000_000, maxOffsetExclusive: 5));
        Assert.Equal(1, log.ApplyRetention(10_000_000, maxOffsetExclusive: 6));
        Assert.Equal(6, log.LogStartOffset);
        Assert.Equal(1, log.ApplyRetention(10_000_000, maxOffsetExclusive: 13));
        Assert.Equal(12, log.LogStartOffset);
        Assert.Equal(18, log.LogEndOffset);
        // With the bound at the end everything goes and an empty segment stays at the end offset.
        Assert.Equal(1, log.ApplyRetention(10_000_000, maxOffsetExclusive: 18));
        Assert.Equal((18L, 18L), (log.LogStartOffset, log.LogEndOffset));
    }

    [Fact]
    public void Interface_defaults_keep_other_implementations_honest()
    {
        IPartitionLog other = new MinimalLog();
        Assert.Equal(0, other.ApplyRetention(1, maxOffsetExclusive: 10)); // cannot honour a bound: deletes nothing
        Assert.Equal(7, other.ApplyRetention(1, long.MaxValue));
        Assert.Throws<NotSupportedException>(() => other.ResetTo(5));
    }

    private sealed class MinimalLog : IPartitionLog
    {
        public Broker.Core.Model.TopicPartition Partition => Tp;
        public long LogStartOffset => 0;
        public long LogEndOffset => 0;
        public long SizeInBytes => 0;
        public LogOptions Options { get; } = new();
        public AppendInfo Append(ReadOnlySpan<byte> batches, int leaderEpoch, long? logAppendTimeMs = null) => throw new NotSupportedException();
        public LogReadResult Read(long offset, int maxBytes, long maxOffsetExclusive, bool minOneBatch) => default;
        public (long Offset, long Timestamp)? FindOffsetByTimestamp(long timestampMs) => null;
        public (long Offset, long Timestamp)? FindMaxTimestamp() => null;
        public void TruncateTo(long offset) { }
        public void Flush() { }
        public int ApplyRetention(long nowMs) => 7;
        public void UpdateOptions(LogOptions options) { }
        public void Dispose() { }
    }
}

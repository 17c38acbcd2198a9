using System.Buffers.Binary;
using Broker.Core.Records;

namespace Broker.Storage.Tests.LogStart;

/// <summary>
/// Kafka's log start offset inside a segment (DeleteRecords): <see cref="IPartitionLog.AdvanceLogStartOffset"/>,
/// reads and timestamp lookups below it, its checkpoint across restarts and crashes, and retention of the segments
/// wholly below it.
/// </summary>
public class LogStartOffsetTests : LogTestBase
{
    /// <summary>One segment holding three batches of five records: [0, 5), [5, 10), [10, 15); timestamps 1000 + offset.</summary>
    private PartitionLog ThreeBatches()
    {
        var log = Open(new LogOptions { RetentionMs = -1 });
        for (int b = 0; b < 3; b++) log.Append(BatchBuilder.Build(5, baseTimestamp: 1_000 + b * 5), 1);
        Assert.Equal(15, log.LogEndOffset);
        return log;
    }

    /// <summary>Three segments: [0, 6), [6, 12), [12, 18) (active), batches of two records.</summary>
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
    public void Advancing_inside_a_batch_hides_everything_below_from_reads_but_not_from_stored_reads()
    {
        var log = ThreeBatches();
        Assert.True(log.AdvanceLogStartOffset(7));
        Assert.Equal(7, log.LogStartOffset);
        Assert.Equal(0, log.StoredStartOffset);
        Assert.Equal(15, log.LogEndOffset);

        Assert.True(log.Read(0, 1000, long.MaxValue, true).OutOfRange);
        Assert.True(log.Read(6, 1000, long.MaxValue, true).OutOfRange);
        using (var read = log.Read(7, 1000, long.MaxValue, true))
        {
            // Whole batches, as Kafka: the batch holding offset 7 starts at 5 (clients skip records below the fetch offset).
            var headers = BatchBuilder.ParseValid(read.Records.Span);
            Assert.Equal([5L, 10L], headers.Select(h => h.BaseOffset));
        }
        using (var stored = log.ReadStored(0, 1000, long.MaxValue, true))
        {
            Assert.False(stored.OutOfRange);
            Assert.Equal(0, BatchBuilder.ParseValid(stored.Records.Span)[0].BaseOffset);
        }
        Assert.True(log.ReadStored(16, 1000, long.MaxValue, true).OutOfRange);

        // Timestamp lookups never answer a deleted record: 1000 is offset 0's timestamp, the first survivor is 7.
        Assert.Equal((7L, 1_007L), log.FindOffsetByTimestamp(1_000));
        Assert.Equal((12L, 1_012L), log.FindOffsetByTimestamp(1_012));
        Assert.Null(log.FindOffsetByTimestamp(1_015));
    }

    [Fact]
    public void Advancing_is_monotonic_and_bounded_by_the_log_end()
    {
        var log = ThreeBatches();
        Assert.True(log.AdvanceLogStartOffset(5));
        Assert.False(log.AdvanceLogStartOffset(5));
        Assert.False(log.AdvanceLogStartOffset(2));
        Assert.Equal(5, log.LogStartOffset);
        Assert.Throws<ArgumentOutOfRangeException>(() => log.AdvanceLogStartOffset(16));
        Assert.Equal(5, log.LogStartOffset);

        // Up to the end: the log is empty for clients, appends go on.
        Assert.True(log.AdvanceLogStartOffset(15));
        Assert.Equal((15L, 15L), (log.LogStartOffset, log.LogEndOffset));
        Assert.True(log.Read(14, 1000, long.MaxValue, true).OutOfRange);
        Assert.True(log.Read(15, 1000, long.MaxValue, true).Records.IsEmpty);
        Assert.Equal(15, log.Append(BatchBuilder.Build(2), 2).FirstOffset);
        Assert.Equal(15, log.LogStartOffset);
        Assert.Equal(15, BatchBuilder.ParseValid(ReadAll(log, 15))[0].BaseOffset);
        log.Dispose();
        Assert.Throws<ObjectDisposedException>(() => log.AdvanceLogStartOffset(16));
    }

    [Fact]
    public void The_log_start_survives_a_clean_restart_and_a_crash()
    {
        var log = ThreeBatches();
        log.AdvanceLogStartOffset(7);
        Assert.True(File.Exists(Path.Combine(LogDir, PartitionLog.LogStartFileName)));

        // A crash (kill -9): what is on disk right now, active file still grown and nothing closed, copied aside.
        string crashDir = Temp.Sub("crash-copy");
        Directory.CreateDirectory(crashDir);
        foreach (string file in Directory.EnumerateFiles(LogDir)) File.Copy(file, Path.Combine(crashDir, Path.GetFileName(file)));
        using (var crashed = PartitionLog.Open(crashDir, Tp, new LogOptions(), Clock))
        {
            Assert.Equal(7, crashed.LogStartOffset);
            Assert.Equal(15, crashed.LogEndOffset);
            Assert.True(crashed.Read(6, 1000, long.MaxValue, true).OutOfRange);
        }
        log.AdvanceLogStartOffset(11);
        log.Dispose();

        var reopened = Open();
        Assert.Equal(11, reopened.LogStartOffset);
        Assert.Equal(0, reopened.StoredStartOffset);
        Assert.True(reopened.Read(10, 1000, long.MaxValue, true).OutOfRange);
        Assert.False(reopened.Read(11, 1000, long.MaxValue, true).OutOfRange);
    }

    [Fact]
    public void A_damaged_checkpoint_is_ignored_with_an_error_not_a_crash()
    {
        var log = ThreeBatches();
        log.AdvanceLogStartOffset(7);
        log.Dispose();
        string path = Path.Combine(LogDir, PartitionLog.LogStartFileName);
        byte[] data = File.ReadAllBytes(path);
        data[8] ^= 0xFF; // inside the offset: the checksum no longer matches
        File.WriteAllBytes(path, data);
        Assert.Equal(0, Open().LogStartOffset);

        File.WriteAllBytes(path, [1, 2, 3]);
        using (var truncated = PartitionLog.Open(LogDir, Tp, new LogOptions(), Clock))
            Assert.Equal(0, truncated.LogStartOffset);
        // A leftover temporary file from an interrupted write is removed at open.
        File.WriteAllBytes(path + ".tmp", [9]);
        using var again = PartitionLog.Open(LogDir, Tp, new LogOptions(), Clock);
        Assert.False(File.Exists(path + ".tmp"));
    }

    [Fact]
    public void A_log_start_beyond_the_recovered_end_hides_the_offsets_again_as_they_come_back()
    {
        var log = ThreeBatches();
        log.Dispose();
        // As if DeleteRecords had reached 20 before a crash lost the unflushed tail [15, 22).
        WriteCheckpoint(20);
        var reopened = Open();
        Assert.Equal((15L, 15L), (reopened.LogStartOffset, reopened.LogEndOffset));
        reopened.Append(BatchBuilder.Build(3), 2); // [15, 18)
        Assert.Equal(18, reopened.LogStartOffset);
        reopened.Append(BatchBuilder.Build(4), 2); // [18, 22)
        Assert.Equal(20, reopened.LogStartOffset);
        Assert.True(reopened.Read(19, 1000, long.MaxValue, true).OutOfRange);
    }

    private void WriteCheckpoint(long offset)
    {
        var data = new byte[16];
        BinaryPrimitives.WriteUInt32BigEndian(data, 0x4C534F31);
        BinaryPrimitives.WriteInt64BigEndian(data.AsSpan(4), offset);
        BinaryPrimitives.WriteUInt32BigEndian(data.AsSpan(12), Broker.Core.Hashing.Crc32C.Compute(data.AsSpan(0, 12)));
        File.WriteAllBytes(Path.Combine(LogDir, PartitionLog.LogStartFileName), data);
    }

    [Fact]
    public void Retention_deletes_the_segments_wholly_below_the_log_start_within_its_bound()
    {
        var log = ThreeSegments();
        Assert.True(log.AdvanceLogStartOffset(8));
        Assert.Equal(0, log.ApplyRetention(Clock.Now, maxOffsetExclusive: 5)); // segment [0, 6) reaches the bound
        Assert.Equal(1, log.ApplyRetention(Clock.Now, maxOffsetExclusive: 13));
        Assert.Equal([6L, 12L], log.SegmentBaseOffsets());
        Assert.Equal((8L, 6L), (log.LogStartOffset, log.StoredStartOffset));
        Assert.False(File.Exists(SegmentPath(0, ".log")));
        Assert.Equal(0, log.ApplyRetention(Clock.Now)); // [6, 12) still holds 8..11

        // Everything deleted: every segment goes, an empty one stays at the end offset.
        Assert.True(log.AdvanceLogStartOffset(18));
        Assert.Equal(2, log.ApplyRetention(Clock.Now));
        Assert.Equal([18L], log.SegmentBaseOffsets());
        Assert.Equal((18L, 18L, 18L), (log.LogStartOffset, log.StoredStartOffset, log.LogEndOffset));
        Assert.Equal(18, log.Append(BatchBuilder.Build(1), 3).FirstOffset);
        log.Dispose();
        var reopened = Open();
        Assert.Equal((18L, 19L), (reopened.LogStartOffset, reopened.LogEndOffset));
    }

    [Fact]
    public void Time_retention_past_the_log_start_makes_the_old_checkpoint_irrelevant()
    {
        var log = ThreeSegments();
        log.AdvanceLogStartOffset(3);
        log.UpdateOptions(log.Options with { RetentionMs = 1 });
        Assert.Equal(2, log.ApplyRetention(10_000_000, maxOffsetExclusive: 13));
        Assert.Equal((12L, 12L), (log.LogStartOffset, log.StoredStartOffset));
        log.Dispose();
        Assert.Equal(12, Open().LogStartOffset);
    }

    [Fact]
    public void A_reset_rewrites_the_log_start_so_a_smaller_restart_offset_is_not_hidden()
    {
        var log = ThreeSegments();
        log.AdvanceLogStartOffset(10);
        log.ResetTo(30);
        Assert.Equal((30L, 30L), (log.LogStartOffset, log.LogEndOffset));
        log.ResetTo(4);
        Assert.Equal((4L, 4L), (log.LogStartOffset, log.LogEndOffset));
        log.Append(BatchBuilder.Build(10), 2); // [4, 14): nothing hidden by the old start of 10
        Assert.Equal(4, log.LogStartOffset);
        log.Dispose();
        var reopened = Open();
        Assert.Equal((4L, 14L), (reopened.LogStartOffset, reopened.LogEndOffset));
        Assert.Equal(4, BatchBuilder.ParseValid(ReadAll(reopened, 4))[0].BaseOffset);
    }

    [Fact]
    public void Timestamp_lookup_inside_a_log_append_time_batch_starts_at_the_log_start()
    {
        var log = Open(new LogOptions { RetentionMs = -1 });
        log.Append(BatchBuilder.Build(5, baseTimestamp: 1_000), 1, logAppendTimeMs: 5_000); // [0, 5) all at 5000
        log.AdvanceLogStartOffset(3);
        Assert.Equal((3L, 5_000L), log.FindOffsetByTimestamp(10));
        var stored = BatchBuilder.ParseValid(ReadAll(log, 3));
        Assert.True(stored[0].IsLogAppendTime);
    }

    [Fact]
    public void Interface_defaults_fall_back_to_the_plain_read_and_refuse_to_move()
    {
        IPartitionLog minimal = new MinimalLog(ThreeBatches());
        Assert.Equal(0, minimal.StoredStartOffset);
        using (var read = minimal.ReadStored(0, 100, long.MaxValue, true)) Assert.False(read.OutOfRange);
        Assert.Throws<NotSupportedException>(() => minimal.AdvanceLogStartOffset(3));
    }

    /// <summary>An implementation with only the required members (the defaults under test).</summary>
    private sealed class MinimalLog(PartitionLog inner) : IPartitionLog
    {
        public Broker.Core.Model.TopicPartition Partition => inner.Partition;
        public long LogStartOffset => inner.LogStartOffset;
        public long LogEndOffset => inner.LogEndOffset;
        public long SizeInBytes => inner.SizeInBytes;
        public LogOptions Options => inner.Options;
        public AppendInfo Append(ReadOnlySpan<byte> batches, int leaderEpoch, long? logAppendTimeMs = null) => inner.Append(batches, leaderEpoch, logAppendTimeMs);
        public LogReadResult Read(long offset, int maxBytes, long maxOffsetExclusive, bool minOneBatch) => inner.Read(offset, maxBytes, maxOffsetExclusive, minOneBatch);
        public (long Offset, long Timestamp)? FindOffsetByTimestamp(long timestampMs) => inner.FindOffsetByTimestamp(timestampMs);
        public (long Offset, long Timestamp)? FindMaxTimestamp() => inner.FindMaxTimestamp();
        public void TruncateTo(long offset) => inner.TruncateTo(offset);
        public void Flush() => inner.Flush();
        public int ApplyRetention(long nowMs) => inner.ApplyRetention(nowMs);
        public void UpdateOptions(LogOptions options) => inner.UpdateOptions(options);
        public void Dispose() { }
    }
}

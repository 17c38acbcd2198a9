namespace Broker.Storage.Tests.Durability;

/// <summary>
/// The flush policy of <see cref="PartitionLog"/>: flush.messages (fsync on the append that reaches the count),
/// flush.ms (<see cref="PartitionLog.FlushIfDue"/> against the oldest unflushed append), explicit flushes resetting
/// the counters, dynamic option changes, and the crash-safe checkpoint writer <see cref="DurableFile"/>.
/// </summary>
public class FlushPolicyTests : LogTestBase
{
    [Fact]
    public void Flush_messages_1_leaves_nothing_unflushed_after_each_append()
    {
        var log = Open(new LogOptions { FlushIntervalMessages = 1 });
        for (int i = 0; i < 5; i++)
        {
            log.Append(BatchBuilder.Build(1 + i), 1);
            Assert.Equal(0, log.UnflushedRecords);
        }
        Assert.Equal(15, log.LogEndOffset);
    }

    [Fact]
    public void Flush_by_count_fires_on_the_append_that_reaches_the_count()
    {
        var log = Open(new LogOptions { FlushIntervalMessages = 5 });
        log.Append(BatchBuilder.Build(2), 1);
        Assert.Equal(2, log.UnflushedRecords);
        log.Append(BatchBuilder.Build(2), 1);
        Assert.Equal(4, log.UnflushedRecords);
        log.Append(BatchBuilder.Build(1), 1); // reaches 5
        Assert.Equal(0, log.UnflushedRecords);
        log.Append(BatchBuilder.Build(7), 1); // one batch past the count flushes at once
        Assert.Equal(0, log.UnflushedRecords);
        log.Append(BatchBuilder.Build(3), 1);
        Assert.Equal(3, log.UnflushedRecords);
    }

    [Fact]
    public void Without_a_policy_records_accumulate_until_an_explicit_flush()
    {
        var log = Open(new LogOptions());
        for (int i = 0; i < 10; i++) log.Append(BatchBuilder.Build(3), 1);
        Assert.Equal(30, log.UnflushedRecords);
        Assert.False(log.FlushIfDue(Clock.Now + 365L * 24 * 3600 * 1000)); // flush.ms unset: never by time
        Assert.Equal(30, log.UnflushedRecords);
        log.Flush();
        Assert.Equal(0, log.UnflushedRecords);
    }

    [Fact]
    public void Flush_by_time_measures_from_the_oldest_unflushed_append()
    {
        var log = Open(new LogOptions { FlushIntervalMs = 1_000 });
        long t0 = Clock.Now;
        Assert.False(log.FlushIfDue(t0 + 5_000)); // nothing unflushed
        log.Append(BatchBuilder.Build(1), 1);
        Clock.Now = t0 + 800;
        log.Append(BatchBuilder.Build(1), 1); // younger: does not restart the clock
        Assert.False(log.FlushIfDue(t0 + 999));
        Assert.Equal(2, log.UnflushedRecords);
        Assert.True(log.FlushIfDue(t0 + 1_000));
        Assert.Equal(0, log.UnflushedRecords);
        Assert.False(log.FlushIfDue(t0 + 10_000)); // nothing left

        // The next unflushed append starts a new period.
        Clock.Now = t0 + 20_000;
        log.Append(BatchBuilder.Build(4), 1);
        Assert.False(log.FlushIfDue(t0 + 20_500));
        Assert.True(log.FlushIfDue(t0 + 21_000));
        Assert.Equal(0, log.UnflushedRecords);
    }

    [Fact]
    public void Flush_ms_0_flushes_whatever_is_unflushed_at_each_check()
    {
        var log = Open(new LogOptions { FlushIntervalMs = 0 });
        log.Append(BatchBuilder.Build(2), 1);
        Assert.True(log.FlushIfDue(Clock.Now));
        Assert.Equal(0, log.UnflushedRecords);
        Assert.False(log.FlushIfDue(Clock.Now));
    }

    [Fact]
    public void A_count_flush_resets_the_time_period_too()
    {
        var log = Open(new LogOptions { FlushIntervalMessages = 3, FlushIntervalMs = 1_000 });
        long t0 = Clock.Now;
        log.Append(BatchBuilder.Build(3), 1); // flushed by count
        Assert.False(log.FlushIfDue(t0 + 5_000));
        Clock.Now = t0 + 5_000;
        log.Append(BatchBuilder.Build(1), 1);
        Assert.False(log.FlushIfDue(t0 + 5_999));
        Assert.True(log.FlushIfDue(t0 + 6_000));
    }

    [Fact]
    public void Changed_options_apply_to_the_next_append_and_check()
    {
        var log = Open(new LogOptions());
        log.Append(BatchBuilder.Build(4), 1);
        Assert.Equal(4, log.UnflushedRecords);
        log.UpdateOptions(log.Options with { FlushIntervalMessages = 5 });
        log.Append(BatchBuilder.Build(1), 1);
        Assert.Equal(0, log.UnflushedRecords);

        log.Append(BatchBuilder.Build(1), 1);
        Assert.False(log.FlushIfDue(Clock.Now + 100_000));
        log.UpdateOptions(log.Options with { FlushIntervalMs = 50 });
        Assert.True(log.FlushIfDue(Clock.Now + 100_000));
    }

    [Fact]
    public void Counting_spans_segment_rolls_and_the_flush_covers_the_new_segment()
    {
        var log = Open(new LogOptions { SegmentBytes = 300, FlushIntervalMessages = 1_000 });
        for (int i = 0; i < 12; i++) log.Append(BatchBuilder.Build(2, valueSize: 40), 1);
        Assert.True(log.SegmentCount > 3);
        Assert.Equal(24, log.UnflushedRecords);
        log.Flush(); // syncs the active segment and (segments came and went) the directory
        Assert.Equal(0, log.UnflushedRecords);
        Assert.Equal(24, log.LogEndOffset);
    }

    [Fact]
    public void The_interface_default_never_flushes_by_time()
    {
        IPartitionLog stub = new NoPolicyLog();
        Assert.False(stub.FlushIfDue(long.MaxValue));
    }

    [Fact]
    public void DurableFile_replaces_content_atomically_and_leaves_no_temp_file()
    {
        string path = Temp.Sub("checkpoint");
        DurableFile.WriteAtomic(path, [1, 2, 3]);
        Assert.Equal([1, 2, 3], File.ReadAllBytes(path));
        DurableFile.WriteAtomic(path, [9], syncDirectory: false);
        Assert.Equal([9], File.ReadAllBytes(path));
        Assert.False(File.Exists(path + ".tmp"));
        DurableFile.SyncDirectory(Temp.Path);
    }

    [Fact]
    public void DurableFile_reports_a_directory_it_cannot_sync()
    {
        if (!OperatingSystem.IsLinux()) return;
        var ex = Assert.Throws<IOException>(() => DurableFile.SyncDirectory(Temp.Sub("does-not-exist")));
        Assert.Contains("does-not-exist", ex.Message);
    }

    /// <summary>A log that only implements the required members (to observe the interface's default).</summary>
    private sealed class NoPolicyLog : IPartitionLog
    {
        public Broker.Core.Model.TopicPartition Partition => new("t", 0);
        public long LogStartOffset => 0;
        public long LogEndOffset => 0;
        public long SizeInBytes => 0;
        public LogOptions Options { get; } = new();
        public AppendInfo Append(ReadOnlySpan<byte> batches, int leaderEpoch, long? logAppendTimeMs = null) => throw new NotSupportedException();
        public LogReadResult Read(long offset, int maxBytes, long maxOffsetExclusive, bool minOneBatch) => throw new NotSupportedException();
        public (long Offset, long Timestamp)? FindOffsetByTimestamp(long timestampMs) => null;
        public (long Offset, long Timestamp)? FindMaxTimestamp() => null;
        public void TruncateTo(long offset) { }
        public void Flush() { }
        public int ApplyRetention(long nowMs) => 0;
        public void UpdateOptions(LogOptions options) { }
        public void Dispose() { }
    }
}

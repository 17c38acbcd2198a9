using System.Diagnostics;
using Broker.Storage.Producers;

namespace Broker.Storage.Tests;

/// <summary>Compaction and the rest of the log's life: reopening, crashes around the swap, leases, producer state.</summary>
public sealed class CompactionRecoveryTests : LogTestBase
{
    private static readonly LogOptions Compacted = new() { Compact = true, SegmentBytes = 1024, IndexIntervalBytes = 128 };

    private PartitionLog Fill(LogOptions? options = null)
    {
        var log = Open(options ?? Compacted);
        for (int round = 0; round < 40; round++)
        {
            var records = Enumerable.Range(0, 5).Select(k => ((string?)$"k{k}", (string?)$"v{round}")).ToArray();
            log.Append(Keyed.Batch(Clock.Now - 1000, records), 2);
        }
        return log;
    }

    [Fact]
    public void Reopening_after_compaction_gives_the_same_records_and_valid_indexes()
    {
        var log = Fill();
        Assert.True(log.Compact(log.LogEndOffset, Clock.Now).SegmentsRewritten > 0);
        var bytes = ReadAll(log, 0);
        var bases = log.SegmentBaseOffsets();
        long end = log.LogEndOffset;
        log.Dispose();

        var reopened = Open(Compacted);
        Assert.Equal(bases, reopened.SegmentBaseOffsets());
        Assert.Equal(end, reopened.LogEndOffset);
        Assert.Equal(bytes, ReadAll(reopened, 0));
        Assert.Empty(Directory.GetFiles(LogDir, "*.tmp"));
        // Indexed reads from every offset land on the batch that holds it.
        for (long offset = 0; offset < end; offset += 7)
        {
            using var read = reopened.Read(offset, 1, long.MaxValue, minOneBatch: true);
            var header = BatchBuilder.ParseValid(read.Records.Span)[0];
            Assert.InRange(offset, header.BaseOffset, header.LastOffset);
        }
    }

    [Fact]
    public void A_crash_before_the_swap_leaves_the_old_segment_and_the_temp_file_is_removed()
    {
        var log = Fill();
        var bytes = ReadAll(log, 0);
        long first = log.SegmentBaseOffsets()[0];
        log.Dispose();
        // The cleaned copy was written (here: half of it) but never renamed; the index files may be gone already.
        string temp = SegmentPath(first, ".log.cleaned.tmp");
        File.WriteAllBytes(temp, File.ReadAllBytes(SegmentPath(first, ".log"))[..100]);
        File.Delete(SegmentPath(first, ".index"));
        File.Delete(SegmentPath(first, ".timeindex"));

        var reopened = Open(Compacted);
        Assert.False(File.Exists(temp));
        Assert.Equal(bytes, ReadAll(reopened, 0));
        Assert.True(File.Exists(SegmentPath(first, ".index")));
        Assert.True(reopened.Compact(reopened.LogEndOffset, Clock.Now).SegmentsRewritten > 0);
    }

    [Fact]
    public void A_crash_after_the_swap_but_before_the_indexes_were_written_rebuilds_them()
    {
        var log = Fill();
        log.Compact(log.LogEndOffset, Clock.Now);
        var bytes = ReadAll(log, 0);
        var bases = log.SegmentBaseOffsets();
        log.Dispose();
        foreach (long b in bases.SkipLast(1))
        {
            File.Delete(SegmentPath(b, ".index"));
            File.Delete(SegmentPath(b, ".timeindex"));
        }

        var reopened = Open(Compacted);
        Assert.Equal(bytes, ReadAll(reopened, 0));
        Assert.All(bases, b => Assert.True(File.Exists(SegmentPath(b, ".index"))));
    }

    [Fact]
    public void A_reader_holding_a_lease_during_the_swap_still_reads_the_old_bytes()
    {
        var log = Fill();
        using var lease = log.Read(0, int.MaxValue, long.MaxValue, minOneBatch: true);
        var old = lease.Records.ToArray();

        Assert.True(log.Compact(log.LogEndOffset, Clock.Now).SegmentsRewritten > 0);
        GC.Collect();

        Assert.Equal(old, lease.Records.ToArray()); // the old mapping is still alive and unchanged
        using var fresh = log.Read(0, int.MaxValue, long.MaxValue, minOneBatch: true);
        Assert.True(fresh.Records.Length < old.Length);
        Assert.Equal(Keyed.RecordsOf(old).Count, 5 * (int)BatchBuilder.ParseValid(old).Count);
    }

    [Fact]
    public void Readers_running_during_compaction_always_see_valid_batches()
    {
        var log = Fill();
        long end = log.LogEndOffset;
        using var stop = new CancellationTokenSource();
        int reads = 0;
        var reader = Task.Run(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                long offset = Random.Shared.NextInt64(0, end);
                using var read = log.Read(offset, 4096, long.MaxValue, minOneBatch: true);
                var header = BatchBuilder.ParseValid(read.Records.Span)[0];
                Assert.InRange(offset, header.BaseOffset, header.LastOffset);
                Interlocked.Increment(ref reads);
            }
        });
        for (int i = 0; i < 5; i++)
        {
            for (int round = 0; round < 10; round++)
                log.Append(Keyed.Batch(Clock.Now - 1000, ("k1", $"n{i}.{round}"), ("k2", "x")), 2);
            int seen = Volatile.Read(ref reads);
            Assert.True(SpinWait.SpinUntil(() => Volatile.Read(ref reads) > seen + 50 || reader.IsCompleted, 10_000));
            log.Compact(log.LogEndOffset, Clock.Now);
        }
        stop.Cancel();
        reader.Wait();
        Assert.True(reads > 0);
    }

    [Fact]
    public void Producer_state_rebuilt_from_compacted_batches_is_unchanged()
    {
        var log = Open(Compacted);
        for (int i = 0; i < 30; i++)
            log.Append(Keyed.Batch(Clock.Now - 1000, 42, 3, i * 2, ("key", $"a{i}"), ("key", $"b{i}")), 5);
        var before = log.GetProducer(42);
        Assert.NotNull(before);
        Assert.True(log.Compact(log.LogEndOffset, Clock.Now).SegmentsRewritten > 0);
        log.Dispose();
        File.Delete(ProducerStateSnapshot.PathIn(LogDir)); // force a rebuild from the batch headers

        var reopened = Open(Compacted);
        var after = reopened.GetProducer(42);
        Assert.NotNull(after);
        Assert.Equal(before!.Epoch, after!.Epoch);
        Assert.Equal(before.Batches, after.Batches);
        // A retried batch of the last sequence is still recognised as a duplicate.
        var retry = Keyed.Batch(Clock.Now, 42, 3, 58, ("key", "a29"), ("key", "b29"));
        Assert.True(reopened.CheckProducerState(retry).IsDuplicate);
    }

    /// <summary>
    /// Figures: a log of keyed records over 1000 keys compacted once (COMPACTION_BENCH_MB sets the size; 8 MB by
    /// default so the test stays quick). Reports time and size; asserts the result.
    /// </summary>
    [Fact]
    public void Compacting_a_log_of_1000_keys_keeps_one_record_per_key()
    {
        int megabytes = int.TryParse(Environment.GetEnvironmentVariable("COMPACTION_BENCH_MB"), out int mb) ? mb : 8;
        var options = new LogOptions { Compact = true, SegmentBytes = Math.Max(1 << 20, megabytes << 20 >> 3) };
        var log = Open(options);
        var value = new string('x', 200);
        int round = 0;
        while (log.SizeInBytes < (long)megabytes << 20)
        {
            for (int k = 0; k < 1000; k += 50)
            {
                var batch = Enumerable.Range(k, 50).Select(i => ((string?)$"key-{i:D4}", (string?)$"{round}:{value}")).ToArray();
                log.Append(Keyed.Batch(Clock.Now - 1000, batch), 1);
            }
            round++;
        }
        log.Append(Keyed.Batch(Clock.Now, ("last", "record")), 1); // forces everything before into sealed segments
        log.Flush();
        long sizeBefore = log.SizeInBytes;
        var watch = Stopwatch.StartNew();
        var result = log.Compact(log.LogEndOffset, Clock.Now);
        watch.Stop();
        Console.WriteLine($"compaction of {sizeBefore / 1e6:F1} MB, 1000 keys, {round} rounds, {log.SegmentCount} segments: " +
                          $"{watch.ElapsedMilliseconds} ms; {result}; log now {log.SizeInBytes / 1e6:F2} MB");
        Assert.True(result.SegmentsRewritten > 0);
        var records = Keyed.ReadRecords(log);
        var latestRound = records.GroupBy(r => r.Key).ToDictionary(g => g.Key!, g => g.Last().Value!.Split(':')[0]);
        Assert.Equal(1001, latestRound.Count);
        Assert.True(records.Count < 1000 * 2 + 1001, $"{records.Count} records left");
        Assert.True(log.SizeInBytes < sizeBefore / 2);
    }
}

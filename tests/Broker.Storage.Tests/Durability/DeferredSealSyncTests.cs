using Broker.Core.Records;

namespace Broker.Storage.Tests.Durability;

/// <summary>
/// A roll seals the old segment without waiting for its fsync; a background item syncs it and then writes its
/// index files durably. Checked here: the queue drains and leaves index files; a flush syncs what is queued; and a
/// crash that lost a sealed segment's unsynced tail (no index files, torn data) reopens to a log that ends at the
/// hole, CRC-checked, with the later segments dropped and appends continuing there.
/// </summary>
public class DeferredSealSyncTests : LogTestBase
{
    private static readonly LogOptions SmallSegments = new() { SegmentBytes = 4096, IndexIntervalBytes = 256, SealedSegmentSyncDelayMs = 0 };

    private static List<byte[]> AppendMany(PartitionLog log, int count)
    {
        var stored = new List<byte[]>();
        for (int i = 0; i < count; i++)
        {
            var batch = BatchBuilder.Build(3, baseTimestamp: 10_000 + i, valueSize: 60 + i % 7, fill: (byte)(0x40 + i % 30));
            var info = log.Append(batch, 2);
            stored.Add(BatchBuilder.Stored(batch, info.FirstOffset, 2));
        }
        return stored;
    }

    private List<long> SegmentBases() =>
        Directory.GetFiles(LogDir, "*.log").Select(f => long.Parse(Path.GetFileNameWithoutExtension(f))).Order().ToList();

    [Fact]
    public void Rolled_segments_get_synced_in_the_background_and_then_have_index_files()
    {
        var log = Open(SmallSegments);
        var stored = AppendMany(log, 120);
        var bases = SegmentBases();
        Assert.True(bases.Count >= 5, $"expected several rolls, got {bases.Count} segments");

        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (log.SegmentsAwaitingSync > 0 && DateTime.UtcNow < deadline) Thread.Sleep(10);
        Assert.Equal(0, log.SegmentsAwaitingSync);
        foreach (long b in bases.SkipLast(1))
        {
            Assert.True(File.Exists(SegmentPath(b, ".index")), $"index of sealed segment {b}");
            Assert.True(File.Exists(SegmentPath(b, ".timeindex")), $"time index of sealed segment {b}");
        }
        Assert.Equal(BatchBuilder.Concat(stored.ToArray()), ReadAll(log, 0));
    }

    [Fact]
    public void With_a_delay_the_sync_waits_that_long_after_the_roll()
    {
        var log = Open(SmallSegments with { SealedSegmentSyncDelayMs = 700 });
        var started = Environment.TickCount64;
        AppendMany(log, 40);
        var bases = SegmentBases();
        Assert.True(bases.Count >= 2);
        if (Environment.TickCount64 - started < 500)
        {
            Assert.True(log.SegmentsAwaitingSync > 0);
            Assert.False(File.Exists(SegmentPath(bases[0], ".index")));
        }
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (log.SegmentsAwaitingSync > 0 && DateTime.UtcNow < deadline) Thread.Sleep(20);
        Assert.Equal(0, log.SegmentsAwaitingSync);
        Assert.True(Environment.TickCount64 - started >= 700);
        Assert.True(File.Exists(SegmentPath(bases[0], ".index")));
    }

    [Fact]
    public void A_flush_syncs_the_queued_segments_itself()
    {
        var log = Open(SmallSegments with { SealedSegmentSyncDelayMs = 60_000 });
        AppendMany(log, 60);
        log.Flush();
        Assert.Equal(0, log.SegmentsAwaitingSync);
        foreach (long b in SegmentBases().SkipLast(1)) Assert.True(File.Exists(SegmentPath(b, ".index")));
    }

    [Fact]
    public void A_sealed_segment_that_lost_its_unsynced_tail_ends_the_log_at_the_hole()
    {
        var log = Open(SmallSegments);
        var stored = AppendMany(log, 120);
        log.Dispose();
        var bases = SegmentBases();
        Assert.True(bases.Count >= 5);

        // The crash: segment 2 was sealed but its sync never ran (no index files), and the disk kept only part of
        // its last batch.
        long damaged = bases[2];
        File.Delete(SegmentPath(damaged, ".index"));
        File.Delete(SegmentPath(damaged, ".timeindex"));
        string path = SegmentPath(damaged, ".log");
        long length = new FileInfo(path).Length;
        using (var handle = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite)) RandomAccess.SetLength(handle, length - 30);

        var reopened = Open(SmallSegments);

        // Everything before the damaged segment's torn batch survives byte for byte; nothing after it does.
        var kept = stored.TakeWhile(b => BaseOf(b) < bases[3]).ToList();
        kept.RemoveAt(kept.Count - 1); // the torn one
        long end = BaseOf(kept[^1]) + 3;
        Assert.Equal(end, reopened.LogEndOffset);
        Assert.Equal(BatchBuilder.Concat(kept.ToArray()), ReadAll(reopened, 0));
        Assert.Equal(bases.Take(3), SegmentBases());

        var next = reopened.Append(BatchBuilder.Build(2), 3);
        Assert.Equal(end, next.FirstOffset);
        Assert.Equal(end + 2, reopened.LogEndOffset);
        BatchBuilder.ParseValid(ReadAll(reopened, 0)); // every CRC checks
    }

    private static long BaseOf(byte[] stored)
    {
        RecordBatchHeader.TryRead(stored, out var header);
        return header.BaseOffset;
    }
}

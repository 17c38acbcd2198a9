namespace Broker.Storage.Tests.Compaction;

/// <summary>
/// The cleaner hitting I/O errors: a copy that cannot be written leaves the log as it was (and a later pass works);
/// a swap that fails after the old segment was closed, with no way to reopen the segment, closes the log with a clear
/// error (reads fail instead of hanging) and a reopen finds every record intact.
/// </summary>
public sealed class CompactionFailureTests : LogTestBase
{
    private static readonly LogOptions Compacted = new() { Compact = true, SegmentBytes = 1024, IndexIntervalBytes = 128 };

    private PartitionLog Fill()
    {
        var log = Open(Compacted);
        for (int round = 0; round < 40; round++)
            log.Append(Keyed.Batch(Clock.Now - 1000, Enumerable.Range(0, 5).Select(k => ((string?)$"k{k}", (string?)$"v{round}")).ToArray()), 2);
        return log;
    }

    [Fact]
    public void A_copy_that_cannot_be_written_leaves_the_log_unchanged()
    {
        var log = Fill();
        var before = ReadAll(log, 0);
        long first = log.SegmentBaseOffsets()[0];
        string blocker = SegmentPath(first, ".log.cleaned.tmp");
        Directory.CreateDirectory(blocker); // the copy's path is taken by a directory

        Assert.ThrowsAny<Exception>(() => log.Compact(log.LogEndOffset, Clock.Now));

        Assert.Equal(before, ReadAll(log, 0));
        Directory.Delete(blocker);
        Assert.True(log.Compact(log.LogEndOffset, Clock.Now).SegmentsRewritten > 0);
        Assert.All(Keyed.ReadRecords(log).GroupBy(r => r.Key), g => Assert.Equal("v39", g.Last().Value));
    }

    [Fact]
    public void A_swap_that_fails_for_good_closes_the_log_and_a_reopen_finds_every_record()
    {
        var log = Fill();
        var before = ReadAll(log, 0);
        long first = log.SegmentBaseOffsets()[0];
        string index = SegmentPath(first, ".index");
        File.Delete(index);
        Directory.CreateDirectory(index); // neither deletable as a file nor rewritable: the swap and its fallback fail

        var error = Assert.ThrowsAny<IOException>(() => log.Compact(log.LogEndOffset, Clock.Now));
        Assert.Contains("closed", error.Message);
        Assert.Throws<ObjectDisposedException>(() => log.Read(0, 1000, long.MaxValue, minOneBatch: true));

        Directory.Delete(index, recursive: true);
        var reopened = Open(Compacted);
        Assert.Equal(before, ReadAll(reopened, 0)); // the old file stayed: the swap failed before its rename
        Assert.Empty(Directory.GetFiles(LogDir, "*.tmp"));
        Assert.True(reopened.Compact(reopened.LogEndOffset, Clock.Now).SegmentsRewritten > 0);
    }
}

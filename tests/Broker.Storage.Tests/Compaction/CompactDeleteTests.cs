namespace Broker.Storage.Tests.Compaction;

/// <summary>
/// cleanup.policy=compact,delete at the storage level (TopicLogOptions turns the policy into Compact plus retention
/// settings): time and size retention delete whole old segments of a compacted log, compaction keeps working on what
/// retention leaves, and DeleteRecords (the log start offset) works on compacted segments and survives a reopen.
/// </summary>
public sealed class CompactDeleteTests : LogTestBase
{
    private static readonly LogOptions CompactDelete = new()
    {
        Compact = true, SegmentBytes = 1024, IndexIntervalBytes = 128, RetentionMs = 10_000, RetentionBytes = -1,
    };

    /// <summary>Rounds of one batch each, every key of <paramref name="keys"/> once, all stamped <paramref name="timestamp"/>.</summary>
    private static void Rounds(PartitionLog log, int from, int to, int keys, long timestamp)
    {
        for (int round = from; round < to; round++)
            log.Append(Keyed.Batch(timestamp, Enumerable.Range(0, keys).Select(k => ((string?)$"k{k}", (string?)$"v{round}")).ToArray()), 1);
    }

    [Fact]
    public void Time_retention_removes_old_compacted_segments_and_compaction_goes_on_with_the_rest()
    {
        var log = Open(CompactDelete);
        long old = Clock.Now;
        Rounds(log, 0, 30, keys: 5, old); // k0..k4
        Clock.Now += 20_000;
        long recent = Clock.Now;
        Rounds(log, 30, 60, keys: 3, recent); // k0..k2 only
        long firstRecent = 30 * 5;

        var result = log.Compact(log.LogEndOffset, Clock.Now);
        Assert.True(result.SegmentsRewritten > 0);
        // After compaction the old segments only hold k3 and k4 (their latest values); k0..k2 live in recent segments.
        Assert.All(Keyed.ReadRecords(log).Where(r => r.Offset < firstRecent), r => Assert.True(r.Key is "k3" or "k4", r.ToString()));

        int deleted = log.ApplyRetention(Clock.Now);
        Assert.True(deleted > 0);
        var records = Keyed.ReadRecords(log);
        Assert.True(log.LogStartOffset <= firstRecent, $"log start {log.LogStartOffset}");
        // Retention wins over compaction: segments wholly older than retention.ms are gone with their latest values.
        var segmentOfFirstRecent = log.SegmentBaseOffsets().Last(b => b <= firstRecent);
        Assert.Equal(segmentOfFirstRecent, log.LogStartOffset);
        Assert.DoesNotContain(records, r => r.Offset < log.LogStartOffset);
        Assert.Equal(["v59", "v59", "v59"], new[] { "k0", "k1", "k2" }.Select(k => records.Last(r => r.Key == k).Value));

        // More data for the surviving keys, then another pass: compaction continues on the shortened log.
        Rounds(log, 60, 90, keys: 3, recent);
        Assert.True(log.Compact(log.LogEndOffset, Clock.Now).SegmentsRewritten > 0);
        records = Keyed.ReadRecords(log);
        long activeBase = log.SegmentBaseOffsets()[^1];
        var cleaned = records.Where(r => r.Offset < activeBase && r.Key is "k0" or "k1" or "k2").ToList();
        Assert.True(cleaned.Count <= 3, string.Join(", ", cleaned));
        Assert.Equal("v89", records.Last(r => r.Key == "k0").Value);
    }

    [Fact]
    public void Size_retention_counts_the_compacted_sizes()
    {
        var log = Open(CompactDelete with { RetentionMs = -1 });
        Rounds(log, 0, 60, keys: 12, Clock.Now);
        long uncompacted = log.SizeInBytes;
        log.Compact(log.LogEndOffset, Clock.Now);
        long compacted = log.SizeInBytes;
        Assert.True(compacted < uncompacted / 2, $"{compacted} of {uncompacted}");

        // A limit the uncompacted log would exceed by far deletes nothing once compacted.
        log.UpdateOptions(log.Options with { RetentionBytes = compacted });
        Assert.Equal(0, log.ApplyRetention(Clock.Now));
        Assert.Equal(0, log.LogStartOffset);
        Assert.Equal(["v59", "v59", "v59", "v59"], Enumerable.Range(0, 4).Select(k => Keyed.ReadRecords(log).Last(r => r.Key == $"k{k}").Value));

        // A limit below it deletes the oldest segments first, as for any log.
        log.UpdateOptions(log.Options with { RetentionBytes = compacted / 2 });
        Assert.True(log.ApplyRetention(Clock.Now) > 0);
        Assert.True(log.SizeInBytes <= compacted / 2 + 1024);
        Assert.Equal(log.SegmentBaseOffsets()[0], log.LogStartOffset);
    }

    [Fact]
    public void Delete_records_on_a_compacted_log_hides_records_and_survives_compaction_retention_and_reopen()
    {
        var log = Open(CompactDelete with { RetentionMs = -1 });
        Rounds(log, 0, 40, keys: 5, Clock.Now);
        log.Compact(log.LogEndOffset, Clock.Now);
        var bases = log.SegmentBaseOffsets();
        Assert.True(bases.Count >= 4);
        // Delete up to an offset the cleaner removed (k0's value of round 25), inside a cleaned segment.
        long deleteTo = 25 * 5;
        Assert.DoesNotContain(Keyed.ReadRecords(log), r => r.Offset == deleteTo);
        Assert.True(log.AdvanceLogStartOffset(deleteTo));
        Assert.Equal(deleteTo, log.LogStartOffset);
        Assert.True(log.Read(deleteTo - 1, 1000, long.MaxValue, minOneBatch: true).OutOfRange);
        using (var read = log.Read(deleteTo, 1000, long.MaxValue, minOneBatch: true))
        {
            var first = BatchBuilder.ParseValid(read.Records.Span)[0];
            Assert.InRange(deleteTo, first.BaseOffset, first.LastOffset); // the (emptied) batch holding it
        }

        Rounds(log, 40, 80, keys: 5, Clock.Now);
        Assert.True(log.Compact(log.LogEndOffset, Clock.Now).SegmentsRewritten > 0);
        Assert.True(log.ApplyRetention(Clock.Now) > 0); // segments wholly below the log start go
        Assert.Equal(deleteTo, log.LogStartOffset);
        Assert.True(log.StoredStartOffset <= deleteTo);
        var records = Keyed.ReadRecords(log);
        Assert.All(records, r => Assert.True(r.Offset >= deleteTo));
        Assert.Equal(Enumerable.Repeat("v79", 5), Enumerable.Range(0, 5).Select(k => records.Last(r => r.Key == $"k{k}").Value));

        var bytes = ReadAll(log, log.LogStartOffset);
        long end = log.LogEndOffset;
        log.Dispose();
        var reopened = Open(CompactDelete with { RetentionMs = -1 });
        Assert.Equal((deleteTo, end), (reopened.LogStartOffset, reopened.LogEndOffset));
        Assert.Equal(bytes, ReadAll(reopened, deleteTo));
    }
}

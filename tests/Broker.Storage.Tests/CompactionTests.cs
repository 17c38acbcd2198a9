using Broker.Core.Records;
using Broker.Storage.Compaction;

namespace Broker.Storage.Tests;

/// <summary>Log compaction on real segment files: what is kept, what never changes, and what is left alone.</summary>
public sealed class CompactionTests : LogTestBase
{
    private static readonly LogOptions Compacted = new() { Compact = true, SegmentBytes = 1024, IndexIntervalBytes = 128 };

    private long Now => Clock.Now;

    /// <summary>Rounds of one batch per round holding every key once ("k{i}" = "v{round}"), then a final batch.</summary>
    private PartitionLog FillRounds(int rounds, int keys, LogOptions? options = null, int epoch = 3)
    {
        var log = Open(options ?? Compacted);
        for (int round = 0; round < rounds; round++)
        {
            var records = Enumerable.Range(0, keys).Select(k => ((string?)$"k{k}", (string?)$"v{round}")).ToArray();
            log.Append(Keyed.Batch(Now - 1000, records), epoch);
        }
        return log;
    }

    [Fact]
    public void Keeps_the_latest_value_per_key_and_every_batch_shape()
    {
        var log = FillRounds(rounds: 40, keys: 5);
        Assert.True(log.SegmentCount > 3);
        var shapes = Keyed.Shapes(log);
        var before = Keyed.ReadRecords(log);
        long sizeBefore = log.SizeInBytes;
        long activeBase = log.SegmentBaseOffsets()[^1];

        var result = log.Compact(log.LogEndOffset, Now);

        Assert.True(result.SegmentsRewritten > 0);
        Assert.Equal(log.SegmentCount - 1, result.SegmentsCleaned);
        Assert.Equal(activeBase, result.CleanedUpTo);
        Assert.True(log.SizeInBytes < sizeBefore);
        Assert.Equal(sizeBefore - log.SizeInBytes, result.BytesBefore - result.BytesAfter);
        Assert.Equal(shapes, Keyed.Shapes(log)); // offsets, epochs, producer fields, timestamps unchanged

        var after = Keyed.ReadRecords(log);
        var latest = before.GroupBy(r => r.Key).ToDictionary(g => g.Key!, g => g.Max(r => r.Offset));
        var expected = before.Where(r => r.Offset >= activeBase || r.Offset == latest[r.Key!]).ToList();
        Assert.Equal(expected, after);
        Assert.Equal(before.Count - after.Count, result.RecordsRemoved);
        // Every key still reads as its latest value.
        var view = after.GroupBy(r => r.Key).ToDictionary(g => g.Key!, g => g.Last().Value);
        Assert.All(view.Values, v => Assert.Equal("v39", v));
        Assert.Equal(before.Count, log.LogEndOffset); // nothing appended, nothing renumbered
    }

    [Fact]
    public void Emptied_batches_keep_their_offset_range_and_a_valid_crc()
    {
        var log = Open(Compacted);
        for (int i = 0; i < 30; i++) log.Append(Keyed.Batch(Now - 1000, ("same", $"v{i}"), ("same", $"w{i}")), 7);
        log.Compact(log.LogEndOffset, Now);

        var bytes = ReadAll(log, 0);
        var headers = BatchBuilder.ParseValid(bytes); // CRC-32C checked for every batch
        Assert.Equal(30, headers.Count);
        long activeBase = log.SegmentBaseOffsets()[^1];
        for (int i = 0; i < headers.Count; i++)
        {
            var h = headers[i];
            Assert.Equal(2L * i, h.BaseOffset);
            Assert.Equal(1, h.LastOffsetDelta);
            Assert.Equal(7, h.PartitionLeaderEpoch);
            if (h.BaseOffset < activeBase)
            {
                Assert.Equal(0, h.RecordsCount);
                Assert.Equal(RecordBatchHeader.Size, h.TotalSize);
            }
        }
        int pos = 0;
        foreach (var h in headers)
        {
            Assert.Equal(BatchError.None, RecordBatchValidator.ValidateOne(bytes.AsSpan(pos), int.MaxValue, out _));
            pos += h.TotalSize;
        }
        Assert.Equal(new KeyedRecord(59, "same", "w29"), Keyed.ReadRecords(log)[^1]);
    }

    [Fact]
    public void Tombstones_survive_until_delete_retention_has_passed()
    {
        var options = Compacted with { DeleteRetentionMs = 60_000 };
        var log = Open(options);
        log.Append(Keyed.Batch(Now - 1000, ("gone", "v1"), ("kept", "x")), 1);
        log.Append(Keyed.Batch(Now - 1000, ("gone", null)), 1);
        for (int i = 0; i < 30; i++) log.Append(Keyed.Batch(Now - 1000, ("filler", new string('f', 40))), 1);

        log.Compact(log.LogEndOffset, Now);
        var records = Keyed.ReadRecords(log);
        Assert.DoesNotContain(records, r => r.Key == "gone" && r.Value == "v1");
        Assert.Contains(new KeyedRecord(2, "gone", null), records);
        Assert.Contains(new KeyedRecord(1, "kept", "x"), records);

        Clock.Now += 59_000; // not yet past delete.retention.ms after the segment's newest timestamp
        log.Compact(log.LogEndOffset, Clock.Now);
        Assert.Contains(new KeyedRecord(2, "gone", null), Keyed.ReadRecords(log));

        Clock.Now += 2_000;
        var result = log.Compact(log.LogEndOffset, Clock.Now);
        Assert.Equal(1, result.RecordsRemoved);
        records = Keyed.ReadRecords(log);
        Assert.DoesNotContain(records, r => r.Key == "gone");
        Assert.Contains(new KeyedRecord(1, "kept", "x"), records);
    }

    [Fact]
    public void Segments_reaching_the_bound_and_the_active_segment_are_untouched()
    {
        var log = FillRounds(rounds: 40, keys: 5);
        var bases = log.SegmentBaseOffsets();
        Assert.True(bases.Count >= 4);
        long bound = bases[2] + 1; // inside the third segment: only the first two are cleanable
        var files = bases.Skip(2).ToDictionary(b => b, b => File.ReadAllBytes(SegmentPath(b, ".log")));
        var tail = ReadAll(log, bases[2]);
        var before = Keyed.ReadRecords(log);

        var result = log.Compact(bound, Now);

        Assert.Equal(2, result.SegmentsCleaned);
        Assert.Equal(bases[2], result.CleanedUpTo);
        Assert.Equal(tail, ReadAll(log, bases[2]));
        foreach (var (b, bytes) in files) Assert.Equal(bytes, File.ReadAllBytes(SegmentPath(b, ".log")));
        // The key map covers whole batches below the bound only: in the cleaned segments, the latest record of each
        // key among them survives (the next values sit in a batch that reaches the bound).
        var kept = Keyed.ReadRecords(log).Where(r => r.Offset < bases[2]).ToList();
        var expected = before.Where(r => r.Offset < bases[2]).GroupBy(r => r.Key).Select(g => g.Last()).OrderBy(r => r.Offset).ToList();
        Assert.Equal(expected, kept);
    }

    [Fact]
    public void Undecodable_compressed_control_and_keyless_records_are_kept_unchanged()
    {
        var log = Open(Compacted);
        var compressed = Keyed.AsUndecodable(Keyed.Batch(Now - 1000, ("k", "zipped-1"), ("k", "zipped-2")));
        log.Append(compressed, 1);
        log.Append(Keyed.Batch(Now - 1000, (null, "no-key-1"), ("k", "old")), 1);
        var control = new RecordBatchBuilder();
        control.Reset(Now - 1000, attributes: RecordBatchHeader.ControlMask);
        control.Add(Now - 1000, new byte[] { 0, 0, 0, 0 }, new byte[] { 0, 0, 0, 0, 0, 0 });
        log.Append(control.ToArray(), 1);
        for (int i = 0; i < 30; i++) log.Append(Keyed.Batch(Now - 1000, ("k", $"v{i}")), 1);

        log.Compact(log.LogEndOffset, Now);

        using (var read = log.Read(0, int.MaxValue, long.MaxValue, minOneBatch: true))
        {
            var span = read.Records.Span;
            Assert.Equal(BatchBuilder.Stored(compressed, 0, 1), span[..compressed.Length].ToArray());
            int pos = compressed.Length;
            RecordBatchHeader.TryRead(span[pos..], out var keyless);
            Assert.Equal(1, keyless.RecordsCount);
            pos += keyless.TotalSize;
            RecordBatchHeader.TryRead(span[pos..], out var ctrl);
            Assert.True(ctrl.IsControl);
            Assert.Equal(1, ctrl.RecordsCount);
        }
        var records = Keyed.ReadRecords(log, skipUndecodable: true);
        Assert.Contains(new KeyedRecord(2, null, "no-key-1"), records);
        Assert.DoesNotContain(records, r => r.Value == "old");
    }

    [Fact]
    public void Reading_from_a_removed_offset_returns_the_batch_with_the_next_kept_record()
    {
        var log = Open(Compacted);
        log.Append(Keyed.Batch(Now - 1000, ("a", "1"), ("b", "1"), ("c", "1"), ("d", "1")), 1);
        log.Append(Keyed.Batch(Now - 1000, ("a", "2"), ("b", "2")), 1); // offsets 4, 5
        for (int i = 0; i < 30; i++) log.Append(Keyed.Batch(Now - 1000, ("filler", new string('f', 40))), 1);
        log.Compact(log.LogEndOffset, Now);

        using var read = log.Read(1, int.MaxValue, long.MaxValue, minOneBatch: false); // offset 1 ("b"=1) was removed
        var records = Keyed.RecordsOf(read.Records.ToArray());
        Assert.Equal(new KeyedRecord(2, "c", "1"), records.First(r => r.Offset >= 1));
        Assert.Equal(new KeyedRecord(3, "d", "1"), records[1]);
        Assert.Equal(new KeyedRecord(4, "a", "2"), records[2]);
    }

    [Fact]
    public void Nothing_happens_without_the_compact_policy_or_before_the_compaction_lag()
    {
        var plain = FillRounds(rounds: 40, keys: 5, Compacted with { Compact = false });
        long size = plain.SizeInBytes;
        Assert.False(plain.Compact(plain.LogEndOffset, Now).Ran);
        Assert.Equal(size, plain.SizeInBytes);
        plain.Dispose();
        Directory.Delete(LogDir, recursive: true);

        var lagged = FillRounds(rounds: 40, keys: 5, Compacted with { MinCompactionLagMs = 5_000 });
        size = lagged.SizeInBytes;
        Assert.False(lagged.Compact(lagged.LogEndOffset, Now).Ran); // records are 1 s old
        Assert.Equal(size, lagged.SizeInBytes);
        Assert.True(lagged.Compact(lagged.LogEndOffset, Now + 4_001).SegmentsRewritten > 0);
    }

    [Fact]
    public void Dirty_ratio_counts_cleanable_bytes_not_yet_cleaned()
    {
        var log = FillRounds(rounds: 40, keys: 5);
        Assert.Equal(1.0, log.CleanableDirtyRatio(log.LogEndOffset, Now));
        Assert.Equal(0.0, log.CleanableDirtyRatio(0, Now)); // nothing below the bound
        log.Compact(log.LogEndOffset, Now);
        Assert.Equal(0.0, log.CleanableDirtyRatio(log.LogEndOffset, Now));

        for (int round = 0; round < 40; round++)
            log.Append(Keyed.Batch(Now - 1000, Enumerable.Range(0, 5).Select(k => ((string?)$"k{k}", (string?)"again")).ToArray()), 3);
        double ratio = log.CleanableDirtyRatio(log.LogEndOffset, Now);
        Assert.InRange(ratio, 0.5, 0.999);
        log.Compact(log.LogEndOffset, Now);
        Assert.Equal(0.0, log.CleanableDirtyRatio(log.LogEndOffset, Now));
        Assert.All(Keyed.ReadRecords(log).GroupBy(r => r.Key), g => Assert.Equal("again", g.Last().Value));
    }
}

using Broker.Core.Records;

namespace Broker.Storage.Tests;

public class RecoveryTests : LogTestBase
{
    private static readonly LogOptions Small = new() { SegmentBytes = 4096, IndexIntervalBytes = 200 };

    /// <summary>Appends <paramref name="count"/> 2-record batches, closes cleanly, returns their stored bytes.</summary>
    private List<byte[]> WriteAndClose(int count, LogOptions? options = null)
    {
        var log = Open(options ?? Small);
        var stored = new List<byte[]>();
        for (int i = 0; i < count; i++)
        {
            var b = BatchBuilder.Build(2, baseTimestamp: 100_000 + i * 1_000, valueSize: 30 + i % 7);
            var info = log.Append(b, 5);
            stored.Add(BatchBuilder.Stored(b, info.FirstOffset, 5));
        }
        log.Dispose();
        return stored;
    }

    private string LastLogFile() => Directory.GetFiles(LogDir, "*.log").Max()!;

    [Fact]
    public void Torn_tail_drops_only_the_last_batch_and_appends_continue_at_its_offset()
    {
        var stored = WriteAndClose(5);
        string file = LastLogFile();
        using (var fs = new FileStream(file, FileMode.Open))
            fs.SetLength(fs.Length - stored[^1].Length / 2);

        var log = Open(Small);
        Assert.Equal(8, log.LogEndOffset);
        Assert.Equal(BatchBuilder.Concat(stored.Take(4).ToArray()), ReadAll(log, 0));
        Assert.Equal(8, log.Append(BatchBuilder.Build(1), 6).FirstOffset);
        log.Dispose();
        Assert.Equal(stored.Take(4).Sum(b => b.Length), new FileInfo(file).Length);
        long total = Directory.GetFiles(LogDir, "*.log").Sum(f => new FileInfo(f).Length);
        Assert.Equal(stored.Take(4).Sum(b => b.Length) + BatchBuilder.Build(1).Length, total);
    }

    [Fact]
    public void Crc_corruption_in_the_last_batch_truncates_there()
    {
        var stored = WriteAndClose(4);
        string file = LastLogFile();
        byte[] bytes = File.ReadAllBytes(file);
        bytes[^3] ^= 0xFF; // inside the last batch's records
        File.WriteAllBytes(file, bytes);

        var log = Open(Small);
        Assert.Equal(6, log.LogEndOffset);
        Assert.Equal(BatchBuilder.Concat(stored.Take(3).ToArray()), ReadAll(log, 0));
        Assert.Equal(bytes.Length - stored[^1].Length, new FileInfo(file).Length);
    }

    [Fact]
    public void Corruption_in_a_middle_batch_of_the_active_segment_drops_it_and_everything_after()
    {
        var stored = WriteAndClose(6);
        string file = LastLogFile();
        byte[] bytes = File.ReadAllBytes(file);
        int third = stored[0].Length + stored[1].Length;
        bytes[third + RecordBatchHeader.AttributesOffset + 40] ^= 0x01;
        File.WriteAllBytes(file, bytes);

        var log = Open(Small);
        Assert.Equal(4, log.LogEndOffset);
        Assert.Equal(BatchBuilder.Concat(stored.Take(2).ToArray()), ReadAll(log, 0));
    }

    [Fact]
    public void Zero_filled_tail_is_cut()
    {
        var stored = WriteAndClose(3);
        string file = LastLogFile();
        using (var fs = new FileStream(file, FileMode.Open))
            fs.SetLength(fs.Length + 100_000);

        var log = Open(Small);
        Assert.Equal(6, log.LogEndOffset);
        Assert.Equal(BatchBuilder.Concat(stored.ToArray()), ReadAll(log, 0));
        Assert.Equal(stored.Sum(b => b.Length), new FileInfo(file).Length);
    }

    [Fact]
    public void Entirely_empty_or_garbage_active_segment_becomes_an_empty_log_at_its_base()
    {
        Directory.CreateDirectory(LogDir);
        File.WriteAllBytes(SegmentPath(500, ".log"), new byte[4096]);
        var log = Open(Small);
        Assert.Equal(500, log.LogStartOffset);
        Assert.Equal(500, log.LogEndOffset);
        Assert.Equal(500, log.Append(BatchBuilder.Build(2), 0).FirstOffset);
        Assert.Equal(502, log.LogEndOffset);
    }

    [Fact]
    public void Empty_sealed_segment_files_are_removed()
    {
        var stored = WriteAndClose(120);
        var log = Open(Small);
        var bases = log.SegmentBaseOffsets();
        Assert.True(bases.Count >= 3);
        log.Dispose();
        // An empty file between two segments, named after an offset inside the first one's range.
        File.WriteAllBytes(SegmentPath(bases[0] + 1, ".log"), []);

        var reopened = Open(Small);
        Assert.Equal(bases, reopened.SegmentBaseOffsets());
        Assert.False(File.Exists(SegmentPath(bases[0] + 1, ".log")));
        Assert.Equal(BatchBuilder.Concat(stored.ToArray()), ReadAll(reopened, 0));
    }

    [Fact]
    public void Deleted_index_files_are_rebuilt_and_lookups_stay_right()
    {
        var stored = WriteAndClose(60);
        var probe = Open(Small);
        var bases = probe.SegmentBaseOffsets();
        long maxTsOffset = probe.FindMaxTimestamp()!.Value.Offset;
        var sizes = bases.Select(b => new FileInfo(SegmentPath(b, ".index")).Length).ToArray();
        probe.Dispose();
        Assert.True(bases.Count >= 3);
        Assert.Contains(sizes, s => s > 0);

        foreach (long b in bases)
        {
            File.Delete(SegmentPath(b, ".index"));
            File.Delete(SegmentPath(b, ".timeindex"));
        }

        var log = Open(Small);
        foreach (long b in bases)
        {
            Assert.True(File.Exists(SegmentPath(b, ".index")));
            Assert.True(File.Exists(SegmentPath(b, ".timeindex")));
        }
        Assert.Equal(sizes, bases.Select(b => new FileInfo(SegmentPath(b, ".index")).Length).ToArray());
        Assert.Equal(BatchBuilder.Concat(stored.ToArray()), ReadAll(log, 0));
        AssertEveryOffsetReadable(log);
        Assert.Equal(maxTsOffset, log.FindMaxTimestamp()!.Value.Offset);
        Assert.Equal(60, log.FindOffsetByTimestamp(130_000)!.Value.Offset); // batch 30 holds offsets 60-61
    }

    [Fact]
    public void Garbage_index_is_detected_and_rebuilt()
    {
        var stored = WriteAndClose(60);
        var bases = Directory.GetFiles(LogDir, "*.log").Select(f => long.Parse(Path.GetFileNameWithoutExtension(f))).Order().ToList();
        long sealedBase = bases[0];
        long originalLength = new FileInfo(SegmentPath(sealedBase, ".index")).Length;
        Assert.True(originalLength >= 16);

        // Entries that go backwards and point past the end of the segment.
        var garbage = new byte[originalLength];
        new Random(42).NextBytes(garbage);
        File.WriteAllBytes(SegmentPath(sealedBase, ".index"), garbage);
        // A time index of the wrong length.
        File.WriteAllBytes(SegmentPath(bases[1], ".timeindex"), new byte[13]);

        var log = Open(Small);
        Assert.Equal(originalLength, new FileInfo(SegmentPath(sealedBase, ".index")).Length);
        Assert.NotEqual(garbage, File.ReadAllBytes(SegmentPath(sealedBase, ".index")));
        Assert.Equal(0, new FileInfo(SegmentPath(bases[1], ".timeindex")).Length % 12);
        Assert.Equal(BatchBuilder.Concat(stored.ToArray()), ReadAll(log, 0));
        AssertEveryOffsetReadable(log);
    }

    [Fact]
    public void An_index_entry_pointing_at_the_wrong_batch_is_caught()
    {
        var stored = WriteAndClose(60);
        long sealedBase = 0;
        string index = SegmentPath(sealedBase, ".index");
        byte[] bytes = File.ReadAllBytes(index);
        Assert.True(bytes.Length >= 16);
        // Shift the last entry's position by a few bytes: still monotonic and inside the file, but not a batch start.
        bytes[^1] += 3;
        File.WriteAllBytes(index, bytes);

        var log = Open(Small);
        Assert.NotEqual(bytes, File.ReadAllBytes(index));
        Assert.Equal(BatchBuilder.Concat(stored.ToArray()), ReadAll(log, 0));
        AssertEveryOffsetReadable(log);
    }

    [Fact]
    public void Preallocated_zero_padding_after_index_entries_is_ignored()
    {
        var stored = WriteAndClose(60);
        string index = SegmentPath(0, ".index");
        string timeIndex = SegmentPath(0, ".timeindex");
        byte[] entries = File.ReadAllBytes(index);
        byte[] timeEntries = File.ReadAllBytes(timeIndex);
        File.WriteAllBytes(index, entries.Concat(new byte[8 * 100]).ToArray());
        File.WriteAllBytes(timeIndex, timeEntries.Concat(new byte[12 * 100]).ToArray());

        var log = Open(Small);
        // Trusted as is (not rebuilt): the padding is still there.
        Assert.Equal(entries.Length + 800, new FileInfo(index).Length);
        Assert.Equal(BatchBuilder.Concat(stored.ToArray()), ReadAll(log, 0));
        AssertEveryOffsetReadable(log);
        Assert.Equal(stored.Count * 2, log.LogEndOffset);
    }

    [Fact]
    public void Stray_temporary_and_orphan_index_files_are_removed()
    {
        WriteAndClose(3);
        File.WriteAllBytes(Path.Combine(LogDir, "00000000000000000000.index.tmp"), [1, 2, 3]);
        File.WriteAllBytes(SegmentPath(999, ".index"), new byte[8]);
        File.WriteAllBytes(SegmentPath(999, ".timeindex"), new byte[12]);

        var log = Open(Small);
        Assert.Equal(6, log.LogEndOffset);
        Assert.False(File.Exists(Path.Combine(LogDir, "00000000000000000000.index.tmp")));
        Assert.False(File.Exists(SegmentPath(999, ".index")));
        Assert.False(File.Exists(SegmentPath(999, ".timeindex")));
    }

    [Fact]
    public void Zero_timestamps_survive_a_reopen_across_sealed_segments()
    {
        var log = Open(Small);
        for (int i = 0; i < 80; i++) log.Append(BatchBuilder.Build(2, baseTimestamp: 0, timestampStep: 0), 0);
        Assert.True(log.SegmentCount >= 2);
        log.Dispose();

        var reopened = Open(Small);
        Assert.Equal((0L, 0L), reopened.FindOffsetByTimestamp(0));
        Assert.Equal((0L, 0L), reopened.FindMaxTimestamp());
        Assert.Null(reopened.FindOffsetByTimestamp(1));
    }

    private static void AssertEveryOffsetReadable(PartitionLog log)
    {
        for (long o = log.LogStartOffset; o < log.LogEndOffset; o++)
        {
            using var r = log.Read(o, 1, long.MaxValue, true);
            var h = Assert.Single(BatchBuilder.ParseValid(r.Records.Span));
            Assert.InRange(o, h.BaseOffset, h.LastOffset);
        }
    }
}

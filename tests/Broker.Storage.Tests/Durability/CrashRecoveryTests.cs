using Broker.Core.Records;

namespace Broker.Storage.Tests.Durability;

/// <summary>
/// Recovery from what a kill -9 (or a power loss) leaves on disk. The crash is simulated by copying the files of a
/// log that is still open (never closed, so the active segment keeps its sparse preallocated tail, its indexes are
/// not cut and no producer snapshot is written) and opening the copy, after damaging its tail the way a torn or
/// lost write would. Every reopened log must end at the last intact batch, serve only batches whose CRC checks, and
/// take new appends right after it.
/// </summary>
public class CrashRecoveryTests : LogTestBase, IDisposable
{
    private static readonly LogOptions Options = new() { IndexIntervalBytes = 256 };
    private readonly List<PartitionLog> _opened = new();

    /// <summary>Appends <paramref name="count"/> batches of 3 records to a live log; returns it and their stored bytes.</summary>
    private (PartitionLog Log, List<byte[]> Stored) Produce(int count, LogOptions? options = null)
    {
        var log = Open(options ?? Options);
        var stored = new List<byte[]>();
        for (int i = 0; i < count; i++)
        {
            var batch = BatchBuilder.Build(3, baseTimestamp: 50_000 + i * 10, valueSize: 20 + i % 11, fill: (byte)(0x30 + i % 40));
            var info = log.Append(batch, 4);
            stored.Add(BatchBuilder.Stored(batch, info.FirstOffset, 4));
        }
        return (log, stored);
    }

    /// <summary>The files of the (still open) log as a kill -9 leaves them: the page cache is the file content.</summary>
    private string CrashCopy()
    {
        string target = Path.Combine(Temp.Sub("after-crash-" + Guid.NewGuid().ToString("N")[..8]), "orders-eu-3");
        Directory.CreateDirectory(target);
        foreach (string file in Directory.GetFiles(LogDir)) File.Copy(file, Path.Combine(target, Path.GetFileName(file)));
        return target;
    }

    private PartitionLog Reopen(string directory, LogOptions? options = null)
    {
        var log = PartitionLog.Open(directory, Tp, options ?? Options, Clock);
        _opened.Add(log);
        return log;
    }

    private static string ActiveLogFile(string directory) => Directory.GetFiles(directory, "*.log").Max()!;

    private static string FileIn(string directory, long baseOffset, string suffix) =>
        Path.Combine(directory, baseOffset.ToString("D20") + suffix);

    private static long DataLength(IEnumerable<byte[]> batches) => batches.Sum(b => (long)b.Length);

    /// <summary>The reopened log holds exactly <paramref name="expected"/> (every batch CRC-checked by ReadAll) and
    /// appends continue right after them.</summary>
    private static void AssertRecoveredTo(PartitionLog log, IReadOnlyList<byte[]> expected)
    {
        long end = expected.Count == 0 ? 0 : BatchBuilder.ParseValid(expected[^1])[0].LastOffset + 1;
        Assert.Equal(end, log.LogEndOffset);
        Assert.Equal(BatchBuilder.Concat(expected.ToArray()), ReadAll(log, 0));
        Assert.Equal(end, log.Append(BatchBuilder.Build(2), 5).FirstOffset);
        Assert.Equal(end + 2, log.LogEndOffset);
        BatchBuilder.ParseValid(ReadAll(log, 0));
    }

    [Fact]
    public void Crash_with_a_preallocated_zero_tail_keeps_every_batch_and_cuts_the_zeros()
    {
        var (_, stored) = Produce(20);
        string dir = CrashCopy();
        string file = ActiveLogFile(dir);
        Assert.True(new FileInfo(file).Length > DataLength(stored), "the active file should be preallocated past its data");

        var log = Reopen(dir);
        Assert.Equal(DataLength(stored), new FileInfo(file).Length);
        AssertRecoveredTo(log, stored);
    }

    [Fact]
    public void Torn_last_batch_with_its_second_half_never_written_is_dropped()
    {
        var (_, stored) = Produce(12);
        string dir = CrashCopy();
        string file = ActiveLogFile(dir);
        long lastStart = DataLength(stored.Take(11));
        int half = stored[^1].Length / 2;
        using (var fs = new FileStream(file, FileMode.Open, FileAccess.Write))
        {
            fs.Position = lastStart + half;
            fs.Write(new byte[stored[^1].Length - half]); // the page with the second half never reached the disk
        }

        AssertRecoveredTo(Reopen(dir), stored.Take(11).ToList());
    }

    [Fact]
    public void File_cut_in_the_middle_of_the_last_batch_is_dropped()
    {
        var (_, stored) = Produce(9);
        string dir = CrashCopy();
        string file = ActiveLogFile(dir);
        using (var fs = new FileStream(file, FileMode.Open, FileAccess.Write))
            fs.SetLength(DataLength(stored) - stored[^1].Length + RecordBatchHeader.Size + 3);

        AssertRecoveredTo(Reopen(dir), stored.Take(8).ToList());
    }

    [Fact]
    public void Bit_flip_in_the_last_batch_drops_it()
    {
        var (_, stored) = Produce(10);
        string dir = CrashCopy();
        string file = ActiveLogFile(dir);
        long position = DataLength(stored) - 5; // inside the last record's value
        using (var fs = new FileStream(file, FileMode.Open, FileAccess.ReadWrite))
        {
            fs.Position = position;
            int b = fs.ReadByte();
            fs.Position = position;
            fs.WriteByte((byte)(b ^ 0x10));
        }

        AssertRecoveredTo(Reopen(dir), stored.Take(9).ToList());
    }

    [Fact]
    public void Garbage_after_the_last_batch_is_cut()
    {
        var (_, stored) = Produce(7);
        string dir = CrashCopy();
        string file = ActiveLogFile(dir);
        var garbage = new byte[5_000];
        new Random(42).NextBytes(garbage);
        using (var fs = new FileStream(file, FileMode.Open, FileAccess.Write))
        {
            fs.Position = DataLength(stored);
            fs.Write(garbage);
        }

        AssertRecoveredTo(Reopen(dir), stored);
    }

    [Fact]
    public void A_plausible_batch_with_a_bad_crc_after_the_end_is_cut()
    {
        var (_, stored) = Produce(6);
        string dir = CrashCopy();
        string file = ActiveLogFile(dir);
        // A well-framed batch at the next offset whose body is not what its CRC covers (a half-applied write).
        var fake = BatchBuilder.Stored(BatchBuilder.Build(3, valueSize: 30), 18, 4);
        fake[^2] ^= 0x55;
        using (var fs = new FileStream(file, FileMode.Open, FileAccess.Write))
        {
            fs.Position = DataLength(stored);
            fs.Write(fake);
        }

        AssertRecoveredTo(Reopen(dir), stored);
    }

    [Fact]
    public void A_stale_copy_of_an_earlier_batch_after_the_end_is_cut()
    {
        var (_, stored) = Produce(6);
        string dir = CrashCopy();
        string file = ActiveLogFile(dir);
        using (var fs = new FileStream(file, FileMode.Open, FileAccess.Write))
        {
            fs.Position = DataLength(stored);
            fs.Write(stored[2]); // valid CRC, but its offsets go backwards
        }

        AssertRecoveredTo(Reopen(dir), stored);
    }

    [Fact]
    public void Entirely_zeroed_active_segment_recovers_to_the_sealed_ones()
    {
        var options = new LogOptions { SegmentBytes = 1_000, IndexIntervalBytes = 256 };
        var (log, stored) = Produce(15, options);
        Assert.True(log.SegmentCount >= 3);
        long activeBase = log.SegmentBaseOffsets()[^1];
        string dir = CrashCopy();
        string file = ActiveLogFile(dir);
        long length = new FileInfo(file).Length;
        using (var fs = new FileStream(file, FileMode.Open, FileAccess.Write))
            fs.Write(new byte[length]); // nothing of the active segment reached the disk

        var keep = stored.Where(b => BatchBuilder.ParseValid(b)[0].BaseOffset < activeBase).ToList();
        AssertRecoveredTo(Reopen(dir, options), keep);
    }

    [Fact]
    public void Torn_tail_in_the_active_segment_leaves_sealed_segments_whole()
    {
        var options = new LogOptions { SegmentBytes = 1_000, IndexIntervalBytes = 256 };
        var (log, stored) = Produce(20, options);
        Assert.True(log.SegmentCount >= 3);
        string dir = CrashCopy();
        string file = ActiveLogFile(dir);
        long activeBase = log.SegmentBaseOffsets()[^1];
        var active = stored.Where(b => BatchBuilder.ParseValid(b)[0].BaseOffset >= activeBase).ToList();
        Assert.NotEmpty(active);
        long lastStart = DataLength(active.Take(active.Count - 1));
        using (var fs = new FileStream(file, FileMode.Open, FileAccess.Write))
        {
            fs.Position = lastStart + RecordBatchHeader.Size;
            fs.Write(new byte[10]);
        }

        AssertRecoveredTo(Reopen(dir, options), stored.Take(stored.Count - 1).ToList());
    }

    [Fact]
    public void A_corrupt_batch_in_a_sealed_segment_with_lost_indexes_ends_the_log_there()
    {
        // As Kafka's recovery does: a segment cut at open ends the log; the segments after it are dropped (a
        // replica refills them from its leader) rather than served behind a hole.
        var options = new LogOptions { SegmentBytes = 1_000, IndexIntervalBytes = 256 };
        var (log, stored) = Produce(20, options);
        var bases = log.SegmentBaseOffsets();
        Assert.True(bases.Count >= 3);
        long sealedBase = bases[0], nextBase = bases[1];
        string dir = CrashCopy();
        var sealedBatches = stored.Where(b => BatchBuilder.ParseValid(b)[0].BaseOffset < nextBase).ToList();
        Assert.True(sealedBatches.Count >= 3);
        // Damage the second batch of the first (sealed) segment and lose its indexes (as a crash before its
        // deferred sync would).
        string sealedFile = FileIn(dir, sealedBase, ".log");
        long at = sealedBatches[0].Length + sealedBatches[1].Length - 4;
        var bytes = File.ReadAllBytes(sealedFile);
        bytes[at] ^= 0x01;
        File.WriteAllBytes(sealedFile, bytes);
        File.Delete(FileIn(dir, sealedBase, ".index"));
        File.Delete(FileIn(dir, sealedBase, ".timeindex"));

        var reopened = Reopen(dir, options);
        long firstLost = BatchBuilder.ParseValid(sealedBatches[1])[0].BaseOffset;
        Assert.Equal(sealedBatches[0].Length, new FileInfo(sealedFile).Length);
        Assert.Equal(firstLost, reopened.LogEndOffset);
        Assert.Equal(sealedBatches[0], ReadAll(reopened, 0));
        Assert.Equal([Path.GetFileName(sealedFile)], Directory.GetFiles(dir, "*.log").Select(Path.GetFileName));
        Assert.Equal(firstLost, reopened.Append(BatchBuilder.Build(1), 5).FirstOffset);
    }

    [Fact]
    public void Repeated_crashes_with_appends_in_between_never_lose_a_batch_that_was_written_before_the_crash()
    {
        var options = new LogOptions { SegmentBytes = 2_000, IndexIntervalBytes = 256 };
        var (log, stored) = Produce(5, options);
        string dir = LogDir;
        var random = new Random(7);
        for (int round = 0; round < 4; round++)
        {
            // Crash: copy the live files, then tear a random number of bytes of one extra, partly written batch.
            var extra = BatchBuilder.Build(3, valueSize: 25);
            string copy = Path.Combine(Temp.Sub($"round{round}"), "orders-eu-3");
            Directory.CreateDirectory(copy);
            foreach (string file in Directory.GetFiles(dir)) File.Copy(file, Path.Combine(copy, Path.GetFileName(file)));
            long end = DataLength(stored.Where(b => BatchBuilder.ParseValid(b)[0].BaseOffset >= log.SegmentBaseOffsets()[^1]));
            var torn = BatchBuilder.Stored(extra, log.LogEndOffset, 4).AsSpan(0, random.Next(1, extra.Length - 1)).ToArray();
            using (var fs = new FileStream(ActiveLogFile(copy), FileMode.Open, FileAccess.Write))
            {
                fs.Position = end;
                fs.Write(torn);
            }

            log = Reopen(copy, options);
            Assert.Equal(BatchBuilder.Concat(stored.ToArray()), ReadAll(log, 0));
            for (int i = 0; i < 4; i++)
            {
                var batch = BatchBuilder.Build(2, valueSize: 15 + round);
                stored.Add(BatchBuilder.Stored(batch, log.Append(batch, 4).FirstOffset, 4));
            }
            dir = copy;
        }
        Assert.Equal(BatchBuilder.Concat(stored.ToArray()), ReadAll(log, 0));
    }

    void IDisposable.Dispose()
    {
        foreach (var log in _opened) log.Dispose();
        Dispose();
    }
}

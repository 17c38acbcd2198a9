using Broker.Core.Model;
using Broker.Core.Records;

namespace Broker.Storage.Tests.Scale;

/// <summary>
/// A log on a small tmpfs that fills up (real ENOSPC from the kernel): the failing append throws an
/// <see cref="IOException"/> and leaves the log exactly at its last whole batch (end offset, size, file length, index
/// lookups), reads go on, appends succeed again once space is freed, and a reopened log holds every acknowledged
/// batch with valid CRCs and nothing else. Needs root for the mount (CI runs as root).
/// </summary>
public sealed class DiskFullAppendTests
{
    private static readonly TopicPartition Tp = new("full", 0);
    private readonly FakeClock _clock = new();

    [Theory]
    [InlineData(48 * 1024)]  // small appends: copied and written with one pwrite
    [InlineData(300 * 1024)] // large appends: header and body written in place
    public void A_full_disk_fails_the_append_cleanly_and_appends_resume_when_space_is_back(int batchBytes)
    {
        using var fs = TmpfsMount.Create(2L << 20);
        string dir = Path.Combine(fs.Path, "full-0");
        var options = new LogOptions { IndexIntervalBytes = 4096 };
        var acked = new List<(long Offset, byte[] Batch)>();
        var batches = new Queue<byte[]>(Enumerable.Range(0, 64).Select(i => BatchBuilder.Build(4, valueSize: batchBytes / 4, fill: (byte)(0x41 + i % 26))));

        using (var log = PartitionLog.Open(dir, Tp, options, _clock))
        {
            IOException? failure = null;
            while (failure == null)
            {
                Assert.True(batches.Count > 0, "the 2 MiB file system never filled up");
                var batch = batches.Peek();
                try
                {
                    acked.Add((log.Append(batch, 5).FirstOffset, batch));
                    batches.Dequeue();
                }
                catch (IOException ex)
                {
                    failure = ex;
                }
            }
            Assert.True(acked.Count >= 2, $"only {acked.Count} batches fit before: {failure.Message}");
            long end = log.LogEndOffset;
            long size = log.SizeInBytes;
            string segmentFile = Path.Combine(dir, 0L.ToString("D20") + ".log");

            // Nothing of the failed batch is visible or left in the file; a retry fails the same way.
            AssertExactly(log, acked, 5);
            Assert.Equal(size, new FileInfo(segmentFile).Length);
            Assert.Throws<IOException>(() => log.Append(batches.Peek(), 5));
            Assert.Equal(end, log.LogEndOffset);
            Assert.Equal(size, log.SizeInBytes);
            AssertExactly(log, acked, 5);

            // Space comes back: the next append takes the next offset and every batch stays reachable by offset.
            fs.Resize(8L << 20);
            for (int i = 0; i < 3; i++)
            {
                var batch = batches.Dequeue();
                var info = log.Append(batch, 5);
                Assert.Equal(acked[^1].Offset + 4, info.FirstOffset);
                acked.Add((info.FirstOffset, batch));
            }
            AssertExactly(log, acked, 5);
        }

        using var reopened = PartitionLog.Open(dir, Tp, options, _clock);
        AssertExactly(reopened, acked, 5);
    }

    [Fact]
    public void A_log_that_cannot_roll_on_a_full_disk_keeps_serving_and_rolls_later()
    {
        using var fs = TmpfsMount.Create(1L << 20);
        string dir = Path.Combine(fs.Path, "full-0");
        // Small segments: rolls (seal + index files + a new segment file) happen while the disk fills.
        var options = new LogOptions { SegmentBytes = 64 * 1024 };
        var acked = new List<(long Offset, byte[] Batch)>();
        using var log = PartitionLog.Open(dir, Tp, options, _clock);
        int failures = 0;
        for (int i = 0; i < 200 && failures < 3; i++)
        {
            var batch = BatchBuilder.Build(4, valueSize: 5000, fill: (byte)(0x41 + i % 26));
            try
            {
                acked.Add((log.Append(batch, 2).FirstOffset, batch));
            }
            catch (IOException)
            {
                failures++;
            }
        }
        Assert.Equal(3, failures);
        AssertExactly(log, acked, 2);

        fs.Resize(4L << 20);
        var more = BatchBuilder.Build(4, valueSize: 5000);
        acked.Add((log.Append(more, 2).FirstOffset, more));
        AssertExactly(log, acked, 2);
        log.Dispose();
        using var reopened = PartitionLog.Open(dir, Tp, options, _clock);
        AssertExactly(reopened, acked, 2);
    }

    /// <summary>The log holds exactly <paramref name="acked"/> (stored form, dense offsets), each batch valid and
    /// found by a read at its own offset.</summary>
    private static void AssertExactly(IPartitionLog log, List<(long Offset, byte[] Batch)> acked, int epoch)
    {
        long expectedEnd = acked.Count == 0 ? 0 : acked[^1].Offset + 4;
        Assert.Equal(expectedEnd, log.LogEndOffset);
        var all = LogTestBase.ReadAll(log, 0);
        var headers = BatchBuilder.ParseValid(all);
        Assert.Equal(acked.Count, headers.Count);
        Assert.Equal(BatchBuilder.Concat(acked.Select(a => BatchBuilder.Stored(a.Batch, a.Offset, epoch)).ToArray()), all);
        foreach (var (offset, _) in acked)
        {
            using var read = log.Read(offset + 1, 1, long.MaxValue, minOneBatch: true);
            Assert.True(RecordBatchHeader.TryRead(read.Records.Span, out var h));
            Assert.Equal(offset, h.BaseOffset);
        }
    }
}

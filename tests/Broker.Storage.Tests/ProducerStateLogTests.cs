using Broker.Core.Model;
using Broker.Storage.Producers;

namespace Broker.Storage.Tests;

/// <summary>
/// Producer state kept by a real partition log: updated by every append, answered by CheckProducerState, snapshotted
/// at close and roll, rebuilt at open (with and without a usable snapshot), after truncation and reset, and expired.
/// </summary>
public sealed class ProducerStateLogTests : LogTestBase
{
    private static readonly LogOptions Small = new() { SegmentBytes = 1024, IndexIntervalBytes = 100 };

    private string SnapshotFile => ProducerStateSnapshot.PathIn(LogDir);

    /// <summary>Appends <paramref name="count"/> in-sequence batches of 2 records for <paramref name="producerId"/>.</summary>
    private static void AppendSequence(PartitionLog log, long producerId, short epoch, int firstSeq, int count)
    {
        for (int i = 0; i < count; i++)
        {
            var batch = IdempotentBatch.Build(producerId, epoch, firstSeq + i * 2, count: 2);
            Assert.True(log.CheckProducerState(batch).IsAccepted, $"batch {i} of producer {producerId}");
            log.Append(batch, 1);
        }
    }

    private static string Describe(ProducerInfo? p) =>
        p is null ? "none" : $"{p.ProducerId}/{p.Epoch}/{p.LastTimestamp}:" + string.Join(",", p.Batches);

    [Fact]
    public void AppendsUpdateStateAndDuplicatesReturnTheStoredOffsets()
    {
        var log = Open();
        log.Append(BatchBuilder.Build(3), 1); // offsets 0-2, no producer
        var first = IdempotentBatch.Build(42, 0, 0, count: 4);
        Assert.True(log.CheckProducerState(first).IsAccepted);
        log.Append(first, 1, logAppendTimeMs: 1_700_000_123_456); // offsets 3-6
        var p = log.GetProducer(42)!;
        Assert.Equal(new ProducerBatch(0, 3, 3, 6, 1_700_000_123_456), Assert.Single(p.Batches));
        Assert.Equal(1_700_000_123_456, p.LastTimestamp);

        var dup = log.CheckProducerState(first);
        Assert.True(dup.IsDuplicate);
        Assert.Equal(3, dup.Original.FirstOffset);
        Assert.Equal(6, dup.Original.LastOffset);
        Assert.Equal(ErrorCode.OutOfOrderSequenceNumber, log.CheckProducerState(IdempotentBatch.Build(42, 0, 5)).Error);
        Assert.Equal(ErrorCode.InvalidProducerEpoch, log.CheckProducerState(IdempotentBatch.Build(42, -1, 4)).Error);
        Assert.Equal(1, log.ProducerCount);
    }

    [Fact]
    public void CleanCloseWritesASnapshotAndReopenRestoresTheSameState()
    {
        var log = Open(Small);
        AppendSequence(log, 1, 0, 0, 12);
        AppendSequence(log, 2, 3, 100, 3);
        string before1 = Describe(log.GetProducer(1)), before2 = Describe(log.GetProducer(2));
        long end = log.LogEndOffset;
        log.Dispose();
        Assert.True(File.Exists(SnapshotFile));
        var probe = new ProducerStateTable();
        Assert.Equal(end, ProducerStateSnapshot.Read(SnapshotFile, probe));
        Assert.Equal(2, probe.Count);

        var reopened = Open(Small);
        Assert.Equal(before1, Describe(reopened.GetProducer(1)));
        Assert.Equal(before2, Describe(reopened.GetProducer(2)));
        Assert.True(reopened.CheckProducerState(IdempotentBatch.Build(1, 0, 22, count: 2)).IsDuplicate);
        Assert.True(reopened.CheckProducerState(IdempotentBatch.Build(1, 0, 24)).IsAccepted);
        Assert.Equal(ErrorCode.OutOfOrderSequenceNumber, reopened.CheckProducerState(IdempotentBatch.Build(2, 3, 107)).Error);
    }

    [Fact]
    public void WithoutASnapshotReopenRebuildsTheSameStateFromBatchHeaders()
    {
        var log = Open(Small);
        AppendSequence(log, 1, 0, 0, 12);
        AppendSequence(log, 2, 3, 100, 3);
        AppendSequence(log, 1, 1, 0, 2); // epoch bump
        string before1 = Describe(log.GetProducer(1)), before2 = Describe(log.GetProducer(2));
        log.Dispose();
        File.Delete(SnapshotFile);

        var reopened = Open(Small);
        Assert.Equal(before1, Describe(reopened.GetProducer(1)));
        Assert.Equal(before2, Describe(reopened.GetProducer(2)));
        Assert.Equal(1, reopened.GetProducer(1)!.Epoch);
        Assert.Equal(ErrorCode.InvalidProducerEpoch, reopened.CheckProducerState(IdempotentBatch.Build(1, 0, 24)).Error);
    }

    [Fact]
    public void SnapshotKeepsProducersWhoseBatchesRetentionRemoved_ACorruptOneIsIgnored()
    {
        var options = Small with { RetentionBytes = 1 };
        var log = Open(options);
        AppendSequence(log, 7, 0, 0, 3);               // producer 7 only in the oldest segments
        for (int i = 0; i < 30; i++) log.Append(BatchBuilder.Build(2, valueSize: 60), 1);
        Assert.True(log.ApplyRetention(Clock.Now) > 0);
        Assert.True(log.LogStartOffset > 6, $"retention left the log at {log.LogStartOffset}");
        Assert.NotNull(log.GetProducer(7));            // state outlives retention (KIP-360)
        log.Dispose();

        var reopened = Open(options);
        Assert.NotNull(reopened.GetProducer(7));       // only the snapshot knew it
        Assert.True(reopened.CheckProducerState(IdempotentBatch.Build(7, 0, 4, count: 2)).IsDuplicate);
        reopened.Dispose();

        byte[] bytes = File.ReadAllBytes(SnapshotFile);
        bytes[^5] ^= 0x5A;
        File.WriteAllBytes(SnapshotFile, bytes);
        var third = Open(options);
        Assert.Null(third.GetProducer(7));             // the damaged snapshot was ignored; the log has no trace of 7
        Assert.True(third.CheckProducerState(IdempotentBatch.Build(7, 0, 4, count: 2)).IsAccepted);
    }

    [Fact]
    public void TruncatedOrGarbageSnapshotFilesAreIgnored()
    {
        var log = Open(Small);
        AppendSequence(log, 3, 0, 0, 4);
        log.Dispose();
        byte[] good = File.ReadAllBytes(SnapshotFile);
        foreach (byte[] bad in new[] { good[..(good.Length - 7)], new byte[3], "not a snapshot at all, just text"u8.ToArray() })
        {
            File.WriteAllBytes(SnapshotFile, bad);
            var reopened = Open(Small);
            Assert.Equal(7, reopened.GetProducer(3)!.Batches[^1].LastSequence); // rebuilt from the log instead
            reopened.Dispose();
        }
    }

    [Fact]
    public void ASnapshotNewerThanTheLogIsIgnored()
    {
        var log = Open(Small);
        AppendSequence(log, 4, 0, 0, 10); // offsets 0..19
        log.Dispose();
        byte[] atTwenty = File.ReadAllBytes(SnapshotFile);

        var shorter = Open(Small);
        shorter.TruncateTo(10);
        shorter.Dispose();
        File.WriteAllBytes(SnapshotFile, atTwenty); // a snapshot from when the log was longer

        var reopened = Open(Small);
        Assert.Equal(10, reopened.LogEndOffset);
        Assert.Equal(9, reopened.GetProducer(4)!.Batches[^1].LastSequence);
        Assert.True(reopened.CheckProducerState(IdempotentBatch.Build(4, 0, 10, count: 2)).IsAccepted);
    }

    [Fact]
    public void TruncationRebuildsStateAndDropsASnapshotPastTheNewEnd()
    {
        var log = Open(Small);
        AppendSequence(log, 5, 0, 0, 10); // batch i at offsets 2i..2i+1, sequences 2i..2i+1
        log.Dispose();
        log = Open(Small);
        Assert.True(File.Exists(SnapshotFile));

        log.TruncateTo(10); // keeps batches 0-4
        Assert.False(File.Exists(SnapshotFile)); // it described offsets that are gone
        var p = log.GetProducer(5)!;
        Assert.Equal(9, p.Batches[^1].LastSequence);
        Assert.Equal(9, p.Batches[^1].LastOffset);
        Assert.True(log.CheckProducerState(IdempotentBatch.Build(5, 0, 8, count: 2)).IsDuplicate);
        Assert.Equal(ErrorCode.OutOfOrderSequenceNumber, log.CheckProducerState(IdempotentBatch.Build(5, 0, 14, count: 2)).Error);
        Assert.True(log.CheckProducerState(IdempotentBatch.Build(5, 0, 10, count: 2)).IsAccepted);

        log.TruncateTo(0);
        Assert.Null(log.GetProducer(5));
        Assert.Equal(0, log.ProducerCount);
    }

    [Fact]
    public void ResetClearsStateAndSnapshot()
    {
        var log = Open(Small);
        AppendSequence(log, 6, 0, 0, 3);
        log.Dispose();
        log = Open(Small);
        Assert.NotNull(log.GetProducer(6));
        log.ResetTo(500);
        Assert.Equal(0, log.ProducerCount);
        Assert.False(File.Exists(SnapshotFile));
        log.Dispose();
        Assert.Equal(0, Open(Small).ProducerCount);
    }

    [Fact]
    public void RollWritesASnapshotSoACrashReplaysOnlyTheActiveSegment()
    {
        var log = Open(Small);
        AppendSequence(log, 9, 0, 0, 1); // only in the first segment
        AppendSequence(log, 8, 0, 0, 50);
        Assert.True(log.SegmentCount > 2);
        long activeBase = log.SegmentBaseOffsets()[^1];
        var probe = new ProducerStateTable();
        Assert.Equal(activeBase, ProducerStateSnapshot.Read(SnapshotFile, probe));
        string expected = Describe(log.GetProducer(8));

        // A crash: copy the directory while the log is open (no close snapshot), open the copy.
        string crashed = Temp.Sub("crashed-copy");
        Directory.CreateDirectory(crashed);
        foreach (string f in Directory.GetFiles(LogDir)) File.Copy(f, Path.Combine(crashed, Path.GetFileName(f)));
        // Without the first segment only the roll snapshot still knows producer 9.
        foreach (string f in Directory.GetFiles(crashed, "00000000000000000000.*")) File.Delete(f);
        using var recovered = PartitionLog.Open(crashed, Tp, Small, Clock);
        Assert.True(recovered.LogStartOffset > 0);
        Assert.Equal(log.LogEndOffset, recovered.LogEndOffset);
        Assert.Equal(expected, Describe(recovered.GetProducer(8)));
        Assert.Equal(Describe(log.GetProducer(9)), Describe(recovered.GetProducer(9)));
    }

    [Fact]
    public void IdleProducersExpireOnRetentionAndAtOpen()
    {
        var options = new LogOptions { ProducerIdExpirationMs = 60_000, RetentionMs = -1 };
        var log = Open(options);
        long now = Clock.Now;
        log.Append(IdempotentBatch.Build(1, 0, 0, timestamp: now - 50_000), 1);
        log.Append(IdempotentBatch.Build(2, 0, 0, timestamp: now - 10_000), 1);
        log.ApplyRetention(now);
        Assert.Equal(2, log.ProducerCount);
        log.ApplyRetention(now + 10_000);
        Assert.Null(log.GetProducer(1));
        Assert.NotNull(log.GetProducer(2));
        // Expired means unknown: any sequence is accepted again.
        Assert.True(log.CheckProducerState(IdempotentBatch.Build(1, 0, 77)).IsAccepted);
        log.Dispose();

        Clock.Now = now + 60_000; // producer 2 is idle for 70 s by now
        var reopened = Open(options);
        Assert.Equal(0, reopened.ProducerCount);
    }

    [Fact]
    public void InvalidExpirationIsRejected()
    {
        Assert.Throws<ArgumentException>(() => Open(new LogOptions { ProducerIdExpirationMs = 0 }));
    }
}

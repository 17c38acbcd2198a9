using Broker.Consensus.Raft;
using Broker.Core.Diagnostics;
using Broker.Core.Records;
using Broker.Raft;
using Broker.Storage;

namespace Broker.Consensus.Tests;

public sealed class StorageAdapterTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "raftadapter-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private (LogManager, IPartitionLog) Open()
    {
        var manager = new LogManager(_dir, SystemClock.Instance);
        return (manager, manager.GetOrCreate(RaftTestCluster.Tp, new LogOptions { SegmentBytes = 160 }));
    }

    [Fact]
    public void Entries_map_to_batches_with_epochs_as_terms()
    {
        var (manager, log) = Open();
        using (manager)
        {
            var raftLog = new PartitionRaftLog(log);
            Assert.Equal(0, raftLog.LogEndOffset);
            raftLog.Append(new RaftEntry(1, 0, 1, ReadOnlyMemory<byte>.Empty)); // leader no-op
            raftLog.Append(new RaftEntry(1, 1, 3, RaftTestCluster.Batch("a", "b", "c")));
            raftLog.Append(new RaftEntry(3, 4, 2, RaftTestCluster.Batch("d", "e")));
            raftLog.Append(new RaftEntry(3, 6, 1, RaftTestCluster.Batch("f")));

            Assert.Equal(7, raftLog.LogEndOffset);
            Assert.Equal(0, raftLog.TermAt(-1));
            Assert.Equal(1, raftLog.TermAt(0));
            Assert.Equal(1, raftLog.TermAt(3));
            Assert.Equal(3, raftLog.TermAt(4));
            Assert.Equal(3, raftLog.TermAt(6));
            Assert.Equal(1, raftLog.EntryStart(2));
            Assert.Equal(4, raftLog.EntryStart(5));
            Assert.Equal([(0L, 1L), (4L, 3L)], raftLog.Epochs);

            var entries = new List<RaftEntry>();
            Assert.Equal(4, raftLog.Read(0, 10, entries));
            Assert.True(PartitionRaftLog.IsLeaderChangeBatch(entries[0].Payload.Span));
            Assert.Equal((1L, 3, 1L), (entries[1].FirstOffset, entries[1].Count, entries[1].Term));
            RecordBatchHeader.TryRead(entries[2].Payload.Span, out var h);
            Assert.Equal((4L, 3), (h.BaseOffset, h.PartitionLeaderEpoch));
            Assert.Throws<ArgumentException>(() => raftLog.Read(2, 10, new List<RaftEntry>())); // not an entry start
            entries.Clear();
            Assert.Equal(2, raftLog.Read(1, 2, entries));

            // Gaps, wrong counts, lower terms and non-batches are refused.
            Assert.Throws<ArgumentException>(() => raftLog.Append(new RaftEntry(3, 9, 1, RaftTestCluster.Batch("x"))));
            Assert.Throws<ArgumentException>(() => raftLog.Append(new RaftEntry(3, 7, 2, RaftTestCluster.Batch("x"))));
            Assert.Throws<ArgumentException>(() => raftLog.Append(new RaftEntry(2, 7, 1, RaftTestCluster.Batch("x"))));
            Assert.Throws<ArgumentException>(() => raftLog.Append(new RaftEntry(3, 7, 1, new byte[70])));
            Assert.Equal(7, log.LogEndOffset);

            raftLog.TruncateSuffix(4);
            Assert.Equal(4, raftLog.LogEndOffset);
            Assert.Equal([(0L, 1L)], raftLog.Epochs);
            Assert.Throws<ArgumentException>(() => raftLog.TruncateSuffix(2));
            raftLog.Append(new RaftEntry(5, 4, 1, RaftTestCluster.Batch("g")));
        }

        // Reopen: the epoch cache is rebuilt from the stored batches (several segments).
        var (manager2, log2) = Open();
        using (manager2)
        {
            var reopened = new PartitionRaftLog(log2);
            Assert.True(((PartitionLog)log2).SegmentCount > 1);
            Assert.Equal([(0L, 1L), (4L, 5L)], reopened.Epochs);
            Assert.Equal(5, reopened.TermAt(4));
            Assert.Equal(1, reopened.TermAt(3));
            Assert.Equal(5, reopened.LogEndOffset);

            // A snapshot moves the Raft log start without deleting data.
            reopened.CompactPrefix(3);
            Assert.Equal(4, reopened.StartOffset);
            Assert.Equal(1, reopened.BaseTerm);
            Assert.Equal(0, log2.LogStartOffset);
        }
    }

    [Fact]
    public void Hard_state_round_trips_and_damage_is_an_error()
    {
        var store = new FileHardStateStore(_dir);
        Assert.Equal(HardState.Initial, store.Load());
        store.Save(new HardState(7, 2, 41));
        store.Save(new HardState(8, 3, 42));
        Assert.Equal(new HardState(8, 3, 42), new FileHardStateStore(_dir).Load());
        Assert.False(File.Exists(store.FilePath + ".tmp"));

        byte[] good = File.ReadAllBytes(store.FilePath);
        File.WriteAllBytes(store.FilePath, good.AsSpan(0, 20).ToArray()); // torn write
        var ex = Assert.Throws<HardStateCorruptException>(() => store.Load());
        Assert.Contains(store.FilePath, ex.Message);

        byte[] flipped = (byte[])good.Clone();
        flipped[12] ^= 0x01; // a bit of the term
        File.WriteAllBytes(store.FilePath, flipped);
        Assert.Throws<HardStateCorruptException>(() => store.Load());

        File.WriteAllBytes(store.FilePath, good);
        Assert.Equal(new HardState(8, 3, 42), store.Load());
    }
}

public sealed class EpochCheckpointTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "raftepochs-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    [Fact]
    public void The_term_before_the_log_start_survives_a_restart_through_the_checkpoint()
    {
        var checkpoint = new EpochCheckpointFile(Path.Combine(_dir, "state"));
        Assert.Empty(checkpoint.Load());
        using (var manager = new LogManager(_dir, SystemClock.Instance))
        {
            var log = manager.GetOrCreate(RaftTestCluster.Tp, new LogOptions { SegmentBytes = 160 });
            var raftLog = new PartitionRaftLog(log, checkpoint: checkpoint);
            raftLog.Append(new RaftEntry(2, 0, 1, ReadOnlyMemory<byte>.Empty));
            raftLog.Append(new RaftEntry(2, 1, 2, RaftTestCluster.Batch("a", "b")));
            raftLog.Append(new RaftEntry(4, 3, 1, RaftTestCluster.Batch("c")));
            raftLog.Append(new RaftEntry(5, 4, 1, RaftTestCluster.Batch("d")));
            raftLog.CheckpointEpochs();
            Assert.Equal([(0L, 2L), (3L, 4L), (4L, 5L)], checkpoint.Load());
            // A snapshot install restarts the log empty after the snapshot, checkpointing its term first.
            raftLog.ResetToSnapshot(9, 6);
            Assert.Equal((10L, 10L, 6L), (log.LogStartOffset, raftLog.LogEndOffset, raftLog.BaseTerm));
            Assert.Equal([(0L, 2L), (3L, 4L), (4L, 5L), (9L, 6L)], checkpoint.Load());
        }
        using (var manager = new LogManager(_dir, SystemClock.Instance))
        {
            var log = manager.GetOrCreate(RaftTestCluster.Tp, new LogOptions { SegmentBytes = 160 });
            var reopened = new PartitionRaftLog(log, checkpoint: checkpoint);
            Assert.True(reopened.BaseTermKnown);
            Assert.Equal(6, reopened.TermAt(9));
            Assert.False(new PartitionRaftLog(log).BaseTermKnown); // without the checkpoint the term is unknown

            // A damaged checkpoint is reported, not trusted.
            byte[] bytes = File.ReadAllBytes(checkpoint.FilePath);
            bytes[12] ^= 1;
            File.WriteAllBytes(checkpoint.FilePath, bytes);
            Assert.Throws<InvalidDataException>(() => checkpoint.Load());
            var damaged = new PartitionRaftLog(log, checkpoint: checkpoint);
            Assert.False(damaged.BaseTermKnown);
            Assert.Equal(0, damaged.TermAt(9));
        }
    }
}

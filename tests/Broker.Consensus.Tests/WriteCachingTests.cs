using Broker.Consensus.Raft;
using Broker.Core.Diagnostics;
using Broker.Core.Model;
using Broker.Core.Records;
using Broker.Raft.Messages;
using Broker.Storage;
using Broker.Storage.Compaction;
using Broker.Storage.Producers;

namespace Broker.Consensus.Tests;

/// <summary>
/// write.caching=false (topic) / write.caching.default=false (broker) on Raft groups that do not flush on write by
/// themselves (data partitions): no replica counts a batch towards the commit before it is fsynced. Observed through
/// a log wrapper that remembers how far the last flush reached: the leader's high watermark never passes it, and a
/// follower never acknowledges (AppendResponse) past it. With write caching on, the same checks do see unsynced
/// acknowledgements, so the checks can fail.
/// </summary>
public sealed class WriteCachingTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    [Fact]
    public void Single_voter_with_write_caching_off_fsyncs_before_the_high_watermark_moves()
    {
        using var dir = new TempDirectory();
        using var manager = new LogManager(dir.Path, SystemClock.Instance);
        var log = new FlushTrackingLog((PartitionLog)manager.GetOrCreate(RaftTestCluster.Tp, new LogOptions { WriteCaching = false }));
        using var replica = new RaftReplicatedLog(log, new InMemoryRaftNetwork().Endpoint(1),
            new RaftGroupOptions { NodeId = 1, Voters = [1], StateDirectory = dir.Path, FlushOnWrite = false }, ticker: null);
        long violations = 0;
        replica.HighWatermarkAdvanced += r => { if (r.HighWatermark > log.FlushedThrough) Interlocked.Increment(ref violations); };
        for (int i = 0; i < 10; i++)
        {
            var result = replica.Append(RaftTestCluster.Batch("a", "b", "c"));
            Assert.Equal(ErrorCode.None, result.Error);
            Assert.Equal(result.LastOffset + 1, replica.HighWatermark);
            Assert.Equal(replica.HighWatermark, log.FlushedThrough);
            Assert.Equal(0, log.Inner.UnflushedRecords);
        }
        Assert.Equal(0, Interlocked.Read(ref violations));
    }

    [Fact]
    public void Single_voter_applies_a_changed_write_caching_setting_without_reopening()
    {
        using var dir = new TempDirectory();
        using var manager = new LogManager(dir.Path, SystemClock.Instance);
        var inner = (PartitionLog)manager.GetOrCreate(RaftTestCluster.Tp, new LogOptions());
        var log = new FlushTrackingLog(inner);
        using var replica = new RaftReplicatedLog(log, new InMemoryRaftNetwork().Endpoint(1),
            new RaftGroupOptions { NodeId = 1, Voters = [1], StateDirectory = dir.Path, FlushOnWrite = false }, ticker: null);

        replica.Append(RaftTestCluster.Batch("cached", "write"));
        Assert.Equal(2, replica.HighWatermark);
        Assert.Equal(2, inner.UnflushedRecords); // write caching on: acknowledged from the page cache
        Assert.Equal(0, log.FlushedThrough);

        inner.UpdateOptions(inner.Options with { WriteCaching = false }); // a topic config change
        replica.Append(RaftTestCluster.Batch("synced"));
        Assert.Equal(3, replica.HighWatermark);
        Assert.Equal(0, inner.UnflushedRecords);
        Assert.Equal(3, log.FlushedThrough);
    }

    [Fact]
    public void Three_voters_with_write_caching_off_never_count_an_unsynced_batch()
    {
        var (checks, violations) = RunThreeVoters(writeCaching: false);
        Assert.True(checks.LeaderChecks > 0 && checks.FollowerAcks > 0, $"nothing was checked: {checks}");
        Assert.True(violations == 0, $"{violations} acknowledgement(s) or high watermark moves ahead of the fsync ({checks})");
    }

    [Fact]
    public void Three_voters_with_write_caching_on_do_acknowledge_unsynced_batches()
    {
        // The control: the same checks see acknowledgements from the page cache when caching is allowed.
        var (checks, violations) = RunThreeVoters(writeCaching: true);
        Assert.True(violations > 0, $"expected unsynced acknowledgements with write caching on ({checks})");
    }

    private static (CheckCounts Checks, long Violations) RunThreeVoters(bool writeCaching)
    {
        using var dir = new TempDirectory();
        var network = new InMemoryRaftNetwork();
        using var ticker = new RaftTicker(TimeSpan.FromMilliseconds(10));
        var managers = new List<LogManager>();
        var replicas = new List<RaftReplicatedLog>();
        var logs = new Dictionary<int, FlushTrackingLog>();
        var counts = new CheckCounts();
        long violations = 0;
        try
        {
            int[] voters = [1, 2, 3];
            foreach (int id in voters)
            {
                var manager = new LogManager(Path.Combine(dir.Path, $"node{id}"), SystemClock.Instance);
                managers.Add(manager);
                var log = new FlushTrackingLog((PartitionLog)manager.GetOrCreate(RaftTestCluster.Tp,
                    new LogOptions { SegmentBytes = 64 * 1024, WriteCaching = writeCaching }));
                logs[id] = log;
                var transport = new CheckingTransport(network.Endpoint(id), log, counts, () => Interlocked.Increment(ref violations));
                var replica = new RaftReplicatedLog(log, transport, new RaftGroupOptions
                {
                    NodeId = id,
                    Voters = voters,
                    StateDirectory = Path.Combine(dir.Path, $"node{id}", "state"),
                    ElectionTicks = 10,
                    RandomSeed = id * 7919,
                    FlushOnWrite = false,
                }, ticker);
                replica.HighWatermarkAdvanced += r =>
                {
                    if (!r.IsLeader) return;
                    Interlocked.Increment(ref counts.LeaderChecks);
                    if (r.HighWatermark > logs[((RaftReplicatedLog)r).NodeId].FlushedThrough) Interlocked.Increment(ref violations);
                };
                replicas.Add(replica);
            }
            RaftTestCluster.WaitUntil(() => replicas.Count(r => r.IsLeader) == 1, Bound, "a leader");
            var leader = replicas.Single(r => r.IsLeader);
            long last = -1;
            for (int i = 0; i < 40; i++)
            {
                var result = leader.Append(RaftTestCluster.Batch($"v{i}", "x"));
                Assert.Equal(ErrorCode.None, result.Error);
                last = result.LastOffset;
            }
            Assert.Equal(ErrorCode.None, leader.WaitForCommitAsync(last, Bound).AsTask().Result);
            RaftTestCluster.WaitUntil(() => replicas.All(r => r.Log.LogEndOffset == last + 1), Bound, "every replica to catch up");
            return (counts, Interlocked.Read(ref violations));
        }
        finally
        {
            foreach (var r in replicas) r.Dispose();
            foreach (var m in managers) m.Dispose();
        }
    }

    private sealed class CheckCounts
    {
        public long LeaderChecks;
        public long FollowerAcks;
        public override string ToString() => $"{LeaderChecks} high watermark moves, {FollowerAcks} follower acknowledgements checked";
    }

    /// <summary>Checks every successful AppendResponse a replica sends against how far its log was fsynced.</summary>
    private sealed class CheckingTransport(IRaftTransport inner, FlushTrackingLog log, CheckCounts counts, Action violation) : IRaftTransport
    {
        public void Send(TopicPartition group, RaftMessage message)
        {
            if (message is AppendResponse { Success: true } ack && ack.MatchOffset >= 0)
            {
                Interlocked.Increment(ref counts.FollowerAcks);
                if (ack.MatchOffset >= log.FlushedThrough) violation();
            }
            inner.Send(group, message);
        }

        public IDisposable Subscribe(TopicPartition group, Action<RaftMessage> receiver) => inner.Subscribe(group, receiver);
    }

    /// <summary>A partition log that remembers the end offset its last flush covered (callers serialise writes).</summary>
    private sealed class FlushTrackingLog(PartitionLog inner) : IPartitionLog
    {
        private long _flushedThrough = inner.LogEndOffset;

        public PartitionLog Inner => inner;
        /// <summary>Every offset below this was fsynced.</summary>
        public long FlushedThrough => Volatile.Read(ref _flushedThrough);

        public void Flush()
        {
            long end = inner.LogEndOffset;
            inner.Flush();
            Volatile.Write(ref _flushedThrough, end);
        }

        public void TruncateTo(long offset)
        {
            inner.TruncateTo(offset);
            if (offset < FlushedThrough) Volatile.Write(ref _flushedThrough, offset);
        }

        public void ResetTo(long newStartOffset)
        {
            inner.ResetTo(newStartOffset);
            Volatile.Write(ref _flushedThrough, newStartOffset);
        }

        public TopicPartition Partition => inner.Partition;
        public long LogStartOffset => inner.LogStartOffset;
        public long StoredStartOffset => inner.StoredStartOffset;
        public long LogEndOffset => inner.LogEndOffset;
        public long SizeInBytes => inner.SizeInBytes;
        public LogOptions Options => inner.Options;
        public AppendInfo Append(ReadOnlySpan<byte> batches, int leaderEpoch, long? logAppendTimeMs = null) =>
            inner.Append(batches, leaderEpoch, logAppendTimeMs);
        public LogReadResult Read(long offset, int maxBytes, long maxOffsetExclusive, bool minOneBatch) =>
            inner.Read(offset, maxBytes, maxOffsetExclusive, minOneBatch);
        public LogReadResult ReadStored(long offset, int maxBytes, long maxOffsetExclusive, bool minOneBatch) =>
            inner.ReadStored(offset, maxBytes, maxOffsetExclusive, minOneBatch);
        public bool AdvanceLogStartOffset(long newStartOffset) => inner.AdvanceLogStartOffset(newStartOffset);
        public (long Offset, long Timestamp)? FindOffsetByTimestamp(long timestampMs) => inner.FindOffsetByTimestamp(timestampMs);
        public (long Offset, long Timestamp)? FindMaxTimestamp() => inner.FindMaxTimestamp();
        public bool FlushIfDue(long nowMs) => inner.FlushIfDue(nowMs);
        public int ApplyRetention(long nowMs) => inner.ApplyRetention(nowMs);
        public int ApplyRetention(long nowMs, long maxOffsetExclusive) => inner.ApplyRetention(nowMs, maxOffsetExclusive);
        public ProducerAppendCheck CheckProducerState(ReadOnlySpan<byte> batches) => inner.CheckProducerState(batches);
        public void UpdateOptions(LogOptions options) => inner.UpdateOptions(options);
        public double CleanableDirtyRatio(long maxOffsetExclusive, long nowMs) => inner.CleanableDirtyRatio(maxOffsetExclusive, nowMs);
        public CompactionResult Compact(long maxOffsetExclusive, long nowMs) => inner.Compact(maxOffsetExclusive, nowMs);
        public void Dispose() => inner.Dispose();
    }

    private sealed class TempDirectory : IDisposable
    {
        public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "writecaching-" + Guid.NewGuid().ToString("N"));

        public TempDirectory() => Directory.CreateDirectory(Path);

        public void Dispose()
        {
            try { Directory.Delete(Path, recursive: true); } catch (IOException) { }
        }
    }
}

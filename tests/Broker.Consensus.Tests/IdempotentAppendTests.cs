using Broker.Consensus.Raft;
using Broker.Core.Diagnostics;
using Broker.Core.Model;
using Broker.Core.Records;
using Broker.Storage;

namespace Broker.Consensus.Tests;

/// <summary>
/// Idempotent producer checks through IReplicatedLog: on a Raft group (leader answers duplicates with the original
/// offsets, followers keep the same producer state from replication so a new leader keeps rejecting duplicates,
/// divergent suffixes are truncated and the state rebuilt) and on a LocalReplicatedLog.
/// </summary>
public sealed class IdempotentAppendTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(5);

    /// <summary>Batches carry the current time: producer state expires by batch timestamp (producer.id.expiration.ms).</summary>
    private static readonly long Now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    private static byte[] Batch(long producerId, short epoch, int baseSequence, params string[] values)
    {
        var builder = new RecordBatchBuilder();
        builder.Reset(Now, producerId, epoch, baseSequence);
        foreach (string v in values) builder.Add(Now, default, System.Text.Encoding.UTF8.GetBytes(v), keyIsNull: true);
        return builder.ToArray();
    }

    private static PartitionLog Storage(IReplicatedLog replica) => (PartitionLog)replica.Log;

    private static string State(IReplicatedLog replica, long producerId) =>
        Storage(replica).GetProducer(producerId) is { } p ? $"epoch {p.Epoch}: {string.Join(", ", p.Batches)}" : "none";

    [Fact]
    public async Task Raft_leader_answers_a_duplicate_with_the_original_offsets_and_appends_nothing()
    {
        using var cluster = new RaftTestCluster(3);
        var leader = cluster.WaitForLeader(Bound);
        byte[] b0 = Batch(11, 0, 0, "a", "b"), b1 = Batch(11, 0, 2, "c");
        var r0 = leader.Append(b0);
        var r1 = leader.Append(b1);
        Assert.Equal((ErrorCode.None, false), (r1.Error, r1.IsDuplicate));
        long end = leader.Log.LogEndOffset;

        var dup = leader.Append(b0, logAppendTimeMs: 99);
        Assert.Equal((ErrorCode.None, true, r0.FirstOffset, r0.LastOffset), (dup.Error, dup.IsDuplicate, dup.FirstOffset, dup.LastOffset));
        Assert.Equal(Now, dup.LogAppendTimeMs); // the stored batch's timestamp, as Kafka answers
        Assert.Equal(end, leader.Log.LogEndOffset);
        Assert.Equal(ErrorCode.None, await leader.WaitForCommitAsync(dup.LastOffset, Bound));

        var gap = leader.Append(Batch(11, 0, 5, "x"));
        Assert.Equal(ErrorCode.OutOfOrderSequenceNumber, gap.Error);
        Assert.Contains("expected 3", gap.ErrorMessage);
        Assert.Equal(ErrorCode.InvalidProducerEpoch, leader.Append(Batch(11, -1, 3, "x")).Error);
        Assert.Equal(end, leader.Log.LogEndOffset);
        Assert.Single(RaftTestCluster.DataPayloads(leader.Log), RaftTestCluster.Stamped(b0));

        // Followers learned the same state from replication.
        Assert.Equal(ErrorCode.None, await leader.WaitForCommitAsync(r1.LastOffset, Bound));
        foreach (var follower in cluster.Replicas.Where(r => r != leader))
            RaftTestCluster.WaitUntil(() => State(follower!, 11) == State(leader, 11), Bound, $"node {follower!.NodeId} to have producer 11");
    }

    [Fact]
    public async Task A_follower_that_becomes_leader_after_the_leader_died_rejects_duplicates_it_replicated()
    {
        using var cluster = new RaftTestCluster(3);
        var oldLeader = cluster.WaitForLeader(Bound);
        byte[] b0 = Batch(21, 2, 0, "a", "b", "c"), b1 = Batch(21, 2, 3, "d"), b2 = Batch(21, 2, 4, "e", "f");
        var r0 = oldLeader.Append(b0);
        var r1 = oldLeader.Append(b1);
        var r2 = oldLeader.Append(b2);
        Assert.Equal(ErrorCode.None, await oldLeader.WaitForCommitAsync(r2.LastOffset, Bound));
        foreach (var r in cluster.Replicas)
            RaftTestCluster.WaitUntil(() => r!.Log.LogEndOffset == oldLeader.Log.LogEndOffset, Bound, $"node {r!.NodeId} to replicate");

        int dead = oldLeader.NodeId;
        cluster.Stop(dead);
        var newLeader = cluster.WaitForLeader(TimeSpan.FromSeconds(10), exclude: dead);
        Assert.NotEqual(dead, newLeader.NodeId);

        // The producer retries what it has not seen acknowledged: the new leader knows those batches.
        foreach (var (batch, original) in new[] { (b1, r1), (b2, r2), (b0, r0) })
        {
            var again = newLeader.Append(batch);
            Assert.True(again.IsDuplicate, $"batch at {original.FirstOffset} not recognised: {again}");
            Assert.Equal((original.FirstOffset, original.LastOffset), (again.FirstOffset, again.LastOffset));
            Assert.Equal(ErrorCode.None, await newLeader.WaitForCommitAsync(again.LastOffset, Bound));
        }
        Assert.Equal(ErrorCode.OutOfOrderSequenceNumber, newLeader.Append(Batch(21, 2, 7, "gap")).Error);
        Assert.Equal(ErrorCode.InvalidProducerEpoch, newLeader.Append(Batch(21, 1, 6, "old")).Error);
        var next = newLeader.Append(Batch(21, 2, 6, "g"));
        Assert.Equal((ErrorCode.None, false), (next.Error, next.IsDuplicate));
        Assert.Equal(ErrorCode.None, await newLeader.WaitForCommitAsync(next.LastOffset, Bound));

        // The dead leader comes back from disk (producer state from its snapshot) and follows with the same state.
        var restarted = cluster.Start(dead);
        RaftTestCluster.WaitUntil(() => restarted.Log.LogEndOffset == newLeader.Log.LogEndOffset, Bound, "the old leader to catch up");
        Assert.True(State(newLeader, 21) == State(restarted, 21), $"leader {State(newLeader, 21)}\nrestarted {State(restarted, 21)}\n{string.Join("\n", RaftTestCluster.ReadAll(restarted.Log).Select(b => { RecordBatchHeader.TryRead(b, out var h); return $"{h.BaseOffset} pid {h.ProducerId} seq {h.BaseSequence} ctl {h.IsControl}"; }))}");
    }

    [Fact]
    public async Task A_divergent_suffix_is_truncated_and_the_producer_state_rebuilt()
    {
        using var cluster = new RaftTestCluster(3);
        var oldLeader = cluster.WaitForLeader(Bound);
        var committed = oldLeader.Append(Batch(31, 0, 0, "ok"));
        Assert.Equal(ErrorCode.None, await oldLeader.WaitForCommitAsync(committed.LastOffset, Bound));

        // Isolated, the old leader takes sequence 1 (3 records) that can never commit.
        cluster.Network.Isolate(oldLeader.NodeId);
        var doomed = oldLeader.Append(Batch(31, 0, 1, "x", "y", "z"));
        var newLeader = cluster.WaitForLeader(TimeSpan.FromSeconds(10), exclude: oldLeader.NodeId);
        // The producer retries sequence 1 on the new leader, which never saw it, with one record this time.
        var retried = newLeader.Append(Batch(31, 0, 1, "x"));
        Assert.Equal((ErrorCode.None, false), (retried.Error, retried.IsDuplicate));
        Assert.Equal(ErrorCode.None, await newLeader.WaitForCommitAsync(retried.LastOffset, Bound));
        if (doomed.Error == ErrorCode.None)
            Assert.Contains("LastSequence = 3", State(oldLeader, 31)); // its local view before the heal

        cluster.Network.HealAll();
        RaftTestCluster.WaitUntil(() => oldLeader.Log.LogEndOffset == newLeader.Log.LogEndOffset
                                        && oldLeader.HighWatermark == newLeader.HighWatermark, Bound, "the old leader to converge");
        Assert.Equal(State(newLeader, 31), State(oldLeader, 31));
        Assert.Contains("LastSequence = 1", State(oldLeader, 31));
    }

    [Fact]
    public void Local_replica_checks_duplicates_and_sequences_under_its_append_lock()
    {
        string dir = Path.Combine(Path.GetTempPath(), "idem-local-" + Guid.NewGuid().ToString("N"));
        try
        {
            using var manager = new LogManager(dir, SystemClock.Instance);
            using var replica = new LocalReplicatedLog(manager.GetOrCreate(RaftTestCluster.Tp, new LogOptions()), leaderEpoch: 4);
            var first = replica.Append(Batch(5, 0, 0, "a", "b"));
            var second = replica.Append(Batch(5, 0, 2, "c"));
            var dup = replica.Append(Batch(5, 0, 0, "a", "b"));
            Assert.Equal((true, first.FirstOffset, first.LastOffset, -1L), (dup.IsDuplicate, dup.FirstOffset, dup.LastOffset, dup.LogAppendTimeMs));
            Assert.Equal(second.LastOffset + 1, replica.Log.LogEndOffset);
            Assert.Equal(ErrorCode.OutOfOrderSequenceNumber, replica.Append(Batch(5, 0, 4, "d")).Error);
            Assert.Equal(ErrorCode.InvalidProducerEpoch, replica.Append(Batch(5, -1, 3, "d")).Error);
            Assert.Equal(ErrorCode.None, replica.Append(Batch(5, 1, 0, "bumped")).Error);
            // Batches without a producer id are never affected.
            Assert.Equal(ErrorCode.None, replica.Append(RaftTestCluster.Batch("plain")).Error);
            Assert.Equal(ErrorCode.None, replica.Append(RaftTestCluster.Batch("plain")).Error);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}

using System.Collections.Concurrent;
using Broker.Consensus.Raft;
using Broker.Core.Diagnostics;
using Broker.Core.Model;
using Broker.Core.Records;
using Broker.Storage;

namespace Broker.Consensus.Tests;

public sealed class RaftReplicatedLogTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task Single_voter_group_leads_and_commits_on_its_own()
    {
        string dir = Path.Combine(Path.GetTempPath(), "raft1-" + Guid.NewGuid().ToString("N"));
        try
        {
            var network = new InMemoryRaftNetwork();
            using (var manager = new LogManager(dir, SystemClock.Instance))
            {
                var log = manager.GetOrCreate(RaftTestCluster.Tp, new LogOptions());
                using var replica = new RaftReplicatedLog(log, network.Endpoint(1),
                    new RaftGroupOptions { NodeId = 1, Voters = [1], StateDirectory = dir }, ticker: null);
                Assert.True(replica.IsLeader); // no ticks needed
                Assert.Equal(1, replica.LeaderEpoch);
                Assert.Equal(1, replica.LeaderId);
                int advanced = 0;
                replica.HighWatermarkAdvanced += _ => advanced++;
                var r = replica.Append(RaftTestCluster.Batch("a", "b"), logAppendTimeMs: 1234);
                // A new sole voter writes no no-op: the first batch starts at offset 0, as in Kafka.
                Assert.Equal((ErrorCode.None, 0L, 1L, 1234L), (r.Error, r.FirstOffset, r.LastOffset, r.LogAppendTimeMs));
                Assert.Equal(2, replica.HighWatermark);
                Assert.Equal(1, advanced);
                Assert.Equal(ErrorCode.None, await replica.WaitForCommitAsync(1, Bound));
                var stored = RaftTestCluster.ReadAll(log);
                Assert.Single(stored);
                RecordBatchHeader.TryRead(stored[0], out var h);
                Assert.Equal((0L, 1, 1234L, true), (h.BaseOffset, h.PartitionLeaderEpoch, h.MaxTimestamp, h.IsLogAppendTime));
                Assert.True(RecordReader.Validate(stored[0], out _)); // CRC recomputed for LogAppendTime
                Assert.Equal([1], replica.InSyncReplicas());
            }

            // Restart: a new term, everything before stays committed.
            using (var manager = new LogManager(dir, SystemClock.Instance))
            {
                var log = manager.GetOrCreate(RaftTestCluster.Tp, new LogOptions());
                using var replica = new RaftReplicatedLog(log, network.Endpoint(1),
                    new RaftGroupOptions { NodeId = 1, Voters = [1], StateDirectory = dir }, ticker: null);
                Assert.Equal(2, replica.LeaderEpoch);
                Assert.Equal(2, replica.HighWatermark); // everything it had is committed; no no-op needed
                Assert.Equal(2, replica.Append(RaftTestCluster.Batch("c")).FirstOffset);
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task Three_replicas_elect_replicate_and_commit()
    {
        using var cluster = new RaftTestCluster(3);
        var leader = cluster.WaitForLeader(Bound);
        var follower = cluster.Replicas.First(r => r != leader)!;
        RaftTestCluster.WaitUntil(() => follower.LeaderId == leader.NodeId, Bound, "followers to learn the leader");
        Assert.False(follower.IsLeader);
        Assert.Equal(ErrorCode.NotLeaderOrFollower, follower.Append(RaftTestCluster.Batch("nope")).Error);
        Assert.Equal(ErrorCode.NotLeaderOrFollower, await follower.WaitForCommitAsync(follower.Log.LogEndOffset, Bound));

        // Two batches in one append, then one more.
        byte[] b1 = RaftTestCluster.Batch("a", "b"), b2 = RaftTestCluster.Batch("c"), b3 = RaftTestCluster.Batch("d", "e", "f");
        var first = leader.Append([.. b1, .. b2]);
        Assert.Equal(ErrorCode.None, first.Error);
        Assert.Equal(2, first.LastOffset - first.FirstOffset);
        var second = leader.Append(b3);
        Assert.Equal(first.LastOffset + 1, second.FirstOffset);
        Assert.Equal(ErrorCode.None, await leader.WaitForCommitAsync(second.LastOffset, Bound));
        Assert.True(leader.HighWatermark > second.LastOffset);

        string[] expected = [RaftTestCluster.Stamped(b1), RaftTestCluster.Stamped(b2), RaftTestCluster.Stamped(b3)];
        foreach (var r in cluster.Replicas)
        {
            RaftTestCluster.WaitUntil(() => r!.HighWatermark == leader.HighWatermark, Bound, $"node {r!.NodeId} to commit");
            Assert.Equal(expected, RaftTestCluster.DataPayloads(r!.Log));
            var batches = RaftTestCluster.ReadAll(r.Log);
            Assert.DoesNotContain(batches, b => PartitionRaftLog.IsLeaderChangeBatch(b)); // a new group needs no no-op
            Assert.Equal(RaftTestCluster.ReadAll(leader.Log).Select(Convert.ToHexString), batches.Select(Convert.ToHexString));
            foreach (byte[] b in batches)
            {
                RecordBatchHeader.TryRead(b, out var h);
                Assert.Equal(leader.LeaderEpoch, h.PartitionLeaderEpoch);
            }
        }
        RaftTestCluster.WaitUntil(() => leader.InSyncReplicas().Count == 3, Bound, "all replicas in sync");
        Assert.Equal([1, 2, 3], leader.InSyncReplicas());
        Assert.Empty(follower.InSyncReplicas());
    }

    [Fact]
    public async Task Failover_keeps_committed_entries_and_the_old_leader_truncates_its_divergent_tail()
    {
        using var cluster = new RaftTestCluster(3);
        var hwSeen = new ConcurrentDictionary<int, long>();
        var regressions = new ConcurrentQueue<string>();
        foreach (var r in cluster.Replicas)
        {
            r!.HighWatermarkAdvanced += log =>
            {
                var rl = (RaftReplicatedLog)log;
                long hw = rl.HighWatermark;
                hwSeen.AddOrUpdate(rl.NodeId, hw, (_, old) =>
                {
                    if (hw < old) regressions.Enqueue($"node {rl.NodeId}: {old} -> {hw}");
                    return Math.Max(old, hw);
                });
            };
        }

        var oldLeader = cluster.WaitForLeader(Bound);
        var committed = oldLeader.Append(RaftTestCluster.Batch("committed-1", "committed-2"));
        Assert.Equal(ErrorCode.None, await oldLeader.WaitForCommitAsync(committed.LastOffset, Bound));
        long committedHw = oldLeader.HighWatermark;

        // Cut the leader off; it still believes it leads for a moment: this append can never commit.
        cluster.Network.Isolate(oldLeader.NodeId);
        var doomed = oldLeader.Append(RaftTestCluster.Batch("doomed"));
        ErrorCode doomedResult = ErrorCode.None;
        if (doomed.Error == ErrorCode.None)
            doomedResult = await oldLeader.WaitForCommitAsync(doomed.LastOffset, TimeSpan.FromSeconds(3));
        else
            Assert.Equal(ErrorCode.NotLeaderOrFollower, doomed.Error);
        Assert.NotEqual(ErrorCode.None, doomedResult);

        var newLeader = cluster.WaitForLeader(Bound, exclude: oldLeader.NodeId);
        Assert.True(newLeader.LeaderEpoch > oldLeader.LeaderEpoch || !oldLeader.IsLeader);
        RaftTestCluster.WaitUntil(() => !oldLeader.IsLeader, Bound, "the isolated leader to step down (check quorum)");
        var after = newLeader.Append(RaftTestCluster.Batch("after-failover"));
        Assert.Equal(ErrorCode.None, after.Error);
        Assert.Equal(ErrorCode.None, await newLeader.WaitForCommitAsync(after.LastOffset, Bound));
        Assert.True(newLeader.HighWatermark > committedHw);
        Assert.Contains(RaftTestCluster.Stamped(RaftTestCluster.Batch("committed-1", "committed-2")), RaftTestCluster.DataPayloads(newLeader.Log));

        // Heal: the old leader drops "doomed" and converges on the new leader's log.
        cluster.Network.HealAll();
        RaftTestCluster.WaitUntil(() => oldLeader.HighWatermark == newLeader.HighWatermark
                                        && oldLeader.Log.LogEndOffset == newLeader.Log.LogEndOffset, Bound, "the old leader to catch up");
        var expected = RaftTestCluster.ReadAll(newLeader.Log).Select(Convert.ToHexString).ToArray();
        Assert.Equal(expected, RaftTestCluster.ReadAll(oldLeader.Log).Select(Convert.ToHexString));
        Assert.DoesNotContain(RaftTestCluster.Stamped(RaftTestCluster.Batch("doomed")), RaftTestCluster.DataPayloads(oldLeader.Log));
        Assert.Equal(newLeader.NodeId, oldLeader.LeaderId);
        Assert.Empty(regressions);
    }

    [Fact]
    public async Task A_stopped_replica_restarts_from_disk_and_catches_up()
    {
        using var cluster = new RaftTestCluster(3);
        var leader = cluster.WaitForLeader(Bound);
        var a = leader.Append(RaftTestCluster.Batch("one"));
        Assert.Equal(ErrorCode.None, await leader.WaitForCommitAsync(a.LastOffset, Bound));
        int victim = cluster.Ids.First(id => id != leader.NodeId);
        RaftTestCluster.WaitUntil(() => cluster.Node(victim).HighWatermark == leader.HighWatermark, Bound, "victim to commit");
        long termBefore = cluster.Node(victim).Term;
        cluster.Stop(victim);

        // Two of three still commit.
        var b = leader.Append(RaftTestCluster.Batch("two", "three"));
        Assert.Equal(ErrorCode.None, await leader.WaitForCommitAsync(b.LastOffset, Bound));

        var restarted = cluster.Start(victim);
        Assert.True(restarted.Term >= termBefore); // term (and vote) came back from the hard state file
        Assert.True(restarted.HighWatermark >= a.LastOffset + 1); // commit too
        RaftTestCluster.WaitUntil(() => restarted.HighWatermark == leader.HighWatermark, Bound, "the restarted replica to catch up");
        Assert.Equal(RaftTestCluster.DataPayloads(leader.Log), RaftTestCluster.DataPayloads(restarted.Log));
        Assert.Equal(leader.NodeId, restarted.LeaderId);
    }

    [Fact]
    public async Task Leadership_transfer_and_dispose_fail_pending_waiters_cleanly()
    {
        using var cluster = new RaftTestCluster(3);
        var leader = cluster.WaitForLeader(Bound);
        int target = cluster.Ids.First(id => id != leader.NodeId);
        var x = leader.Append(RaftTestCluster.Batch("x"));
        Assert.Equal(ErrorCode.None, await leader.WaitForCommitAsync(x.LastOffset, Bound));
        RaftTestCluster.WaitUntil(() => cluster.Node(target).HighWatermark == leader.HighWatermark, Bound, "target caught up");
        Assert.True(leader.TransferLeadership(target));
        RaftTestCluster.WaitUntil(() => cluster.Node(target).IsLeader, Bound, "the transfer to complete");
        Assert.False(leader.TransferLeadership(target)); // no longer leader

        // A waiter on a leader that is disposed before the entry commits gets NotLeaderOrFollower.
        var newLeader = cluster.Node(target);
        cluster.Network.Isolate(target);
        var pending = newLeader.Append(RaftTestCluster.Batch("pending"));
        Assert.Equal(ErrorCode.None, pending.Error);
        var wait = newLeader.WaitForCommitAsync(pending.LastOffset, Bound);
        cluster.Stop(target);
        Assert.Equal(ErrorCode.NotLeaderOrFollower, await wait);
        cluster.Network.HealAll();
        var next = cluster.WaitForLeader(Bound, exclude: target);
        Assert.NotEqual(target, next.NodeId);
    }

    [Fact]
    public void A_corrupt_hard_state_file_stops_the_replica_with_a_clear_error()
    {
        using var cluster = new RaftTestCluster(3);
        cluster.WaitForLeader(Bound);
        int victim = 3;
        cluster.Stop(victim);
        string file = Path.Combine(cluster.PartitionDir(victim), FileHardStateStore.FileName);
        Assert.True(File.Exists(file));
        byte[] bytes = File.ReadAllBytes(file);
        File.WriteAllBytes(file, bytes.AsSpan(0, bytes.Length - 3).ToArray());
        var ex = Assert.Throws<HardStateCorruptException>(() => cluster.Start(victim));
        Assert.Contains(file, ex.Message);
    }
}

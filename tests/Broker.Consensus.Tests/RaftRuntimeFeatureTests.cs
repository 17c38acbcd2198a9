using Broker.Consensus.Raft;
using Broker.Core.Model;
using Broker.Raft.Messages;
using Broker.Storage;

namespace Broker.Consensus.Tests;

/// <summary>The runtime controls of <see cref="RaftReplicatedLog"/> the cluster wiring uses, over real partition logs
/// in temp directories: learners, forced elections, time-based in-sync replicas, retention with snapshot install and
/// restart over a log shorter than the persisted commit.</summary>
public sealed class RaftRuntimeFeatureTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task Campaign_makes_the_chosen_replica_leader_before_any_timeout()
    {
        // 300 ticks of 10 ms: no replica would time out within 3 s on its own.
        using var cluster = new RaftTestCluster(3, electionTicks: 300);
        var chosen = cluster.Node(3);
        chosen.Campaign();
        RaftTestCluster.WaitUntil(() => chosen.IsLeader, TimeSpan.FromSeconds(2), "node 3 to win its campaign");
        Assert.Same(chosen, cluster.WaitForLeader(Bound));
        long term = chosen.Term;
        var r = chosen.Append(RaftTestCluster.Batch("placed"));
        Assert.Equal(ErrorCode.None, await chosen.WaitForCommitAsync(r.LastOffset, Bound));

        chosen.Campaign(); // already leader: nothing happens
        cluster.Node(1).Campaign(); // the others are in the leader's lease: the pre-vote fails, nothing changes
        RaftTestCluster.WaitUntil(() => cluster.Node(1).LeaderId == 3, Bound, "node 1 to follow node 3 again");
        Thread.Sleep(100);
        Assert.True(chosen.IsLeader);
        Assert.Equal(term, chosen.Term);
        Assert.Equal(term, cluster.Node(1).Term);
    }

    [Fact]
    public async Task A_learner_set_at_runtime_catches_up_and_stops_when_removed()
    {
        using var cluster = new RaftTestCluster(3, learners: 1);
        var leader = cluster.WaitForLeader(Bound);
        var learner = cluster.Node(4);
        var a = leader.Append(RaftTestCluster.Batch("a", "b"));
        Assert.Equal(ErrorCode.None, await leader.WaitForCommitAsync(a.LastOffset, Bound));
        Thread.Sleep(100);
        Assert.Equal(0, learner.Log.LogEndOffset); // not a learner of the voters yet
        Assert.Equal([4], learner.Learners);

        foreach (int v in cluster.Ids) cluster.Node(v).SetLearners([4]);
        cluster.Node(1).SetLearners([4]); // unchanged: no-op
        Assert.Equal([4], leader.Learners);
        RaftTestCluster.WaitUntil(() => learner.HighWatermark == leader.HighWatermark, Bound, "the learner to catch up");
        Assert.Equal(RaftTestCluster.DataPayloads(leader.Log), RaftTestCluster.DataPayloads(learner.Log));
        Assert.Equal(leader.NodeId, learner.LeaderId);
        Assert.False(learner.IsLeader);
        Assert.DoesNotContain(4, leader.InSyncReplicas()); // learners are never in the ISR

        foreach (int v in cluster.Ids) cluster.Node(v).SetLearners([]);
        long learnerEnd = learner.Log.LogEndOffset;
        var b = leader.Append(RaftTestCluster.Batch("c"));
        Assert.Equal(ErrorCode.None, await leader.WaitForCommitAsync(b.LastOffset, Bound));
        Thread.Sleep(100);
        Assert.Equal(learnerEnd, learner.Log.LogEndOffset);
    }

    [Fact]
    public void In_sync_replicas_stay_stable_under_steady_produce_and_a_dead_follower_drops_out()
    {
        using var cluster = new RaftTestCluster(3, replicaLagTicks: 1000); // only contact can drop a replica here
        var leader = cluster.WaitForLeader(Bound);
        RaftTestCluster.WaitUntil(() => leader.InSyncCount == 3, Bound, "all replicas in sync");
        Assert.Equal([1, 2, 3], leader.InSyncReplicas());
        var follower = cluster.Replicas.First(r => r != leader)!;
        Assert.Equal(0, follower.InSyncCount);
        Assert.Empty(follower.InSyncReplicas());

        int samples = 0, outOfSync = 0;
        var until = DateTime.UtcNow.AddSeconds(1.5);
        while (DateTime.UtcNow < until)
        {
            Assert.Equal(ErrorCode.None, leader.Append(RaftTestCluster.Batch("steady", "load")).Error);
            samples++;
            if (leader.InSyncCount != 3) outOfSync++;
            Thread.Sleep(1);
        }
        Assert.True(samples > 100, $"only {samples} appends");
        Assert.Equal(0, outOfSync);

        int victim = follower.NodeId;
        cluster.Stop(victim);
        var sw = System.Diagnostics.Stopwatch.StartNew();
        RaftTestCluster.WaitUntil(() => leader.InSyncCount == 2, Bound, "the stopped follower to leave the ISR");
        // About one election timeout (10 ticks of 10 ms); generous bound for a loaded machine.
        Assert.True(sw.ElapsedMilliseconds < 2000, $"took {sw.ElapsedMilliseconds} ms");
        Assert.DoesNotContain(victim, leader.InSyncReplicas());
        Assert.Contains(leader.NodeId, leader.InSyncReplicas());
    }

    [Fact]
    public async Task A_follower_that_gets_no_entries_leaves_the_ISR_and_returns_when_caught_up()
    {
        using var cluster = new RaftTestCluster(3, replicaLagTicks: 30); // 300 ms
        var leader = cluster.WaitForLeader(Bound);
        RaftTestCluster.WaitUntil(() => leader.InSyncCount == 3, Bound, "all replicas in sync");
        int slow = cluster.Ids.First(id => id != leader.NodeId);
        // It never receives entries (and, once the leader probes it with entries, nothing at all). The precise
        // lag-versus-contact rule is covered deterministically in Broker.Raft.Tests.
        cluster.Network.Filter = (_, m) => !(m.To == slow && m is AppendRequest { Entries.Length: > 0 });
        var sw = System.Diagnostics.Stopwatch.StartNew();
        while (leader.InSyncCount == 3 && sw.Elapsed < Bound)
        {
            var r = leader.Append(RaftTestCluster.Batch("x"));
            Assert.Equal(ErrorCode.None, await leader.WaitForCommitAsync(r.LastOffset, Bound)); // 2 of 3 commit
            Thread.Sleep(5);
        }
        Assert.Equal([.. cluster.Ids.Where(id => id != slow)], leader.InSyncReplicas());

        cluster.Network.Filter = null;
        RaftTestCluster.WaitUntil(() => leader.InSyncCount == 3, Bound, "the follower to rejoin after catching up");
        Assert.Equal(leader.Log.LogEndOffset, cluster.Node(slow).Log.LogEndOffset);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Retention_on_the_leader_brings_a_restarted_follower_up_by_snapshot(bool directlyOnThePartitionLog)
    {
        var options = new LogOptions { SegmentBytes = 1024, RetentionBytes = 2048, RetentionMs = -1 };
        using var cluster = new RaftTestCluster(3, logOptions: options);
        var leader = cluster.WaitForLeader(Bound);
        int victim = cluster.Ids.First(id => id != leader.NodeId);
        var first = leader.Append(RaftTestCluster.Batch("early"));
        Assert.Equal(ErrorCode.None, await leader.WaitForCommitAsync(first.LastOffset, Bound));
        RaftTestCluster.WaitUntil(() => cluster.Node(victim).HighWatermark == leader.HighWatermark, Bound, "victim to commit");
        long victimEnd = cluster.Node(victim).Log.LogEndOffset;
        cluster.Stop(victim);

        ReplicatedAppendResult last = default;
        for (int i = 0; i < 80; i++)
            last = leader.Append(RaftTestCluster.Batch($"record-{i:D3}-" + new string('x', 60)));
        Assert.Equal(ErrorCode.None, await leader.WaitForCommitAsync(last.LastOffset, Bound));
        // Through the interface, as the partition manager calls it (size-based: the time does not matter); or behind
        // Raft's back on the partition log, which the group notices at its next tick.
        long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        int deleted = directlyOnThePartitionLog ? leader.Log.ApplyRetention(now) : ((IReplicatedLog)leader).ApplyRetention(now);
        long leaderStart = leader.Log.LogStartOffset;
        Assert.True(deleted > 0, "retention deleted nothing");
        Assert.True(leaderStart > victimEnd, $"leader log start {leaderStart} not beyond the victim's end {victimEnd}");
        Assert.True(leader.Log.SizeInBytes <= 2048 + 1024);
        int other = cluster.Ids.First(id => id != leader.NodeId && id != victim);
        cluster.Node(other).ApplyRetention(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()); // each replica applies its own

        var restarted = cluster.Start(victim);
        RaftTestCluster.WaitUntil(() => restarted.Log.LogStartOffset == leaderStart && restarted.HighWatermark == leader.HighWatermark,
            Bound, "the restarted follower to install the snapshot and catch up");
        Assert.Equal(leaderStart, restarted.Log.LogStartOffset);
        Assert.Equal(RaftTestCluster.ReadAll(leader.Log).Select(Convert.ToHexString), RaftTestCluster.ReadAll(restarted.Log).Select(Convert.ToHexString));

        // Replication goes on normally after the install, and both sides survive a restart over the moved log start.
        var after = leader.Append(RaftTestCluster.Batch("after-install"));
        Assert.Equal(ErrorCode.None, await leader.WaitForCommitAsync(after.LastOffset, Bound));
        RaftTestCluster.WaitUntil(() => restarted.HighWatermark == leader.HighWatermark, Bound, "the follower to replicate after install");
        cluster.Stop(victim);
        var again = cluster.Start(victim);
        Assert.True(again.RaftLog.BaseTermKnown);
        Assert.Equal(leaderStart, again.Log.LogStartOffset);
        int leaderId = leader.NodeId;
        cluster.Stop(leaderId);
        var newLeader = cluster.WaitForLeader(Bound);
        var reopened = cluster.Start(leaderId);
        Assert.True(reopened.RaftLog.BaseTermKnown);
        var more = newLeader.Append(RaftTestCluster.Batch("more"));
        Assert.Equal(ErrorCode.None, await newLeader.WaitForCommitAsync(more.LastOffset, Bound));
        foreach (var r in cluster.Replicas)
            RaftTestCluster.WaitUntil(() => r!.HighWatermark == newLeader.HighWatermark, Bound, $"node {r!.NodeId} to converge");
    }

    [Fact]
    public async Task Reopening_over_a_log_shorter_than_the_persisted_commit_does_not_throw_and_catches_up()
    {
        using var cluster = new RaftTestCluster(3);
        var leader = cluster.WaitForLeader(Bound);
        int victim = cluster.Ids.First(id => id != leader.NodeId);
        ReplicatedAppendResult last = default;
        for (int i = 0; i < 10; i++) last = leader.Append(RaftTestCluster.Batch($"v{i}"));
        Assert.Equal(ErrorCode.None, await leader.WaitForCommitAsync(last.LastOffset, Bound));
        RaftTestCluster.WaitUntil(() => cluster.Node(victim).HighWatermark == leader.HighWatermark, Bound, "victim to commit");
        long committed = cluster.Node(victim).HighWatermark - 1;
        cluster.Stop(victim);

        // As after kill -9 with FlushOnWrite=false: the unflushed tail is gone, the hard state kept its commit.
        var (manager, log) = cluster.OpenStoppedLog(victim);
        using (manager) log.TruncateTo(3);
        Assert.True(new FileHardStateStore(cluster.PartitionDir(victim)).Load().Commit > 3);

        var restarted = cluster.Start(victim);
        Assert.True(restarted.HighWatermark <= 3);
        RaftTestCluster.WaitUntil(() => restarted.HighWatermark == leader.HighWatermark, Bound, "the replica to be re-replicated");
        Assert.True(restarted.HighWatermark > committed);
        Assert.Equal(RaftTestCluster.DataPayloads(leader.Log), RaftTestCluster.DataPayloads(restarted.Log));
    }
}

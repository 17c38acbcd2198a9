using Broker.Raft.Messages;
using Broker.Raft.Tests.Simulation;

namespace Broker.Raft.Tests;

/// <summary>Targeted scenarios on a reliable simulated network (one-round delays), each checked by the safety oracle.</summary>
public sealed class RaftScenarioTests
{
    private static SimCluster Cluster(int voters, int learners = 0, SimOptions? options = null, int seed = 1) =>
        new(voters, learners, seed, options ?? new SimOptions { MinDelay = 1, MaxDelay = 1 });

    private static RaftNode ElectLeader(SimCluster c) => c.ElectLeader();

    private static byte[] Bytes(string s) => System.Text.Encoding.ASCII.GetBytes(s);

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void PreVote_PartitionedFollowerDoesNotRaiseTermOrDisruptOnRejoin(bool preVote)
    {
        var c = Cluster(3, options: new SimOptions { MinDelay = 1, MaxDelay = 1, PreVote = preVote });
        RaftNode leader = ElectLeader(c);
        long term = leader.Term;
        int follower = c.Nodes.Keys.First(id => id != leader.Id);
        c.Isolate(follower);
        c.Run(200);
        long isolatedTerm = c.Raft(follower).Term;
        c.HealAll();
        c.Run(50);
        if (preVote)
        {
            Assert.Equal(term, isolatedTerm);
            Assert.Same(leader, c.Leader);
            Assert.Equal(term, c.Leader!.Term);
        }
        else
        {
            // Control: without pre-vote the isolated node inflates its term and deposes the leader on rejoin.
            Assert.True(isolatedTerm > term + 3);
            Assert.True(c.Leader is null || c.Leader.Term >= isolatedTerm);
        }
    }

    [Fact]
    public void CheckQuorum_IsolatedLeaderStepsDown_AndMajorityElectsAnother()
    {
        var c = Cluster(3);
        RaftNode old = ElectLeader(c);
        c.Isolate(old.Id);
        c.Run(3 * 10);
        Assert.NotEqual(RaftRole.Leader, old.Role);
        Assert.True(c.RunUntil(() => c.Leader is not null && c.Leader.Id != old.Id, 200));
        Assert.True(c.Leader!.Term > old.Term || old.Role != RaftRole.Leader);
    }

    [Fact]
    public void LeaderTransfer_TargetBecomesLeader_ProposalsRefusedMeanwhile()
    {
        var c = Cluster(3);
        RaftNode old = ElectLeader(c);
        for (int i = 0; i < 5; i++) Assert.True(c.Propose(old.Id, Bytes($"x{i}")).Accepted);
        int target = c.Nodes.Keys.First(id => id != old.Id);
        Assert.True(c.TransferLeadership(old.Id, target));
        Assert.Equal(ProposeStatus.TransferInProgress, c.Propose(old.Id, Bytes("during")).Status);
        Assert.True(c.RunUntil(() => c.Nodes[target].Raft!.IsLeader, 10 * 2), "transfer did not complete");
        RaftNode now = c.Raft(target);
        Assert.True(now.Term > old.Term || !old.IsLeader);
        Assert.True(c.RunUntil(() => c.Raft(target).CommitOffset >= old.Log.LogEndOffset - 1, 50));
        Assert.True(c.Propose(target, Bytes("after")).Accepted);
    }

    [Fact]
    public void LeaderTransfer_ToUnreachableTarget_AbortsAfterElectionTimeout()
    {
        var c = Cluster(3);
        RaftNode leader = ElectLeader(c);
        int target = c.Nodes.Keys.First(id => id != leader.Id);
        c.Isolate(target);
        Assert.True(c.Propose(leader.Id, Bytes("a")).Accepted);
        Assert.True(c.TransferLeadership(leader.Id, target));
        Assert.False(c.Propose(leader.Id, Bytes("b")).Accepted);
        c.Run(10 + 1);
        Assert.True(leader.IsLeader);
        Assert.Equal(RaftNode.NoNode, leader.LeadTransferee);
        Assert.True(c.Propose(leader.Id, Bytes("c")).Accepted);
    }

    [Fact]
    public void Learner_ReplicatesButNeverVotesCampaignsOrCounts()
    {
        var c = Cluster(3, learners: 1);
        RaftNode leader = ElectLeader(c);
        RaftNode learner = c.Raft(4);
        Assert.Equal(RaftRole.Learner, learner.Role);
        Assert.True(c.Propose(leader.Id, Bytes("hello")).Accepted);
        Assert.True(c.RunUntil(() => learner.CommitOffset == leader.CommitOffset && leader.CommitOffset >= 0, 50));

        // Never votes: a direct vote request from a voter with a better log is refused.
        long learnerTerm = learner.Term;
        learner.Step(new VoteRequest(2, 4, learner.Term + 1, false, 1000, learner.Term + 1, true));
        Assert.Equal(learnerTerm, learner.Term);
        RaftReady ready = learner.GetReady();
        Assert.Contains(ready.Messages, m => m is VoteResponse { Granted: false });
        Assert.DoesNotContain(ready.Messages, m => m is VoteResponse { Granted: true });

        // Not counted: leader + learner alone cannot commit (2 of 4 members, but only 1 of 3 voters).
        long commit = leader.CommitOffset;
        foreach (int v in c.Nodes.Keys.Where(id => id != leader.Id && id != 4)) c.Isolate(v);
        ProposeResult r = c.Propose(leader.Id, Bytes("lost"));
        Assert.True(r.Accepted);
        c.Run(8);
        Assert.Equal(commit, leader.CommitOffset);
        Assert.Equal(r.LastOffset, learner.Log.LogEndOffset - 1); // the learner did receive it
        c.Run(40);
        Assert.NotEqual(RaftRole.Leader, leader.Role); // and check-quorum ignores the learner's acks
        Assert.Equal(RaftRole.Learner, learner.Role);  // the learner never campaigned
    }

    [Fact]
    public void Snapshot_IsInstalledOnLaggingFollower()
    {
        var c = Cluster(3);
        RaftNode leader = ElectLeader(c);
        int lagging = c.Nodes.Keys.First(id => id != leader.Id);
        c.Crash(lagging);
        for (int i = 0; i < 30; i++)
        {
            c.Propose(leader.Id, Bytes($"e{i}"), 1 + i % 3);
            c.Round();
        }
        Assert.True(c.RunUntil(() => leader.AppliedOffset == leader.Log.LogEndOffset - 1, 50));
        Assert.True(c.Compact(leader.Id));
        Assert.True(leader.Log.StartOffset > 30);
        c.Restart(lagging);
        Assert.True(c.RunUntil(() => c.Nodes[lagging].AppliedOffset == leader.CommitOffset, 100));
        SimNode f = c.Nodes[lagging];
        Assert.Equal(1, c.Checker.SnapshotInstalls);
        Assert.NotNull(f.PersistedSnapshot);
        Assert.Equal(leader.Log.StartOffset, f.Log.StartOffset);
        Assert.Equal(c.Nodes[leader.Id].StateHash, f.StateHash);
        // Replication continues after the snapshot.
        Assert.True(c.Propose(leader.Id, Bytes("post")).Accepted);
        Assert.True(c.RunUntil(() => f.AppliedOffset == leader.Log.LogEndOffset - 1, 20));
    }

    [Fact]
    public void StaleLeader_ProposalsNeverCommit()
    {
        var c = Cluster(5);
        RaftNode stale = ElectLeader(c);
        c.Isolate(stale.Id);
        var accepted = new List<(long Offset, byte[] Payload)>();
        for (int i = 0; i < 3; i++)
        {
            byte[] p = Bytes($"stale{i}");
            ProposeResult r = c.Propose(stale.Id, p);
            Assert.True(r.Accepted); // it does not know yet
            accepted.Add((r.FirstOffset, p));
        }
        Assert.True(c.RunUntil(() => c.Leader is not null && c.Leader.Id != stale.Id, 200));
        RaftNode fresh = c.Leader!;
        for (int i = 0; i < 3; i++) c.Propose(fresh.Id, Bytes($"fresh{i}"));
        c.HealAll();
        Assert.True(c.RunUntil(() => c.Nodes.Values.All(n => n.AppliedOffset == fresh.Log.LogEndOffset - 1), 200));
        foreach ((long offset, byte[] payload) in accepted) Assert.False(c.Checker.IsCommitted(offset, payload));
        Assert.Equal(fresh.Log.LogEndOffset, stale.Log.LogEndOffset);
    }

    /// <summary>Raft paper figure 8: an entry of an older term replicated on a majority is not committed by
    /// counting replicas; the next leader may overwrite it without violating safety.</summary>
    [Fact]
    public void OlderTermEntry_OnMajority_IsNotCommittedByCounting()
    {
        var c = Cluster(5, options: new SimOptions
        {
            MinDelay = 1, MaxDelay = 1, PreVote = false, CheckQuorum = false, ElectionTicks = 1000, HeartbeatTicks = 2,
            MaxEntriesPerMessage = 1,
        });
        c.Campaign(1);
        Assert.True(c.RunUntil(() => c.Raft(1).IsLeader, 20));
        Assert.True(c.Propose(1, Bytes("init")).Accepted);
        Assert.True(c.RunUntil(() => c.Nodes.Values.All(n => n.AppliedOffset == 0), 20));
        c.Split([1, 2]);
        ProposeResult x = c.Propose(1, Bytes("X"));
        c.Run(3);
        Assert.Equal(x.LastOffset, c.Nodes[2].Log.LogEndOffset - 1);
        c.Crash(1);
        c.Campaign(5); // votes from 3 and 4
        Assert.True(c.RunUntil(() => c.Raft(5).IsLeader, 10));
        Assert.True(c.Propose(5, Bytes("Y")).Accepted); // an entry of term 3 that only 5 holds (figure 8's "3")
        c.Isolate(5);
        c.Crash(5);
        c.HealAll();
        c.Isolate(5);
        c.Restart(1);
        c.Campaign(1);
        c.Run(3);
        if (!c.Raft(1).IsLeader) { c.Campaign(1); }
        Assert.True(c.RunUntil(() => c.Raft(1).IsLeader, 10));
        // Wait until 3 holds X, then cut 1 off before its own-term entry reaches 3 and 4.
        Assert.True(c.RunUntil(() => c.Raft(1).TryGetProgress(3, out RaftProgress p) && p.Match >= x.LastOffset, 20));
        c.Isolate(1);
        c.Crash(1);
        c.HealAll();
        c.Isolate(1);
        c.Restart(5);
        for (int i = 0; i < 5 && !c.Raft(5).IsLeader; i++)
        {
            c.Campaign(5);
            c.Run(3);
        }
        Assert.True(c.Raft(5).IsLeader, "5 should win with votes from 3 and 4");
        Assert.True(c.RunUntil(() => c.Raft(3).CommitOffset >= x.LastOffset, 20));
        Assert.False(c.Checker.IsCommitted(x.FirstOffset, Bytes("X"))); // overwritten, safely: it was never committed
    }
}

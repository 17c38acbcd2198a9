using Broker.Raft.Messages;
using Broker.Raft.Tests.Simulation;

namespace Broker.Raft.Tests;

/// <summary>Runtime learner changes, catch-up tracking (in-sync replicas) and restart with a log shorter than the
/// persisted commit, on the simulated network with the safety oracle.</summary>
public sealed class RuntimeFeatureTests
{
    private static SimCluster Cluster(int voters, int learners = 0, int seed = 1) =>
        new(voters, learners, seed, new SimOptions { MinDelay = 1, MaxDelay = 1 });

    private static RaftNode ElectLeader(SimCluster c) => c.ElectLeader();

    private static byte[] Bytes(string s) => System.Text.Encoding.ASCII.GetBytes(s);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Learner_added_at_runtime_catches_up_and_applies_the_same_sequence(bool compactFirst)
    {
        var c = Cluster(3);
        RaftNode leader = ElectLeader(c);
        for (int i = 0; i < 20; i++)
        {
            Assert.True(c.Propose(leader.Id, Bytes($"before-{i}"), 1 + i % 3).Accepted);
            c.Round();
        }
        Assert.True(c.RunUntil(() => c.Nodes.Values.All(n => n.AppliedOffset == leader.CommitOffset), 50));
        if (compactFirst)
        {
            foreach (int id in c.Nodes.Keys) Assert.True(c.Compact(id));
            Assert.True(leader.Log.StartOffset > 0);
        }

        SimNode learner = c.AddLearnerNode(4);
        c.Run(30);
        Assert.Equal(-1, learner.AppliedOffset); // not in the set yet: the leader does not replicate to it
        Assert.False(leader.TryGetProgress(4, out _));

        int installsBefore = c.Checker.SnapshotInstalls;
        c.SetLearners(4);
        Assert.True(leader.TryGetProgress(4, out RaftProgress? pr) && pr.IsLearner);
        for (int i = 0; i < 10; i++)
        {
            Assert.True(c.Propose(leader.Id, Bytes($"after-{i}")).Accepted);
            c.Round();
        }
        Assert.True(c.RunUntil(() => c.Nodes.Values.All(n => n.AppliedOffset == leader.CommitOffset), 100),
            $"learner applied {learner.AppliedOffset}, leader commit {leader.CommitOffset}");
        // Same state-machine hash chain as every voter (the checker also compared it at each applied offset).
        foreach (SimNode n in c.Nodes.Values) Assert.Equal(c.Nodes[leader.Id].StateHash, n.StateHash);
        Assert.Equal(RaftRole.Learner, c.Raft(4).Role);
        Assert.Equal(compactFirst, c.Checker.SnapshotInstalls > installsBefore);
    }

    [Fact]
    public void Removed_learner_is_forgotten_and_its_messages_ignored()
    {
        var c = Cluster(3, learners: 1);
        RaftNode leader = ElectLeader(c);
        Assert.True(c.RunUntil(() => c.Raft(4).CommitOffset == leader.CommitOffset, 20));
        c.SetLearners();
        Assert.False(leader.TryGetProgress(4, out _));
        Assert.Equal([4], c.Raft(4).Learners); // a learner stays one whatever the list says
        Assert.Empty(leader.Learners);

        long learnerEnd = c.Raft(4).Log.LogEndOffset;
        for (int i = 0; i < 5; i++)
        {
            c.Propose(leader.Id, Bytes($"x{i}"));
            c.Round();
        }
        c.Run(20);
        Assert.Equal(learnerEnd, c.Raft(4).Log.LogEndOffset); // nothing more sent to it
        // A message from the removed learner is ignored (no response, no state change).
        leader.Step(new AppendResponse(4, leader.Id, leader.Term, true, leader.Log.LastOffset(), -1, -1, 0));
        Assert.False(leader.TryGetProgress(4, out _));
        Assert.DoesNotContain(leader.GetReady().Messages, m => m.To == 4);

        // Re-added: probed back from the leader's log end, then caught up.
        c.SetLearners(4, 2, leader.Id); // voter ids are ignored
        Assert.Equal([4], leader.Learners);
        Assert.True(c.RunUntil(() => c.Raft(4).CommitOffset == leader.CommitOffset, 50));
    }

    [Fact]
    public void Learners_added_at_runtime_never_count_toward_commit_or_check_quorum()
    {
        var c = Cluster(3);
        RaftNode leader = ElectLeader(c);
        c.AddLearnerNode(4);
        c.AddLearnerNode(5);
        c.SetLearners(4, 5);
        Assert.True(c.RunUntil(() => c.Raft(5).CommitOffset == leader.CommitOffset, 50));
        // Leader + two learners: a majority of members, but one voter of three.
        foreach (int v in c.Nodes.Keys.Where(id => id != leader.Id && id <= 3)) c.Isolate(v);
        long commit = leader.CommitOffset;
        ProposeResult r = c.Propose(leader.Id, Bytes("never"));
        Assert.True(r.Accepted);
        c.Run(3 * c.Options.ElectionTicks);
        Assert.Equal(r.LastOffset, c.Raft(4).Log.LastOffset()); // learners got it
        Assert.Equal(commit, c.Nodes[leader.Id].HighestCommitSeen);
        Assert.NotEqual(RaftRole.Leader, leader.Role); // check-quorum ignored the learners' acks
        Assert.All([4, 5], id => Assert.Equal(RaftRole.Learner, c.Raft(id).Role));
    }

    [Fact]
    public void SetLearners_keeps_voters_and_self_straight()
    {
        var voter = new RaftNode(new RaftConfig(1, [1, 2, 3]), new InMemoryRaftLog(), HardState.Initial, null, new Random(1));
        voter.SetLearners([5, 1, 2, 4, 5]);
        Assert.Equal([4, 5], voter.Learners);
        Assert.Throws<ArgumentException>(() => voter.SetLearners([RaftNode.NoNode]));

        var learner = new RaftNode(new RaftConfig(9, [1, 2, 3], [9]), new InMemoryRaftLog(), HardState.Initial, null, new Random(1));
        learner.SetLearners([7]);
        Assert.Equal([7, 9], learner.Learners);
        Assert.Equal(RaftRole.Learner, learner.Role);
        for (int i = 0; i < 100; i++) learner.Tick();
        Assert.Equal(RaftRole.Learner, learner.Role);
    }

    [Fact]
    public void DynamicLearners_KeepSafetyAndLiveness_OverSeeds()
    {
        for (int seed = 0; seed < 24; seed++)
        {
            try
            {
                SimCluster c = SimScenario.Run(seed, 1500, dynamicLearners: true);
                Assert.All([4, 5], id => Assert.True(c.Nodes[id].AppliedOffset >= 0));
            }
            catch (SimViolation e)
            {
                Assert.Fail($"dynamic-learner seed {seed} failed: {e.Message}");
            }
        }
    }

    [Fact]
    public void Catch_up_tick_stays_recent_under_steady_proposals_and_stops_when_cut_off()
    {
        var c = Cluster(3);
        RaftNode leader = ElectLeader(c);
        int follower = c.Nodes.Keys.First(id => id != leader.Id);
        long worstLag = 0;
        for (int i = 0; i < 200; i++)
        {
            c.Propose(leader.Id, Bytes($"p{i}"), 2);
            c.Round();
            if (i < 10) continue;
            Assert.True(leader.TryGetProgress(follower, out RaftProgress? pr));
            worstLag = Math.Max(worstLag, leader.CurrentTick - pr.LastCaughtUpTick);
        }
        Assert.True(worstLag <= 5, $"a follower that keeps up lagged {worstLag} ticks behind");

        c.Isolate(follower);
        leader.TryGetProgress(follower, out RaftProgress? cut);
        for (int i = 0; i < 30; i++)
        {
            c.Propose(leader.Id, Bytes($"q{i}"));
            c.Round();
        }
        Assert.True(leader.CurrentTick - cut!.LastCaughtUpTick >= 25);
        Assert.True(leader.CurrentTick - cut.LastContactTick >= 25);
    }

    [Fact]
    public void A_peer_in_contact_that_stops_keeping_up_gets_a_stale_catch_up_tick()
    {
        var leader = new RaftNode(new RaftConfig(1, [1, 2, 3]) { PreVote = false }, new InMemoryRaftLog(), HardState.Initial,
            null, new Random(1));
        leader.Campaign();
        leader.Step(new VoteResponse(2, 1, 1, false, true));
        Assert.True(leader.IsLeader);
        leader.Propose(Bytes("init"));
        leader.Step(new AppendResponse(2, 1, 1, true, 0, -1, -1, 0)); // both hold the first entry
        leader.Step(new AppendResponse(3, 1, 1, true, 0, -1, -1, 0));
        leader.GetReady();
        long frozenAt = leader.CurrentTick;
        for (int i = 0; i < 50; i++)
        {
            ProposeResult r = leader.Propose(Bytes($"e{i}"));
            leader.Step(new AppendResponse(3, 1, 1, true, r.LastOffset, -1, -1, 0)); // keeps up
            leader.Step(new AppendResponse(2, 1, 1, true, 0, -1, -1, 0));           // answers, never advances
            leader.Tick();
            leader.GetReady();
        }
        Assert.True(leader.IsLeader);
        Assert.Equal(50, leader.CommitOffset);
        Assert.True(leader.TryGetProgress(2, out RaftProgress? slow));
        Assert.True(leader.TryGetProgress(3, out RaftProgress? fast));
        Assert.Equal(leader.CurrentTick - 1, slow.LastContactTick);
        Assert.Equal(frozenAt, slow.LastCaughtUpTick);
        Assert.Equal(leader.CurrentTick - 1, fast.LastCaughtUpTick);

        // Catching up again: passing the commit offset recorded at the last check credits that check's tick, so two
        // steps later (the commit moved meanwhile) the peer is caught up as of now.
        leader.Tick();
        ProposeResult more = leader.Propose(Bytes("more"));
        leader.Step(new AppendResponse(3, 1, 1, true, more.LastOffset, -1, -1, 0));
        leader.Step(new AppendResponse(2, 1, 1, true, more.LastOffset - 1, -1, -1, 0));
        Assert.Equal(frozenAt, slow.LastCaughtUpTick); // it held offset 50, the target recorded back then was 1
        leader.Step(new AppendResponse(2, 1, 1, true, more.LastOffset, -1, -1, 0));
        Assert.Equal(leader.CurrentTick, slow.LastCaughtUpTick);
    }

    [Fact]
    public void Restart_with_a_log_shorter_than_the_persisted_commit_clamps_the_commit()
    {
        var log = new InMemoryRaftLog();
        for (int i = 0; i < 5; i++) log.Append(new RaftEntry(1, i, 1, Bytes($"e{i}")));
        var node = new RaftNode(new RaftConfig(1, [1, 2, 3]), log, new HardState(1, 1, 9), null, new Random(1));
        Assert.Equal(4, node.CommitOffset);
        Assert.Equal(9, node.ClampedCommitFrom);
        RaftReady ready = node.GetReady();
        Assert.Equal(new HardState(1, 1, 4), ready.HardState); // the lowered commit gets persisted
        Assert.Equal(5, ready.CommittedEntries.Count);

        var fine = new RaftNode(new RaftConfig(1, [1, 2, 3]), log, new HardState(1, 1, 3), null, new Random(1));
        Assert.Equal(-1, fine.ClampedCommitFrom);
        Assert.Equal(3, fine.CommitOffset);
    }
}

using Broker.Raft.Messages;

namespace Broker.Raft.Tests;

public sealed class RaftLogAndNodeTests
{
    private static RaftEntry E(long term, long first, int count, byte tag = 0) => new(term, first, count, new[] { tag });

    [Fact]
    public void InMemoryLog_OffsetsTermsTruncateCompactReset()
    {
        var log = new InMemoryRaftLog();
        Assert.Equal(0, log.StartOffset);
        Assert.Equal(0, log.LogEndOffset);
        Assert.Equal(0, log.TermAt(-1));
        log.Append(E(1, 0, 3));
        log.Append(E(1, 3, 1));
        log.Append(E(2, 4, 2));
        Assert.Equal(6, log.LogEndOffset);
        Assert.Equal(1, log.TermAt(2));
        Assert.Equal(2, log.TermAt(5));
        Assert.Equal(4, log.EntryStart(5));
        Assert.Throws<ArgumentException>(() => log.Append(E(2, 7, 1)));   // gap
        Assert.Throws<ArgumentException>(() => log.Append(E(1, 6, 1)));   // term goes back
        Assert.Throws<ArgumentException>(() => log.TruncateSuffix(5));    // not an entry start
        var read = new List<RaftEntry>();
        Assert.Equal(2, log.Read(3, 10, read));
        log.TruncateSuffix(4);
        Assert.Equal(4, log.LogEndOffset);
        Assert.Throws<ArgumentException>(() => log.CompactPrefix(1));     // not an entry end
        log.CompactPrefix(2);
        Assert.Equal(3, log.StartOffset);
        Assert.Equal(1, log.TermAt(2));                                    // base term kept
        Assert.Throws<ArgumentOutOfRangeException>(() => log.TermAt(1));
        log.ResetToSnapshot(20, 5);
        Assert.Equal(21, log.StartOffset);
        Assert.Equal(21, log.LogEndOffset);
        Assert.Equal(5, log.TermAt(20));
        log.Append(E(6, 21, 2));
        Assert.Equal(23, log.LogEndOffset);
    }

    private static RaftConfig Config(int id) => new(id, [1, 2, 3]);

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void PersistedVote_PreventsVotingTwiceInOneTermAcrossRestart(bool keepVote)
    {
        var log = new InMemoryRaftLog();
        var node = new RaftNode(Config(1), log, HardState.Initial, null, new Random(1));
        node.Step(new VoteRequest(2, 1, 1, false, -1, 0, false));
        RaftReady ready = node.GetReady();
        Assert.Equal(new HardState(1, 2, -1), ready.HardState);
        Assert.Contains(ready.Messages, m => m is VoteResponse { Granted: true, To: 2 });

        // Restart from the persisted state (or, as a control, from a state that lost the vote).
        HardState persisted = keepVote ? ready.HardState!.Value : ready.HardState!.Value with { VotedFor = RaftNode.NoNode };
        var restarted = new RaftNode(Config(1), log, persisted, null, new Random(2));
        restarted.Step(new VoteRequest(3, 1, 1, false, -1, 0, false));
        bool grantedTo3 = restarted.GetReady().Messages.Any(m => m is VoteResponse { Granted: true, To: 3 });
        Assert.Equal(!keepVote, grantedTo3);
        if (keepVote)
        {
            restarted.Step(new VoteRequest(2, 1, 1, false, -1, 0, false)); // the same candidate again: fine
            Assert.Contains(restarted.GetReady().Messages, m => m is VoteResponse { Granted: true, To: 2 });
        }
    }

    [Fact]
    public void Vote_RefusedToCandidateWithLessUpToDateLog()
    {
        var log = new InMemoryRaftLog();
        log.Append(E(2, 0, 5));
        var node = new RaftNode(Config(1), log, new HardState(2, RaftNode.NoNode, -1), null, new Random(1));
        node.Step(new VoteRequest(2, 1, 3, false, 10, 1, false)); // longer log, older last term
        Assert.Contains(node.GetReady().Messages, m => m is VoteResponse { Granted: false });
        node.Step(new VoteRequest(3, 1, 3, false, 3, 2, false));  // same last term, shorter
        Assert.Contains(node.GetReady().Messages, m => m is VoteResponse { Granted: false });
        node.Step(new VoteRequest(3, 1, 3, false, 4, 2, false));  // equal
        Assert.Contains(node.GetReady().Messages, m => m is VoteResponse { Granted: true });
    }

    [Fact]
    public void HardState_IsReportedBeforeMessagesInTheSameReady_AndSingleVoterCommitsAlone()
    {
        var node = new RaftNode(new RaftConfig(7, [7]), new InMemoryRaftLog(), HardState.Initial, null, new Random(3));
        Assert.Equal(ProposeStatus.NotLeader, node.Propose(new byte[] { 1 }).Status);
        node.Campaign();
        Assert.True(node.IsLeader);
        ProposeResult r = node.Propose(new byte[] { 1, 2 }, 3);
        Assert.Equal((0L, 2L), (r.FirstOffset, r.LastOffset)); // no no-op: a new sole voter has nothing to commit
        RaftReady ready = node.GetReady();
        Assert.Equal(new HardState(1, 7, 2), ready.HardState);
        Assert.Equal(0, ready.LogWrittenFrom);
        Assert.Single(ready.CommittedEntries);
        Assert.False(node.HasReady);
    }

    [Fact]
    public void Config_RejectsInvalidMembership()
    {
        Assert.Throws<ArgumentException>(() => new RaftConfig(1, []));
        Assert.Throws<ArgumentException>(() => new RaftConfig(1, [1, 1]));
        Assert.Throws<ArgumentException>(() => new RaftConfig(4, [1, 2, 3]));
        Assert.Throws<ArgumentException>(() => new RaftConfig(1, [1, 2], [2]));
    }
}

namespace Broker.Raft;

/// <summary>How the leader currently replicates to a peer.</summary>
public enum ProgressState : byte
{
    /// <summary>Next offset unknown: one AppendEntries at a time until the peer accepts one.</summary>
    Probe = 0,
    /// <summary>Steady state: entries are pipelined and <see cref="RaftProgress.Next"/> advances optimistically.</summary>
    Replicate = 1,
    /// <summary>An InstallSnapshot is in flight.</summary>
    Snapshot = 2,
}

/// <summary>
/// The leader's view of one peer's replication: highest offset known to match (<see cref="Match"/>), next offset
/// to send and the tick of the last message received from it. The broker derives "in-sync" replicas from this.
/// </summary>
public sealed class RaftProgress
{
    internal RaftProgress(int id, bool isLearner, long next)
    {
        Id = id;
        IsLearner = isLearner;
        Next = next;
        Match = -1;
        LastContactTick = -1;
    }

    public int Id { get; }
    public bool IsLearner { get; }
    /// <summary>Highest offset known to be replicated on the peer (-1 when unknown).</summary>
    public long Match { get; internal set; }
    public long Next { get; internal set; }
    public ProgressState State { get; internal set; }
    /// <summary>Leader tick (see <see cref="RaftNode.CurrentTick"/>) of the last message from this peer, -1 never.</summary>
    public long LastContactTick { get; internal set; }
    internal bool ProbeSent;
    internal bool RecentActive;
    internal long PendingSnapshot = -1;
    internal long SnapshotSentTick;
    internal long LastProgressTick;

    internal void BecomeProbe()
    {
        State = ProgressState.Probe;
        ProbeSent = false;
        PendingSnapshot = -1;
        Next = Math.Max(Next, Match + 1);
    }

    internal void BecomeReplicate()
    {
        State = ProgressState.Replicate;
        ProbeSent = false;
        PendingSnapshot = -1;
        Next = Match + 1;
    }
}

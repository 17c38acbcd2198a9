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
/// to send, the tick of the last message received from it and the last tick at which it held everything the leader
/// had committed. The broker derives "in-sync" replicas from the last two (see <see cref="LastCaughtUpTick"/>).
/// </summary>
public sealed class RaftProgress
{
    internal RaftProgress(int id, bool isLearner, long next, long tick)
    {
        Id = id;
        IsLearner = isLearner;
        Next = next;
        Match = -1;
        LastContactTick = -1;
        LastCaughtUpTick = -1;
        CatchUpTarget = next - 1;
        CatchUpTargetTick = tick;
    }

    public int Id { get; }
    public bool IsLearner { get; }
    /// <summary>Highest offset known to be replicated on the peer (-1 when unknown).</summary>
    public long Match { get; internal set; }
    public long Next { get; internal set; }
    public ProgressState State { get; internal set; }
    /// <summary>Leader tick (see <see cref="RaftNode.CurrentTick"/>) of the last message from this peer, -1 never.</summary>
    public long LastContactTick { get; internal set; }
    /// <summary>
    /// Latest leader tick T such that the peer has been seen holding every offset the leader had committed at T
    /// (Kafka's lastCaughtUpTime), -1 never. A peer that keeps up stays recent under steady appends even though the
    /// commit offset keeps moving: reaching the commit offset recorded at an earlier tick counts for that tick.
    /// </summary>
    public long LastCaughtUpTick { get; internal set; }
    /// <summary>Commit offset recorded at <see cref="CatchUpTargetTick"/> that the peer is now expected to reach
    /// (initially the leader's last offset when this progress was created).</summary>
    internal long CatchUpTarget;
    internal long CatchUpTargetTick;
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

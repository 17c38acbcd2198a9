namespace Broker.Raft.Messages;

/// <summary>Wire tag of each Raft message kind (first byte of its encoding).</summary>
public enum RaftMessageType : byte
{
    VoteRequest = 1,
    VoteResponse = 2,
    AppendRequest = 3,
    AppendResponse = 4,
    SnapshotRequest = 5,
    SnapshotResponse = 6,
    TimeoutNow = 7,
}

/// <summary>A message between two members of one Raft group; <see cref="Term"/> is the sender's term.</summary>
public abstract record RaftMessage(int From, int To, long Term)
{
    public abstract RaftMessageType Type { get; }
}

/// <summary>RequestVote, or a pre-vote (Term is then the candidate's term + 1, its own term unchanged).
/// <see cref="Transfer"/> marks a campaign started by leadership transfer, which voters accept even within a lease.</summary>
public sealed record VoteRequest(int From, int To, long Term, bool PreVote, long LastOffset, long LastTerm, bool Transfer)
    : RaftMessage(From, To, Term)
{
    public override RaftMessageType Type => RaftMessageType.VoteRequest;
}

public sealed record VoteResponse(int From, int To, long Term, bool PreVote, bool Granted) : RaftMessage(From, To, Term)
{
    public override RaftMessageType Type => RaftMessageType.VoteResponse;
}

/// <summary>AppendEntries; with no entries it is a heartbeat. <see cref="Commit"/> is the leader's commit offset.</summary>
public sealed record AppendRequest(int From, int To, long Term, long PrevOffset, long PrevTerm, long Commit, RaftEntry[] Entries)
    : RaftMessage(From, To, Term)
{
    public override RaftMessageType Type => RaftMessageType.AppendRequest;

    /// <summary>
    /// The sender's application log start offset (Kafka's, moved by DeleteRecords), -1 when not known. The Raft core
    /// neither sets nor reads it: the driver stamps it before sending and interprets it on receipt (as Kafka followers
    /// learn the leader's log start offset from fetch responses).
    /// </summary>
    public long LogStartOffset { get; set; } = -1;
}

/// <summary>Answer to AppendEntries. On success <see cref="MatchOffset"/> is the last offset now known to match the
/// leader. On rejection <see cref="RejectedPrev"/> echoes the request's PrevOffset and (HintOffset, HintTerm) is the
/// follower's guess of the last offset that may match, for fast back-off.</summary>
public sealed record AppendResponse(int From, int To, long Term, bool Success, long MatchOffset, long RejectedPrev,
    long HintOffset, long HintTerm) : RaftMessage(From, To, Term)
{
    public override RaftMessageType Type => RaftMessageType.AppendResponse;

    /// <summary>The responder's application log start offset, -1 when not known; stamped and read by the driver only
    /// (see <see cref="AppendRequest.LogStartOffset"/>).</summary>
    public long LogStartOffset { get; set; } = -1;
}

public sealed record SnapshotRequest(int From, int To, long Term, long Commit, RaftSnapshot Snapshot) : RaftMessage(From, To, Term)
{
    public override RaftMessageType Type => RaftMessageType.SnapshotRequest;
}

/// <summary>Answer to InstallSnapshot: <see cref="MatchOffset"/> is the follower's last offset known to match after it.</summary>
public sealed record SnapshotResponse(int From, int To, long Term, long MatchOffset) : RaftMessage(From, To, Term)
{
    public override RaftMessageType Type => RaftMessageType.SnapshotResponse;
}

/// <summary>Sent by a leader handing over leadership: the receiver campaigns at once, skipping pre-vote.</summary>
public sealed record TimeoutNow(int From, int To, long Term) : RaftMessage(From, To, Term)
{
    public override RaftMessageType Type => RaftMessageType.TimeoutNow;
}

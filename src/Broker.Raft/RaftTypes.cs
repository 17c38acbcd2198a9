namespace Broker.Raft;

/// <summary>The role a <see cref="RaftNode"/> currently plays in its group.</summary>
public enum RaftRole : byte
{
    Follower = 0,
    PreCandidate = 1,
    Candidate = 2,
    Leader = 3,
    /// <summary>Non-voting member: receives entries, never votes, never campaigns, never counted in quorums.</summary>
    Learner = 4,
}

/// <summary>
/// State a node must persist before any message produced alongside it is sent: the current term, the vote cast in
/// that term (<see cref="RaftNode.NoNode"/> when none) and the commit offset (last committed offset, -1 when none).
/// </summary>
public readonly record struct HardState(long Term, int VotedFor, long Commit)
{
    public static readonly HardState Initial = new(0, RaftNode.NoNode, -1);
}

/// <summary>
/// One log entry: an opaque payload covering the dense offset range [FirstOffset, FirstOffset + Count - 1],
/// written in <see cref="Term"/>. A Kafka batch of N records maps onto one entry of N offsets.
/// </summary>
public readonly record struct RaftEntry(long Term, long FirstOffset, int Count, ReadOnlyMemory<byte> Payload)
{
    public long LastOffset => FirstOffset + Count - 1;
}

/// <summary>
/// A state-machine snapshot taken by the application: it covers every offset up to and including
/// <see cref="LastOffset"/>, whose entry had term <see cref="LastTerm"/>.
/// </summary>
public sealed record RaftSnapshot(long LastOffset, long LastTerm, ReadOnlyMemory<byte> Payload);

/// <summary>Why a proposal was refused.</summary>
public enum ProposeStatus : byte
{
    Accepted = 0,
    NotLeader = 1,
    /// <summary>The leader is handing leadership over and accepts no proposals until the transfer ends.</summary>
    TransferInProgress = 2,
    InvalidProposal = 3,
}

/// <summary>Outcome of <see cref="RaftNode.Propose"/>: the offsets assigned when accepted, else the leader hint.</summary>
public readonly record struct ProposeResult(ProposeStatus Status, long FirstOffset, long LastOffset, long Term, int LeaderHint)
{
    public bool Accepted => Status == ProposeStatus.Accepted;
}

/// <summary>
/// Static configuration of one node of a group: its id, the fixed voter set, the initial learner set and its timers
/// in ticks.
/// </summary>
public sealed class RaftConfig
{
    public RaftConfig(int id, IReadOnlyList<int> voters, IReadOnlyList<int>? learners = null)
    {
        Id = id;
        Voters = voters.ToArray();
        Learners = learners is null ? [] : learners.ToArray();
        if (Voters.Length == 0) throw new ArgumentException("a group needs at least one voter", nameof(voters));
        if (Voters.Distinct().Count() != Voters.Length) throw new ArgumentException("duplicate voter id", nameof(voters));
        foreach (int l in Learners)
            if (Array.IndexOf(Voters, l) >= 0) throw new ArgumentException($"node {l} is both voter and learner", nameof(learners));
        if (Array.IndexOf(Voters, id) < 0 && Array.IndexOf(Learners, id) < 0)
            throw new ArgumentException($"node {id} is neither a voter nor a learner", nameof(id));
        if (id == RaftNode.NoNode) throw new ArgumentException("invalid node id", nameof(id));
    }

    public int Id { get; }
    public int[] Voters { get; }
    /// <summary>Learners at creation; <see cref="RaftNode.SetLearners"/> replaces a node's set at runtime.</summary>
    public int[] Learners { get; }
    /// <summary>Base election timeout T: followers campaign after a random timeout in [T, 2T) ticks.</summary>
    public int ElectionTicks { get; init; } = 10;
    /// <summary>A leader sends heartbeats every H ticks (H &lt; T).</summary>
    public int HeartbeatTicks { get; init; } = 1;
    /// <summary>Most entries per AppendEntries message.</summary>
    public int MaxEntriesPerMessage { get; init; } = 64;
    public bool PreVote { get; init; } = true;
    public bool CheckQuorum { get; init; } = true;
    /// <summary>Whether <see cref="RaftNode.GetReady"/> reads committed entries back from the log into
    /// <see cref="RaftReady.CommittedEntries"/>. A driver whose log is itself the state (a partition) turns it off
    /// and saves a read and a copy of every entry.</summary>
    public bool DeliverCommittedEntries { get; init; } = true;

    public bool IsVoter(int id) => Array.IndexOf(Voters, id) >= 0;
    public bool IsLearner(int id) => Array.IndexOf(Learners, id) >= 0;
    public int Quorum => Voters.Length / 2 + 1;

    internal void Validate()
    {
        if (ElectionTicks < 2) throw new ArgumentException("ElectionTicks must be >= 2");
        if (HeartbeatTicks < 1 || HeartbeatTicks >= ElectionTicks) throw new ArgumentException("HeartbeatTicks must be in [1, ElectionTicks)");
        if (MaxEntriesPerMessage < 1) throw new ArgumentException("MaxEntriesPerMessage must be >= 1");
    }
}

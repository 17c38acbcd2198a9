using Broker.Core.Diagnostics;
using Broker.Raft;

namespace Broker.Consensus.Raft;

/// <summary>
/// How one replica of a Raft group (a partition or the metadata log) is set up: this node's id, the fixed voter
/// and learner sets, where its hard state lives and the Raft timers in ticks of the shared <see cref="RaftTicker"/>.
/// </summary>
public sealed class RaftGroupOptions
{
    public required int NodeId { get; init; }
    public required IReadOnlyList<int> Voters { get; init; }
    public IReadOnlyList<int>? Learners { get; init; }
    /// <summary>Directory of the hard state file: normally the partition directory.</summary>
    public required string StateDirectory { get; init; }
    /// <summary>Base election timeout in ticks (followers campaign after [T, 2T) ticks without a leader).</summary>
    public int ElectionTicks { get; init; } = 10;
    public int HeartbeatTicks { get; init; } = 1;
    public int MaxEntriesPerMessage { get; init; } = 64;
    public bool PreVote { get; init; } = true;
    public bool CheckQuorum { get; init; } = true;
    /// <summary>A voter stays in sync while it has held everything the leader had committed at some tick within the
    /// last this-many ticks (Kafka's replica.lag.time.max.ms, in ticks), and was heard from within an election timeout.</summary>
    public int ReplicaLagTicks { get; init; } = 100;
    /// <summary>fsync the log before acknowledging/sending appended entries (Raft's durability rule). Turning it off
    /// trades crash safety of a minority for latency, like Kafka's default flush policy.</summary>
    public bool FlushOnWrite { get; init; } = true;
    /// <summary>A commit index that moved without a term or vote change is persisted at most once per this many
    /// ticks (and at close): it is only a hint after a restart (the log and the leader are the truth), while the term
    /// and vote are always persisted before any message leaves.</summary>
    public int CommitPersistTicks { get; init; } = 10;
    /// <summary>Seed of the election-timeout randomness; random when null.</summary>
    public int? RandomSeed { get; init; }
    public IClock? Clock { get; init; }

    internal RaftConfig ToRaftConfig() => new(NodeId, Voters, Learners)
    {
        ElectionTicks = ElectionTicks,
        HeartbeatTicks = HeartbeatTicks,
        MaxEntriesPerMessage = MaxEntriesPerMessage,
        PreVote = PreVote,
        CheckQuorum = CheckQuorum,
        DeliverCommittedEntries = false, // the partition log is the state: nothing to apply
    };
}

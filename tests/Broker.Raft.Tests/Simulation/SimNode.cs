using System.Buffers.Binary;

namespace Broker.Raft.Tests.Simulation;

/// <summary>
/// One simulated machine: its "disk" (log, persisted hard state, persisted snapshot) survives crashes; the
/// <see cref="RaftNode"/> and the state machine (offset + hash chain of applied entries) are volatile.
/// </summary>
public sealed class SimNode
{
    public SimNode(int id, RaftConfig config, SimChecker checker)
    {
        Id = id;
        Config = config;
        Log = new CheckedLog(checker, id, () => Raft?.CommitOffset ?? Persisted.Commit);
    }

    public int Id { get; }
    public RaftConfig Config { get; }
    public CheckedLog Log { get; }
    public HardState Persisted { get; set; } = HardState.Initial;
    public RaftSnapshot? PersistedSnapshot { get; set; }
    public RaftNode? Raft { get; set; }
    public bool Up => Raft is not null;
    public int Restarts { get; set; }

    // State machine
    public long AppliedOffset { get; set; } = -1;
    public ulong StateHash { get; set; }
    // Checker bookkeeping
    public long VerifiedUpTo { get; set; } = -1;
    public long HighestCommitSeen { get; set; } = -1;

    public RaftSnapshot TakeSnapshot(long term)
    {
        var payload = new byte[16];
        BinaryPrimitives.WriteInt64BigEndian(payload, AppliedOffset);
        BinaryPrimitives.WriteUInt64BigEndian(payload.AsSpan(8), StateHash);
        return new RaftSnapshot(AppliedOffset, term, payload);
    }

    public void RestoreState(RaftSnapshot? snapshot)
    {
        if (snapshot is null)
        {
            AppliedOffset = -1;
            StateHash = 0;
            return;
        }
        AppliedOffset = BinaryPrimitives.ReadInt64BigEndian(snapshot.Payload.Span);
        StateHash = BinaryPrimitives.ReadUInt64BigEndian(snapshot.Payload.Span[8..]);
        if (AppliedOffset != snapshot.LastOffset)
            throw new SimViolation($"node {Id}: snapshot payload offset {AppliedOffset} != {snapshot.LastOffset}");
    }
}

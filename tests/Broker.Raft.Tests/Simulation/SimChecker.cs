namespace Broker.Raft.Tests.Simulation;

/// <summary>
/// Global safety oracle of a simulation: every (term, leader) ever observed, the committed history (entry at each
/// first offset with its term and payload hash) and the state-machine hash after each applied entry.
/// </summary>
public sealed class SimChecker
{
    private readonly Dictionary<long, int> _leaders = new();
    private readonly Dictionary<long, (long Term, int Count, ulong PayloadHash)> _committed = new();
    private readonly Dictionary<long, ulong> _chain = new();

    public long MaxCommittedOffset { get; private set; } = -1;
    public int LeaderTerms => _leaders.Count;
    public int Truncations { get; private set; }
    public int SnapshotInstalls { get; set; }

    public void CheckLeader(int id, long term)
    {
        if (_leaders.TryGetValue(term, out int other))
        {
            if (other != id) throw new SimViolation($"two leaders in term {term}: {other} and {id}");
        }
        else _leaders[term] = id;
    }

    /// <summary>A node reports an entry it holds at or below its commit offset.</summary>
    public void CheckCommitted(int node, in RaftEntry e)
    {
        ulong h = Hash(e.Payload.Span);
        if (_committed.TryGetValue(e.FirstOffset, out var c))
        {
            if (c.Term != e.Term || c.Count != e.Count || c.PayloadHash != h)
                throw new SimViolation($"node {node}: committed entry at {e.FirstOffset} is term {e.Term} count {e.Count}, " +
                                       $"history has term {c.Term} count {c.Count} (payload equal: {c.PayloadHash == h})");
        }
        else
        {
            _committed[e.FirstOffset] = (e.Term, e.Count, h);
            if (e.LastOffset > MaxCommittedOffset) MaxCommittedOffset = e.LastOffset;
        }
    }

    /// <summary>A node's state machine reached <paramref name="hash"/> after applying up to <paramref name="offset"/>.</summary>
    public void CheckApplied(int node, long offset, ulong hash)
    {
        if (_chain.TryGetValue(offset, out ulong h))
        {
            if (h != hash) throw new SimViolation($"node {node}: applied state at offset {offset} differs from another node's");
        }
        else _chain[offset] = hash;
    }

    public void CheckSnapshotState(int node, long offset, ulong hash)
    {
        if (offset < 0) return;
        if (!_chain.TryGetValue(offset, out ulong h))
            throw new SimViolation($"node {node}: snapshot at {offset} whose state no node applied");
        if (h != hash) throw new SimViolation($"node {node}: snapshot state at {offset} differs from applied history");
    }

    public void CheckTruncation(int node, long fromOffset, long termAtFrom)
    {
        Truncations++;
        if (_committed.TryGetValue(fromOffset, out var c) && c.Term == termAtFrom)
            throw new SimViolation($"node {node} truncates committed entry at {fromOffset} (term {termAtFrom})");
    }

    public bool IsCommitted(long firstOffset, ReadOnlySpan<byte> payload) =>
        _committed.TryGetValue(firstOffset, out var c) && c.PayloadHash == Hash(payload);

    public static ulong Hash(ReadOnlySpan<byte> data)
    {
        ulong h = 14695981039346656037UL;
        foreach (byte b in data) h = (h ^ b) * 1099511628211UL;
        return h;
    }

    public static ulong Chain(ulong state, in RaftEntry e)
    {
        ulong h = state ^ Hash(e.Payload.Span);
        h = (h ^ (ulong)e.Term) * 1099511628211UL;
        h = (h ^ (ulong)e.FirstOffset) * 1099511628211UL;
        return (h ^ (ulong)e.Count) * 1099511628211UL;
    }
}

using Broker.Raft.Messages;

namespace Broker.Raft.Tests.Simulation;

/// <summary>
/// N Raft nodes in one process over a simulated network with a virtual clock. One <see cref="Round"/> = one
/// clock tick: due messages are delivered in random order, then every live node ticks. The network delays
/// (MinDelay..MaxDelay rounds), drops, duplicates and partitions messages; nodes crash and restart from their
/// persisted state. Every Ready is handled like a real driver (persist, send, apply) and checked by <see cref="SimChecker"/>.
/// All randomness comes from one seed, so a run is reproducible.
/// </summary>
public sealed class SimCluster
{
    private readonly Random _rng;
    private readonly List<(long At, RaftMessage Message)> _inFlight = new();
    private readonly List<RaftMessage> _due = new();
    private readonly HashSet<(int From, int To)> _blocked = new();
    private readonly Queue<string> _trace = new();
    private readonly bool _traceMessages;

    public SimCluster(int voters, int learners, int seed, SimOptions options, bool traceMessages = false)
    {
        _rng = new Random(seed);
        Options = options;
        _traceMessages = traceMessages;
        int[] voterIds = Enumerable.Range(1, voters).ToArray();
        int[] learnerIds = Enumerable.Range(voters + 1, learners).ToArray();
        foreach (int id in voterIds.Concat(learnerIds))
        {
            var config = new RaftConfig(id, voterIds, learnerIds)
            {
                ElectionTicks = options.ElectionTicks,
                HeartbeatTicks = options.HeartbeatTicks,
                MaxEntriesPerMessage = options.MaxEntriesPerMessage,
                PreVote = options.PreVote,
                CheckQuorum = options.CheckQuorum,
            };
            var node = new SimNode(id, config, Checker);
            Nodes[id] = node;
            Start(node);
        }
    }

    /// <summary>The learner set given to every voter by <see cref="SetLearners"/> (re-applied on restart); null when
    /// learners are static.</summary>
    public int[]? LearnerSet { get; private set; }

    /// <summary>Adds a node that sees itself as a learner; voters only talk to it once it is in <see cref="SetLearners"/>.</summary>
    public SimNode AddLearnerNode(int id)
    {
        int[] voterIds = Nodes.Values.Where(n => n.Config.IsVoter(n.Id)).Select(n => n.Id).ToArray();
        var config = new RaftConfig(id, voterIds, [id])
        {
            ElectionTicks = Options.ElectionTicks,
            HeartbeatTicks = Options.HeartbeatTicks,
            MaxEntriesPerMessage = Options.MaxEntriesPerMessage,
            PreVote = Options.PreVote,
            CheckQuorum = Options.CheckQuorum,
        };
        var node = new SimNode(id, config, Checker);
        Nodes[id] = node;
        Start(node);
        Note($"add learner node {id}");
        return node;
    }

    /// <summary>Gives every live node the learner set <paramref name="learners"/> (what the metadata layer does).</summary>
    public void SetLearners(params int[] learners)
    {
        LearnerSet = learners;
        foreach (SimNode n in Nodes.Values)
        {
            if (n.Raft is null) continue;
            n.Raft.SetLearners(learners);
            Drain(n);
        }
        Note($"learners [{string.Join(",", learners)}]");
    }

    public SimOptions Options { get; set; }
    public SimChecker Checker { get; } = new();
    public SortedDictionary<int, SimNode> Nodes { get; } = new();
    public long Time { get; private set; }
    public Random Random => _rng;
    public int InFlight => _inFlight.Count;

    public RaftNode Raft(int id) => Nodes[id].Raft ?? throw new InvalidOperationException($"node {id} is down");

    /// <summary>The live leader with the highest term, or null.</summary>
    public RaftNode? Leader
    {
        get
        {
            RaftNode? best = null;
            foreach (SimNode n in Nodes.Values)
                if (n.Raft is { IsLeader: true } r && (best is null || r.Term > best.Term)) best = r;
            return best;
        }
    }

    public void Note(string line)
    {
        _trace.Enqueue($"[t={Time}] {line}");
        if (_trace.Count > 400) _trace.Dequeue();
    }

    public string TraceTail() => string.Join(Environment.NewLine, _trace);

    public void Round()
    {
        Time++;
        _due.Clear();
        int keep = 0;
        for (int i = 0; i < _inFlight.Count; i++)
        {
            if (_inFlight[i].At <= Time) _due.Add(_inFlight[i].Message);
            else _inFlight[keep++] = _inFlight[i];
        }
        _inFlight.RemoveRange(keep, _inFlight.Count - keep);
        for (int i = _due.Count - 1; i > 0; i--)
        {
            int j = _rng.Next(i + 1);
            (_due[i], _due[j]) = (_due[j], _due[i]);
        }
        foreach (RaftMessage m in _due) Deliver(m);
        foreach (SimNode n in Nodes.Values)
        {
            if (n.Raft is null) continue;
            n.Raft.Tick();
            Drain(n);
        }
    }

    public void Run(int rounds)
    {
        for (int i = 0; i < rounds; i++) Round();
    }

    /// <summary>Runs until <paramref name="done"/> holds; false if it did not within <paramref name="maxRounds"/>.</summary>
    /// <summary>Runs until a leader known to every live node has committed its whole log (a new leader writes
    /// nothing of its own when it has nothing to commit), then a few more rounds; fails the test otherwise.</summary>
    public RaftNode ElectLeader(int maxRounds = 300)
    {
        bool elected = RunUntil(() => Leader is { } l && l.CommitOffset >= l.Log.LogEndOffset - 1
                                      && Nodes.Values.All(n => n.Raft is null || n.Raft.LeaderId == l.Id), maxRounds);
        if (!elected) throw new Xunit.Sdk.XunitException("no leader elected");
        Run(5);
        return Leader!;
    }

    public bool RunUntil(Func<bool> done, int maxRounds)
    {
        for (int i = 0; i < maxRounds; i++)
        {
            if (done()) return true;
            Round();
        }
        return done();
    }

    private void Deliver(RaftMessage m)
    {
        SimNode n = Nodes[m.To];
        if (n.Raft is null || _blocked.Contains((m.From, m.To))) return;
        if (_traceMessages) Note($"deliver {m}");
        n.Raft.Step(m);
        Drain(n);
    }

    private void Send(RaftMessage m)
    {
        if (Options.DropRate > 0 && _rng.NextDouble() < Options.DropRate) return;
        int copies = Options.DuplicateRate > 0 && _rng.NextDouble() < Options.DuplicateRate ? 2 : 1;
        for (int c = 0; c < copies; c++)
        {
            RaftMessage wire = Options.UseCodec ? RaftMessageCodec.Read(RaftMessageCodec.Encode(m)) : m;
            _inFlight.Add((Time + _rng.Next(Options.MinDelay, Options.MaxDelay + 1), wire));
        }
    }

    /// <summary>Handles everything the node produced, like a real driver, then checks the node.</summary>
    public void Drain(SimNode n)
    {
        RaftNode raft = n.Raft!;
        while (raft.HasReady)
        {
            RaftReady ready = raft.GetReady();
            if (ready.HardState is HardState hs)
            {
                if (hs.Term < n.Persisted.Term) throw new SimViolation($"node {n.Id}: term went back {n.Persisted.Term} -> {hs.Term}");
                if (hs.Commit < n.Persisted.Commit) throw new SimViolation($"node {n.Id}: persisted commit went back {n.Persisted.Commit} -> {hs.Commit}");
                if (hs.Term == n.Persisted.Term && n.Persisted.VotedFor != RaftNode.NoNode && hs.VotedFor != n.Persisted.VotedFor)
                    throw new SimViolation($"node {n.Id}: voted twice in term {hs.Term}");
                n.Persisted = hs;
            }
            if (ready.Snapshot is RaftSnapshot snap)
            {
                n.PersistedSnapshot = snap;
                n.RestoreState(snap);
                Checker.CheckSnapshotState(n.Id, n.AppliedOffset, n.StateHash);
                if (snap.LastOffset > n.VerifiedUpTo) n.VerifiedUpTo = snap.LastOffset;
                Checker.SnapshotInstalls++;
                Note($"node {n.Id} installed snapshot at {snap.LastOffset}");
            }
            foreach (RaftMessage m in ready.Messages) Send(m);
            foreach (RaftEntry e in ready.CommittedEntries)
            {
                if (e.FirstOffset != n.AppliedOffset + 1)
                    throw new SimViolation($"node {n.Id}: applies entry at {e.FirstOffset} after {n.AppliedOffset}");
                Checker.CheckCommitted(n.Id, e);
                n.StateHash = SimChecker.Chain(n.StateHash, e);
                n.AppliedOffset = e.LastOffset;
                Checker.CheckApplied(n.Id, n.AppliedOffset, n.StateHash);
            }
        }
        Check(n, raft);
    }

    private readonly List<RaftEntry> _scratch = new();

    private void Check(SimNode n, RaftNode raft)
    {
        if (raft.IsLeader) Checker.CheckLeader(n.Id, raft.Term);
        if (n.Config.IsLearner(n.Id) && raft.Role != RaftRole.Learner) throw new SimViolation($"learner {n.Id} is {raft.Role}");
        long commit = raft.CommitOffset;
        if (commit < n.HighestCommitSeen) throw new SimViolation($"node {n.Id}: commit went back {n.HighestCommitSeen} -> {commit}");
        n.HighestCommitSeen = commit;
        if (commit <= n.VerifiedUpTo) return;
        long from = Math.Max(n.VerifiedUpTo + 1, n.Log.StartOffset);
        while (from <= commit)
        {
            _scratch.Clear();
            if (n.Log.Read(from, 64, _scratch) == 0) throw new SimViolation($"node {n.Id}: commit {commit} beyond log end {n.Log.LogEndOffset}");
            foreach (RaftEntry e in _scratch)
            {
                if (e.FirstOffset > commit) break;
                Checker.CheckCommitted(n.Id, e);
                from = e.LastOffset + 1;
            }
            if (_scratch[^1].FirstOffset > commit) break;
        }
        n.VerifiedUpTo = commit;
    }

    public ProposeResult Propose(int id, byte[] payload, int count = 1)
    {
        SimNode n = Nodes[id];
        ProposeResult r = n.Raft!.Propose(payload, count);
        Drain(n);
        return r;
    }

    public bool TransferLeadership(int from, int to)
    {
        SimNode n = Nodes[from];
        bool ok = n.Raft!.TransferLeadership(to);
        Drain(n);
        Note($"transfer {from} -> {to}: {ok}");
        return ok;
    }

    public void Campaign(int id)
    {
        SimNode n = Nodes[id];
        n.Raft!.Campaign();
        Drain(n);
    }

    /// <summary>Takes a snapshot of the node's state machine at its applied offset and compacts its log.</summary>
    public bool Compact(int id)
    {
        SimNode n = Nodes[id];
        if (n.Raft is null || n.AppliedOffset < n.Log.StartOffset) return false;
        RaftSnapshot snap = n.TakeSnapshot(n.Log.TermAt(n.AppliedOffset));
        n.Raft.CompactLog(snap);
        n.PersistedSnapshot = snap;
        Drain(n);
        Note($"node {id} compacted to {snap.LastOffset}");
        return true;
    }

    public void Crash(int id)
    {
        Nodes[id].Raft = null;
        Note($"crash {id}");
    }

    public void Restart(int id)
    {
        SimNode n = Nodes[id];
        if (n.Raft is not null) return;
        n.Restarts++;
        Start(n);
        Note($"restart {id} (term {n.Persisted.Term}, commit {n.Persisted.Commit}, log [{n.Log.StartOffset},{n.Log.LogEndOffset}))");
    }

    private void Start(SimNode n)
    {
        n.RestoreState(n.PersistedSnapshot);
        n.Raft = new RaftNode(n.Config, n.Log, n.Persisted, n.PersistedSnapshot, new Random(_rng.Next()));
        if (LearnerSet is not null) n.Raft.SetLearners(LearnerSet);
        Drain(n);
    }

    /// <summary>Cuts every link between <paramref name="id"/> and the others, both directions.</summary>
    public void Isolate(int id)
    {
        foreach (int other in Nodes.Keys)
            if (other != id)
            {
                _blocked.Add((id, other));
                _blocked.Add((other, id));
            }
        Note($"isolate {id}");
    }

    /// <summary>Splits the cluster: nodes in <paramref name="side"/> only talk among themselves.</summary>
    public void Split(IReadOnlyCollection<int> side)
    {
        foreach (int a in Nodes.Keys)
            foreach (int b in Nodes.Keys)
                if (a != b && side.Contains(a) != side.Contains(b)) _blocked.Add((a, b));
        Note($"split [{string.Join(",", side)}]");
    }

    public void HealAll()
    {
        _blocked.Clear();
        Note("heal");
    }
}

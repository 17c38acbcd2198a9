namespace Broker.Raft.Tests.Simulation;

/// <summary>
/// One randomized run: a chaotic phase (faulty network, partitions, crashes, proposals, compactions, transfers)
/// with safety checked after every delivery and tick, then a liveness phase (everything healed and restarted, a
/// reliable network): a leader must emerge and every proposal made after healing must commit on every node.
/// </summary>
public static class SimScenario
{
    public static (int Voters, int Learners) ShapeOf(int seed) => (seed % 4) switch
    {
        0 => (1, 0),
        1 => (3, 0),
        2 => (5, 0),
        _ => (3, 1),
    };

    /// <param name="dynamicLearners">3 voters plus nodes 4 and 5 that the chaos phase adds to and removes from the
    /// learner set at random (both are learners for the liveness phase).</param>
    public static SimCluster Run(int seed, int rounds, bool traceMessages = false, bool dynamicLearners = false)
    {
        (int voters, int learners) = dynamicLearners ? (3, 0) : ShapeOf(seed);
        var chaos = new SimOptions { DropRate = 0.05, DuplicateRate = 0.03, MinDelay = 1, MaxDelay = 3 };
        var c = new SimCluster(voters, learners, seed, chaos, traceMessages);
        Random rng = c.Random;
        if (dynamicLearners)
        {
            c.AddLearnerNode(4);
            c.AddLearnerNode(5);
        }
        int[] ids = c.Nodes.Keys.ToArray();
        int proposals = 0;
        for (int round = 0; round < rounds; round++)
        {
            double p = rng.NextDouble();
            if (p < 0.30)
            {
                RaftNode? leader = c.Leader;
                if (leader is not null)
                {
                    byte[] payload = Payload(seed, ++proposals);
                    c.Propose(leader.Id, payload, 1 + rng.Next(3));
                }
            }
            else if (p < 0.305) c.Isolate(ids[rng.Next(ids.Length)]);
            else if (p < 0.31)
            {
                var side = ids.Where(_ => rng.Next(2) == 0).ToArray();
                c.Split(side);
            }
            else if (p < 0.325) c.HealAll();
            else if (p < 0.33)
            {
                int id = ids[rng.Next(ids.Length)];
                if (c.Nodes[id].Up) c.Crash(id);
            }
            else if (p < 0.36)
            {
                foreach (int id in ids)
                    if (!c.Nodes[id].Up) { c.Restart(id); break; }
            }
            else if (p < 0.37)
            {
                int id = ids[rng.Next(ids.Length)];
                if (c.Nodes[id].Up) c.Compact(id);
            }
            else if (p < 0.375)
            {
                RaftNode? leader = c.Leader;
                if (leader is not null && voters > 1)
                {
                    int target = 1 + rng.Next(voters);
                    if (target != leader.Id) c.TransferLeadership(leader.Id, target);
                }
            }
            else if (p < 0.385 && dynamicLearners)
            {
                c.SetLearners([.. new[] { 4, 5 }.Where(_ => rng.Next(2) == 0)]);
            }
            c.Round();
        }

        // Liveness: heal everything, restart everyone, reliable network.
        if (dynamicLearners) c.SetLearners(4, 5);
        c.HealAll();
        foreach (int id in ids) c.Restart(id);
        c.Options = new SimOptions { MinDelay = 1, MaxDelay = 3 };
        // Let messages from the chaotic phase drain, then wait for a leader known to all that has committed its whole log.
        c.Run(3 * chaos.MaxDelay);
        bool stable = c.RunUntil(() =>
        {
            RaftNode? l = c.Leader;
            // Committed everything it has (a leader appends a no-op only when older entries await commitment).
            return l is not null && l.LeadTransferee == RaftNode.NoNode && l.CommitOffset >= l.Log.LogEndOffset - 1
                   && c.Nodes.Values.All(n => n.Raft!.LeaderId == l.Id && n.Raft.Term == l.Term);
        }, 600);
        if (!stable)
            throw new SimViolation("liveness: no stable leader after healing; nodes: " +
                                   string.Join(", ", c.Nodes.Values.Select(n => $"{n.Id}:{n.Raft!.Role}/t{n.Raft.Term}/lead{n.Raft.LeaderId}")));
        var pending = new List<(long Offset, byte[] Payload)>();
        int attempts = 0;
        while (pending.Count < 5)
        {
            if (++attempts > 600)
                throw new SimViolation($"liveness: only {pending.Count} of 5 proposals accepted after healing (leader {c.Leader?.Id})");
            RaftNode? leader = c.Leader;
            if (leader is not null)
            {
                byte[] payload = Payload(seed, 1_000_000 + pending.Count);
                ProposeResult r = c.Propose(leader.Id, payload);
                if (r.Accepted) pending.Add((r.FirstOffset, payload));
            }
            c.Round();
        }
        long lastOffset = pending.Max(x => x.Offset);
        bool done = c.RunUntil(() =>
            c.Nodes.Values.All(n => n.Raft!.CommitOffset >= lastOffset && n.AppliedOffset >= lastOffset), 400);
        if (!done)
            throw new SimViolation("liveness: proposals made after healing did not commit everywhere; commits: " +
                                   string.Join(", ", c.Nodes.Values.Select(n => $"{n.Id}:{n.Raft!.Role}/t{n.Raft.Term}/c{n.Raft.CommitOffset}/end{n.Log.LogEndOffset}")) +
                                   $"; target {lastOffset}; leader progress: " + string.Join(", ", c.Leader?.Peers.Select(
                                       p => $"{p.Id}:{p.State}/m{p.Match}/n{p.Next}") ?? []));
        foreach ((long offset, byte[] payload) in pending)
            if (!c.Checker.IsCommitted(offset, payload))
                throw new SimViolation($"liveness: proposal at {offset} was accepted but a different entry committed there");
        return c;
    }

    private static byte[] Payload(int seed, int n) => System.Text.Encoding.ASCII.GetBytes($"s{seed}-p{n}");
}

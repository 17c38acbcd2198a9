namespace Broker.Raft;

// Runtime learner set and the leader's catch-up bookkeeping (what "in sync" is derived from).
public sealed partial class RaftNode
{
    /// <summary>Current learners (non-voting members); changes with <see cref="SetLearners"/>.</summary>
    public IReadOnlyList<int> Learners => _learners;

    /// <summary>
    /// Replaces the learner set; voters never change. Ids that are voters are ignored, and a node that is itself a
    /// learner stays one whatever the list says. A leader starts replicating to new learners (probing back from its
    /// log end, with a snapshot when they are behind its log start) and forgets removed ones; messages from a node
    /// that is neither voter nor learner are ignored. Learners never count toward elections, commit or check-quorum.
    /// </summary>
    public void SetLearners(IReadOnlyList<int> learners)
    {
        ArgumentNullException.ThrowIfNull(learners);
        var next = new List<int>(learners.Count + 1);
        foreach (int id in learners)
        {
            if (id == NoNode) throw new ArgumentException("invalid learner id", nameof(learners));
            if (_config.IsVoter(id) || next.Contains(id)) continue;
            next.Add(id);
        }
        if (!_config.IsVoter(Id) && !next.Contains(Id)) next.Add(Id);
        next.Sort();
        if (next.Count == _learners.Length && next.SequenceEqual(_learners)) return;
        _learners = next.ToArray();
        if (Role != RaftRole.Leader) return;

        List<int>? removed = null;
        foreach (RaftProgress pr in _progress.Values)
            if (pr.IsLearner && !IsLearnerId(pr.Id)) (removed ??= new List<int>()).Add(pr.Id);
        if (removed is not null)
            foreach (int id in removed) _progress.Remove(id);
        foreach (int id in _learners)
        {
            if (id == Id || _progress.ContainsKey(id)) continue;
            var pr = new RaftProgress(id, isLearner: true, _log.LogEndOffset, CurrentTick);
            _progress[id] = pr;
            SendAppend(pr, allowEmpty: true);
        }
    }

    private bool IsLearnerId(int id) => Array.IndexOf(_learners, id) >= 0;

    /// <summary>Called after the peer's match may have moved: records that it caught up with the commit offset.</summary>
    private void NoteCaughtUp(RaftProgress pr)
    {
        if (pr.Match >= CommitOffset)
        {
            pr.LastCaughtUpTick = CurrentTick;
            pr.CatchUpTarget = CommitOffset;
            pr.CatchUpTargetTick = CurrentTick;
        }
        else if (pr.Match >= pr.CatchUpTarget)
        {
            // It now holds what was committed at the target's tick: caught up as of then; aim at today's commit.
            if (pr.CatchUpTargetTick > pr.LastCaughtUpTick) pr.LastCaughtUpTick = pr.CatchUpTargetTick;
            pr.CatchUpTarget = CommitOffset;
            pr.CatchUpTargetTick = CurrentTick;
        }
    }
}

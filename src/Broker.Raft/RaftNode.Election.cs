using Broker.Raft.Messages;

namespace Broker.Raft;

// Message dispatch, term rules and elections (pre-vote, vote, leadership transfer's TimeoutNow).
public sealed partial class RaftNode
{
    /// <summary>Processes one message received from another member. Messages not addressed to this node, or from
    /// a node outside the configuration, are ignored.</summary>
    public void Step(RaftMessage m)
    {
        if (m.To != Id || m.From == Id || (!_config.IsVoter(m.From) && !IsLearnerId(m.From))) return;

        if (m is VoteRequest && Role == RaftRole.Learner)
        {
            // Learners take no part in elections, not even by adopting a candidate's term.
            Send(new VoteResponse(Id, m.From, Term, ((VoteRequest)m).PreVote, false));
            return;
        }

        if (m.Term > Term)
        {
            if (m is VoteRequest vr)
            {
                // Lease: a node that heard from a live leader within the election timeout ignores campaigns,
                // unless the campaign was started by a leadership transfer.
                bool inLease = _config.CheckQuorum && LeaderId != NoNode && _electionElapsed < _config.ElectionTicks;
                if (inLease && !vr.Transfer) return;
            }
            bool keepTerm = m is VoteRequest { PreVote: true } || m is VoteResponse { PreVote: true, Granted: true };
            if (!keepTerm)
                BecomeFollower(m.Term, m is AppendRequest or SnapshotRequest ? m.From : NoNode);
        }
        else if (m.Term < Term)
        {
            if (m is AppendRequest stale && (_config.CheckQuorum || _config.PreVote))
                // Tell a leader that was cut off that its term is over, so it steps down.
                Send(new AppendResponse(Id, m.From, Term, false, -1, stale.PrevOffset, -1, 0));
            else if (m is VoteRequest { PreVote: true } pv)
                Send(new VoteResponse(Id, pv.From, Term, true, false));
            return;
        }

        if (m is VoteRequest request)
        {
            HandleVoteRequest(request);
            return;
        }

        switch (Role)
        {
            case RaftRole.Leader:
                TouchPeer(m.From);
                if (m is AppendResponse ar) HandleAppendResponse(ar);
                else if (m is SnapshotResponse sr) HandleSnapshotResponse(sr);
                break;
            case RaftRole.PreCandidate:
            case RaftRole.Candidate:
                if (m is AppendRequest or SnapshotRequest)
                {
                    BecomeFollower(Term, m.From);
                    StepFollower(m);
                }
                else if (m is VoteResponse resp) HandleVoteResponse(resp);
                break;
            default:
                StepFollower(m);
                break;
        }
    }

    private void StepFollower(RaftMessage m)
    {
        switch (m)
        {
            case AppendRequest a:
                _electionElapsed = 0;
                LeaderId = a.From;
                HandleAppend(a);
                break;
            case SnapshotRequest s:
                _electionElapsed = 0;
                LeaderId = s.From;
                HandleSnapshot(s);
                break;
            case TimeoutNow when Role == RaftRole.Follower:
                Campaign(transfer: true);
                break;
        }
    }

    private void TouchPeer(int id)
    {
        if (_progress.TryGetValue(id, out RaftProgress? pr))
        {
            pr.RecentActive = true;
            pr.LastContactTick = CurrentTick;
        }
    }

    private void HandleVoteRequest(VoteRequest m)
    {
        if (!_config.IsVoter(m.From))
        {
            Send(new VoteResponse(Id, m.From, Term, m.PreVote, false));
            return;
        }
        bool canVote = VotedFor == m.From
                       || (VotedFor == NoNode && LeaderId == NoNode)
                       || (m.PreVote && m.Term > Term);
        long lastTerm = _log.LastTerm();
        bool upToDate = m.LastTerm > lastTerm || (m.LastTerm == lastTerm && m.LastOffset >= _log.LastOffset());
        if (canVote && upToDate)
        {
            Send(new VoteResponse(Id, m.From, m.Term, m.PreVote, true));
            if (!m.PreVote)
            {
                _electionElapsed = 0;
                VotedFor = m.From;
            }
        }
        else
        {
            Send(new VoteResponse(Id, m.From, Term, m.PreVote, false));
        }
    }

    private void HandleVoteResponse(VoteResponse m)
    {
        if (!_config.IsVoter(m.From)) return;
        if (Role == RaftRole.PreCandidate)
        {
            if (!m.PreVote || (m.Granted && m.Term != Term + 1)) return;
        }
        else if (m.PreVote || m.Term != Term) return;

        _votes.TryAdd(m.From, m.Granted);
        switch (Poll())
        {
            case 1:
                if (Role == RaftRole.PreCandidate) StartElection(transfer: false);
                else BecomeLeader();
                break;
            case -1:
                BecomeFollower(Term, NoNode);
                break;
        }
    }

    /// <summary>1 = won, -1 = lost, 0 = pending.</summary>
    private int Poll()
    {
        int granted = 0, rejected = 0;
        foreach (int v in _config.Voters)
        {
            if (!_votes.TryGetValue(v, out bool g)) continue;
            if (g) granted++;
            else rejected++;
        }
        if (granted >= _config.Quorum) return 1;
        if (rejected >= _config.Quorum) return -1;
        return 0;
    }

    private void Campaign(bool transfer)
    {
        if (Role == RaftRole.Leader || Role == RaftRole.Learner || !_config.IsVoter(Id)) return;
        if (_config.PreVote && !transfer)
        {
            BecomePreCandidate();
            RequestVotes(preVote: true, transfer: false);
        }
        else
        {
            StartElection(transfer);
        }
    }

    private void StartElection(bool transfer)
    {
        BecomeCandidate();
        RequestVotes(preVote: false, transfer);
    }

    private void RequestVotes(bool preVote, bool transfer)
    {
        _votes[Id] = true;
        if (Poll() == 1)
        {
            if (preVote) StartElection(transfer);
            else BecomeLeader();
            return;
        }
        long voteTerm = preVote ? Term + 1 : Term;
        long lastOffset = _log.LastOffset(), lastTerm = _log.LastTerm();
        foreach (int v in _config.Voters)
            if (v != Id) Send(new VoteRequest(Id, v, voteTerm, preVote, lastOffset, lastTerm, transfer));
    }
}

using Broker.Raft.Messages;

namespace Broker.Raft;

// Log replication: AppendEntries on both sides, back-off, commit rule, snapshots.
public sealed partial class RaftNode
{
    private void SendAppend(RaftProgress pr, bool allowEmpty)
    {
        if (pr.State == ProgressState.Snapshot || (pr.State == ProgressState.Probe && pr.ProbeSent)) return;
        long prev = pr.Next - 1;
        if (prev < _log.StartOffset - 1)
        {
            SendSnapshot(pr);
            return;
        }
        _scratch.Clear();
        if (pr.Next < _log.LogEndOffset) _log.Read(pr.Next, _config.MaxEntriesPerMessage, _scratch);
        if (_scratch.Count == 0 && !allowEmpty) return;
        RaftEntry[] entries = _scratch.Count == 0 ? [] : _scratch.ToArray();
        Send(new AppendRequest(Id, pr.Id, Term, prev, _log.TermAt(prev), CommitOffset, entries));
        if (pr.State == ProgressState.Replicate)
        {
            if (entries.Length > 0) pr.Next = entries[^1].LastOffset + 1;
        }
        else
        {
            pr.ProbeSent = true;
        }
    }

    private void SendSnapshot(RaftProgress pr)
    {
        if (Snapshot is null)
            throw new InvalidOperationException($"log starts at {_log.StartOffset} but no snapshot is known");
        Send(new SnapshotRequest(Id, pr.Id, Term, CommitOffset, Snapshot));
        pr.State = ProgressState.Snapshot;
        pr.PendingSnapshot = Snapshot.LastOffset;
        pr.SnapshotSentTick = CurrentTick;
    }

    private void BroadcastHeartbeat()
    {
        foreach (RaftProgress pr in _progress.Values)
        {
            switch (pr.State)
            {
                case ProgressState.Probe:
                    pr.ProbeSent = false;
                    SendAppend(pr, allowEmpty: true);
                    break;
                case ProgressState.Replicate:
                    bool inFlight = pr.Match < pr.Next - 1;
                    if (inFlight && CurrentTick - pr.LastProgressTick >= _config.ElectionTicks / 2)
                    {
                        // Pipelined entries seem lost: fall back to probing from the last known match.
                        pr.Next = pr.Match + 1;
                        pr.BecomeProbe();
                        SendAppend(pr, allowEmpty: true);
                    }
                    else if (inFlight && pr.Match >= _log.StartOffset - 1)
                    {
                        // Heartbeat at the known match so it cannot be refused while entries are in flight.
                        Send(new AppendRequest(Id, pr.Id, Term, pr.Match, _log.TermAt(pr.Match), CommitOffset, []));
                    }
                    else
                    {
                        SendAppend(pr, allowEmpty: true);
                    }
                    break;
                case ProgressState.Snapshot:
                    if (CurrentTick - pr.SnapshotSentTick >= _config.ElectionTicks)
                    {
                        pr.BecomeProbe();
                        SendAppend(pr, allowEmpty: true);
                    }
                    break;
            }
        }
    }

    private void HandleAppend(AppendRequest m)
    {
        if (m.PrevOffset < CommitOffset)
        {
            // Everything up to our commit matches any current leader; entries in this (old) message are ignored.
            Send(new AppendResponse(Id, m.From, Term, true, CommitOffset, -1, -1, 0));
            return;
        }
        long last = _log.LastOffset();
        if (m.PrevOffset > last || _log.TermAt(m.PrevOffset) != m.PrevTerm)
        {
            long hint;
            if (m.PrevOffset > last) hint = last;
            else
            {
                // Skip the conflicting entry, then every entry of a term newer than the leader's prevTerm.
                hint = _log.EntryStart(m.PrevOffset) - 1;
                while (hint > CommitOffset && hint >= _log.StartOffset && _log.TermAt(hint) > m.PrevTerm)
                    hint = _log.EntryStart(hint) - 1;
            }
            Send(new AppendResponse(Id, m.From, Term, false, -1, m.PrevOffset, hint, _log.TermAt(hint)));
            return;
        }

        long lastNew = m.PrevOffset;
        foreach (RaftEntry e in m.Entries)
        {
            if (e.FirstOffset <= _log.LastOffset())
            {
                if (_log.TermAt(e.FirstOffset) == e.Term)
                {
                    lastNew = e.LastOffset; // already have this entry
                    continue;
                }
                if (e.FirstOffset <= CommitOffset)
                    throw new InvalidOperationException(
                        $"node {Id}: leader {m.From} term {m.Term} conflicts with committed offset {e.FirstOffset}");
                _log.TruncateSuffix(e.FirstOffset);
                MarkLogWritten(e.FirstOffset);
            }
            _log.Append(e);
            MarkLogWritten(e.FirstOffset);
            lastNew = e.LastOffset;
        }
        long newCommit = Math.Min(m.Commit, lastNew);
        if (newCommit > CommitOffset) CommitOffset = newCommit;
        Send(new AppendResponse(Id, m.From, Term, true, lastNew, -1, -1, 0));
    }

    private void HandleSnapshot(SnapshotRequest m)
    {
        RaftSnapshot s = m.Snapshot;
        if (s.LastOffset <= CommitOffset)
        {
            Send(new SnapshotResponse(Id, m.From, Term, CommitOffset));
            return;
        }
        if (s.LastOffset >= _log.StartOffset && s.LastOffset <= _log.LastOffset() && _log.TermAt(s.LastOffset) == s.LastTerm)
        {
            // We hold the snapshot's last entry: its prefix matches, only commit moves.
            CommitOffset = s.LastOffset;
        }
        else
        {
            _log.ResetToSnapshot(s.LastOffset, s.LastTerm);
            MarkLogWritten(s.LastOffset + 1);
            Snapshot = s;
            CommitOffset = s.LastOffset;
            _applied = s.LastOffset;
            _ready.Snapshot = s;
        }
        Send(new SnapshotResponse(Id, m.From, Term, s.LastOffset));
    }

    private void HandleSnapshotResponse(SnapshotResponse m)
    {
        if (!_progress.TryGetValue(m.From, out RaftProgress? pr)) return;
        if (m.MatchOffset > pr.Match) pr.Match = m.MatchOffset;
        pr.LastProgressTick = CurrentTick;
        if (pr.State == ProgressState.Snapshot) pr.BecomeReplicate();
        pr.Next = Math.Max(pr.Next, pr.Match + 1);
        if (MaybeCommit()) BroadcastCommit();
        NoteCaughtUp(pr);
        SendAppend(pr, allowEmpty: false);
    }

    private void HandleAppendResponse(AppendResponse m)
    {
        if (!_progress.TryGetValue(m.From, out RaftProgress? pr)) return;
        if (m.Success)
        {
            if (m.MatchOffset > _log.LastOffset()) return; // acknowledges entries this leader never sent: not ours

            bool advanced = m.MatchOffset > pr.Match;
            if (advanced)
            {
                pr.Match = m.MatchOffset;
                pr.LastProgressTick = CurrentTick;
            }
            if (advanced || (pr.State == ProgressState.Probe && m.MatchOffset == pr.Match))
            {
                if (pr.State != ProgressState.Replicate) pr.BecomeReplicate();
                else pr.Next = Math.Max(pr.Next, pr.Match + 1);
                if (MaybeCommit()) BroadcastCommit();
                SendAppend(pr, allowEmpty: false);
            }
            NoteCaughtUp(pr);
            if (m.From == LeadTransferee && pr.Match == _log.LastOffset())
                Send(new TimeoutNow(Id, m.From, Term));
            return;
        }

        if (pr.State == ProgressState.Replicate)
        {
            if (m.RejectedPrev < pr.Match) return; // stale
            if (m.RejectedPrev > pr.Match)
            {
                pr.Next = pr.Match + 1;
                pr.BecomeProbe();
                SendAppend(pr, allowEmpty: true);
                return;
            }
            // Refused at the very offset it acknowledged: it lost its tail (a restart over a log that was not flushed,
            // which the driver allows for data partitions) or this is a late duplicate. Forget the match and back off;
            // a duplicate only costs a probe round.
            pr.Match = -1;
            pr.BecomeProbe();
        }
        else if (pr.State == ProgressState.Probe)
        {
            if (m.RejectedPrev != pr.Next - 1) return; // stale
            if (m.RejectedPrev == pr.Match) pr.Match = -1; // as above: the acknowledged tail is gone
        }
        else return;
        BackOff(pr, m);
        SendAppend(pr, allowEmpty: true);
    }

    /// <summary>Moves a probed peer's next offset back using the hint of its rejection.</summary>
    private void BackOff(RaftProgress pr, AppendResponse m)
    {
        long p = Math.Min(m.HintOffset, m.RejectedPrev - 1);
        long start = _log.StartOffset, last = _log.LastOffset();
        while (p > pr.Match && p >= start && p <= last && _log.TermAt(p) > m.HintTerm)
            p = _log.EntryStart(p) - 1;
        if (p >= start && p < last) p = _log.EntryStart(p + 1) - 1; // round down to an entry end
        pr.Next = Math.Max(p + 1, pr.Match + 1);
        pr.ProbeSent = false;
    }

    /// <summary>Commit = the highest offset held by a majority of voters whose entry is of the current term.</summary>
    private bool MaybeCommit()
    {
        if (Role != RaftRole.Leader) return false;
        int n = 0;
        foreach (int v in _config.Voters)
            _matchBuffer[n++] = v == Id ? _log.LastOffset() : (_progress.TryGetValue(v, out RaftProgress? pr) ? pr.Match : -1);
        Array.Sort(_matchBuffer);
        long quorumMatch = _matchBuffer[_matchBuffer.Length - _config.Quorum];
        if (quorumMatch <= CommitOffset || _log.TermAt(quorumMatch) != Term) return false;
        CommitOffset = quorumMatch;
        return true;
    }

    /// <summary>Tells idle followers about a new commit offset at once instead of at the next heartbeat.</summary>
    private void BroadcastCommit()
    {
        foreach (RaftProgress pr in _progress.Values)
            if (pr.State == ProgressState.Replicate && pr.Match == pr.Next - 1 && pr.Match >= _log.StartOffset - 1)
                Send(new AppendRequest(Id, pr.Id, Term, pr.Match, _log.TermAt(pr.Match), CommitOffset, []));
    }
}

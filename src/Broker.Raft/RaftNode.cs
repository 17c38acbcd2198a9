using Broker.Raft.Messages;

namespace Broker.Raft;

/// <summary>
/// One member of a Raft group as a deterministic, single-threaded state machine (etcd/raft style). The driver
/// feeds it logical time (<see cref="Tick"/>), received messages (<see cref="Step"/>) and proposals, then drains
/// <see cref="GetReady"/>: persist the hard state and log writes, send the messages, apply committed entries.
/// It does no I/O, reads no clock, starts no thread; its only randomness is the seeded <see cref="Random"/> given
/// to it (election timeouts). Rebuilt after a restart from the persisted <see cref="HardState"/>, log and snapshot.
/// </summary>
public sealed partial class RaftNode
{
    public const int NoNode = -1;

    private readonly RaftConfig _config;
    private readonly IRaftLog _log;
    private readonly Random _random;
    private readonly Dictionary<int, RaftProgress> _progress = new();
    private readonly Dictionary<int, bool> _votes = new();
    private readonly List<RaftEntry> _scratch = new();
    private readonly long[] _matchBuffer;
    private int[] _learners;
    private RaftReady _ready = new();
    private HardState _persisted;
    private int _electionElapsed;
    private int _heartbeatElapsed;
    private int _randomizedElectionTimeout;
    private long _applied;

    public RaftNode(RaftConfig config, IRaftLog log, HardState hardState, RaftSnapshot? snapshot, Random random)
    {
        config.Validate();
        _config = config;
        _log = log;
        _random = random;
        _matchBuffer = new long[config.Voters.Length];
        _learners = (int[])config.Learners.Clone();
        Array.Sort(_learners);
        if (snapshot is not null && snapshot.LastOffset >= log.StartOffset)
            throw new ArgumentException($"snapshot at {snapshot.LastOffset} but log starts at {log.StartOffset}");
        Snapshot = snapshot;
        _applied = Math.Max(snapshot?.LastOffset ?? -1, log.StartOffset - 1);
        long commit = hardState.Commit;
        if (commit > log.LogEndOffset - 1)
        {
            // The log lost a committed tail (written without fsync before a crash): start from what is left and let
            // the leader re-replicate it. The lower commit is persisted with the next Ready.
            ClampedCommitFrom = commit;
            commit = log.LogEndOffset - 1;
        }
        Term = hardState.Term;
        VotedFor = hardState.VotedFor;
        CommitOffset = Math.Max(commit, _applied);
        _persisted = hardState;
        BecomeFollower(Term, NoNode);
    }

    public int Id => _config.Id;
    public RaftConfig Config => _config;
    public RaftRole Role { get; private set; }
    public long Term { get; private set; }
    public int VotedFor { get; private set; }
    /// <summary>Known leader of the current term, <see cref="NoNode"/> when unknown.</summary>
    public int LeaderId { get; private set; }
    /// <summary>Last committed offset (-1 none): the partition's high watermark minus one.</summary>
    public long CommitOffset { get; private set; }
    /// <summary>Last offset handed to the application through <see cref="GetReady"/>.</summary>
    public long AppliedOffset => _applied;
    /// <summary>Number of <see cref="Tick"/> calls since this instance was created.</summary>
    public long CurrentTick { get; private set; }
    public IRaftLog Log => _log;
    /// <summary>Latest snapshot (taken locally or installed from the leader).</summary>
    public RaftSnapshot? Snapshot { get; private set; }
    /// <summary>Target of an ongoing leadership transfer, <see cref="NoNode"/> when none.</summary>
    public int LeadTransferee { get; private set; } = NoNode;
    public bool IsLeader => Role == RaftRole.Leader;
    /// <summary>Replication progress of every other member; empty unless leader.</summary>
    public IReadOnlyCollection<RaftProgress> Peers => _progress.Values;
    public HardState HardState => new(Term, VotedFor, CommitOffset);
    /// <summary>The persisted commit offset when it pointed past the end of the log it was restarted with (and was
    /// lowered to the log end); -1 when the log held everything committed. Drivers log it as a warning.</summary>
    public long ClampedCommitFrom { get; } = -1;

    public bool TryGetProgress(int id, out RaftProgress progress) => _progress.TryGetValue(id, out progress!);

    public bool HasReady => !HardState.Equals(_persisted) || !_ready.IsEmpty || CommitOffset > _applied;

    /// <summary>Takes everything produced since the last call (see <see cref="RaftReady"/> for the driver's duties).
    /// The committed entries returned count as applied.</summary>
    public RaftReady GetReady()
    {
        RaftReady ready = _ready;
        _ready = new RaftReady();
        HardState hs = HardState;
        if (!hs.Equals(_persisted))
        {
            ready.HardState = hs;
            _persisted = hs;
        }
        if (CommitOffset > _applied && !_config.DeliverCommittedEntries)
        {
            _applied = CommitOffset;
        }
        else if (CommitOffset > _applied)
        {
            long from = _applied + 1;
            while (from <= CommitOffset)
            {
                _scratch.Clear();
                if (_log.Read(from, int.MaxValue, _scratch) == 0) break;
                foreach (RaftEntry e in _scratch)
                {
                    if (e.FirstOffset > CommitOffset) break;
                    ready.CommittedEntries.Add(e);
                    from = e.LastOffset + 1;
                }
                if (_scratch[^1].FirstOffset > CommitOffset) break;
            }
            _applied = CommitOffset;
        }
        return ready;
    }

    /// <summary>Advances logical time by one tick.</summary>
    public void Tick()
    {
        CurrentTick++;
        if (Role == RaftRole.Leader) TickLeader();
        else TickElection();
    }

    private void TickElection()
    {
        _electionElapsed++;
        if (Role == RaftRole.Learner || !_config.IsVoter(Id)) return;
        if (_electionElapsed >= _randomizedElectionTimeout)
        {
            _electionElapsed = 0;
            Campaign();
        }
    }

    private void TickLeader()
    {
        _electionElapsed++;
        _heartbeatElapsed++;
        if (_electionElapsed >= _config.ElectionTicks)
        {
            _electionElapsed = 0;
            if (_config.CheckQuorum)
            {
                int active = 1;
                foreach (RaftProgress pr in _progress.Values)
                {
                    if (!pr.IsLearner && pr.RecentActive) active++;
                    pr.RecentActive = false;
                }
                if (active < _config.Quorum)
                {
                    BecomeFollower(Term, NoNode);
                    return;
                }
            }
            LeadTransferee = NoNode; // a transfer not done within an election timeout is abandoned
        }
        if (_heartbeatElapsed >= _config.HeartbeatTicks)
        {
            _heartbeatElapsed = 0;
            BroadcastHeartbeat();
        }
    }

    /// <summary>Appends <paramref name="payload"/> as one entry covering <paramref name="offsetCount"/> offsets.
    /// Only the leader accepts; the entry is committed later (watch <see cref="CommitOffset"/>).</summary>
    public ProposeResult Propose(ReadOnlyMemory<byte> payload, int offsetCount = 1)
    {
        if (Role != RaftRole.Leader) return new ProposeResult(ProposeStatus.NotLeader, -1, -1, Term, LeaderId);
        if (LeadTransferee != NoNode) return new ProposeResult(ProposeStatus.TransferInProgress, -1, -1, Term, LeaderId);
        if (offsetCount < 1) return new ProposeResult(ProposeStatus.InvalidProposal, -1, -1, Term, LeaderId);
        var entry = new RaftEntry(Term, _log.LogEndOffset, offsetCount, payload);
        AppendLocal(entry);
        foreach (RaftProgress pr in _progress.Values) SendAppend(pr, allowEmpty: false);
        return new ProposeResult(ProposeStatus.Accepted, entry.FirstOffset, entry.LastOffset, Term, Id);
    }

    /// <summary>Starts handing leadership to voter <paramref name="target"/>: proposals are refused until it ends;
    /// it is abandoned after an election timeout. Returns false when not leader or the target is not another voter.</summary>
    public bool TransferLeadership(int target)
    {
        if (Role != RaftRole.Leader || target == Id || !_config.IsVoter(target)) return false;
        if (LeadTransferee == target) return true;
        LeadTransferee = target;
        _electionElapsed = 0;
        RaftProgress pr = _progress[target];
        if (pr.Match == _log.LastOffset()) Send(new TimeoutNow(Id, target, Term));
        else SendAppend(pr, allowEmpty: true);
        return true;
    }

    /// <summary>Starts an election now (with pre-vote when enabled). Ignored on leaders and learners.</summary>
    public void Campaign() => Campaign(transfer: false);

    /// <summary>Records an application snapshot covering offsets up to <see cref="RaftSnapshot.LastOffset"/> (which
    /// must be applied and end an entry) and drops those entries from the log. The driver persists the snapshot.
    /// The log may already start right after it (its prefix was removed by the application, e.g. Kafka retention):
    /// the snapshot then only tells the leader what to send to peers that are behind the log start.</summary>
    public void CompactLog(RaftSnapshot snapshot)
    {
        if (snapshot.LastOffset > _applied)
            throw new ArgumentException($"snapshot at {snapshot.LastOffset} is beyond applied offset {_applied}");
        if (snapshot.LastOffset < _log.StartOffset - 1) return; // older than the current log start
        if (Snapshot is not null && snapshot.LastOffset <= Snapshot.LastOffset) return; // not newer than the current one
        if (_log.TermAt(snapshot.LastOffset) != snapshot.LastTerm)
            throw new ArgumentException($"snapshot term {snapshot.LastTerm} differs from log term at {snapshot.LastOffset}");
        if (snapshot.LastOffset >= _log.StartOffset) _log.CompactPrefix(snapshot.LastOffset);
        Snapshot = snapshot;
    }

    private void Send(RaftMessage message) => _ready.Messages.Add(message);

    private void MarkLogWritten(long offset)
    {
        if (_ready.LogWrittenFrom < 0 || offset < _ready.LogWrittenFrom) _ready.LogWrittenFrom = offset;
    }

    private void AppendLocal(in RaftEntry entry)
    {
        _log.Append(entry);
        MarkLogWritten(entry.FirstOffset);
        MaybeCommit();
    }

    private void ResetTerm(long term)
    {
        if (term != Term)
        {
            Term = term;
            VotedFor = NoNode;
        }
        LeaderId = NoNode;
        _electionElapsed = 0;
        _heartbeatElapsed = 0;
        _randomizedElectionTimeout = _config.ElectionTicks + _random.Next(_config.ElectionTicks);
        LeadTransferee = NoNode;
        _votes.Clear();
        _progress.Clear();
    }

    private void BecomeFollower(long term, int leader)
    {
        ResetTerm(term);
        LeaderId = leader;
        Role = _config.IsVoter(Id) ? RaftRole.Follower : RaftRole.Learner;
    }

    private void BecomePreCandidate()
    {
        _votes.Clear();
        _progress.Clear();
        LeaderId = NoNode;
        _electionElapsed = 0;
        _randomizedElectionTimeout = _config.ElectionTicks + _random.Next(_config.ElectionTicks);
        Role = RaftRole.PreCandidate;
    }

    private void BecomeCandidate()
    {
        ResetTerm(Term + 1);
        VotedFor = Id;
        Role = RaftRole.Candidate;
    }

    private void BecomeLeader()
    {
        ResetTerm(Term);
        Role = RaftRole.Leader;
        LeaderId = Id;
        long next = _log.LogEndOffset;
        foreach (int v in _config.Voters)
            if (v != Id) _progress[v] = new RaftProgress(v, isLearner: false, next, CurrentTick);
        foreach (int l in _learners)
            if (l != Id) _progress[l] = new RaftProgress(l, isLearner: true, next, CurrentTick);
        // Entries of older terms can only be committed through an entry of the new term (Raft §5.4.2), so a
        // leader whose log holds entries above its commit offset appends a no-op. When everything it has is known
        // committed there is nothing to decide and no no-op is written: the log then carries only what clients
        // produced (a Kafka partition whose first record is at offset 0). A sole voter's log is the committed log.
        long last = _log.LastOffset();
        if (last > CommitOffset)
        {
            if (_config.Voters.Length == 1) CommitOffset = last;
            else AppendLocal(new RaftEntry(Term, _log.LogEndOffset, 1, ReadOnlyMemory<byte>.Empty));
        }
        foreach (RaftProgress pr in _progress.Values) SendAppend(pr, allowEmpty: true);
    }
}

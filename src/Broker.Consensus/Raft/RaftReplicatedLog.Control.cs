using Broker.Raft;

namespace Broker.Consensus.Raft;

// Runtime controls used by the cluster wiring: learners, forced elections, in-sync replicas, retention.
public sealed partial class RaftReplicatedLog
{
    private volatile int _inSyncCount;

    /// <summary>Current learners of the group as this replica knows them (a copy).</summary>
    public IReadOnlyList<int> Learners
    {
        get
        {
            lock (_gate) return _node.Learners.ToArray();
        }
    }

    /// <summary>
    /// Replaces the learner set (non-voting replicas, e.g. the pure brokers of the metadata log); voters never change.
    /// Voter ids in the list are ignored and a replica that is itself a learner stays one. A leader starts
    /// replicating to new learners and forgets removed ones. No-op when the set is unchanged.
    /// </summary>
    public void SetLearners(IReadOnlyList<int> learners)
    {
        ArgumentNullException.ThrowIfNull(learners);
        bool advanced;
        lock (_gate)
        {
            if (_disposed || _failure is not null) return;
            IReadOnlyList<int> before = _node.Learners;
            _node.SetLearners(learners);
            if (ReferenceEquals(before, _node.Learners)) return; // unchanged (the node replaces its array on change)
            advanced = DrainLocked();
        }
        if (advanced) RaiseAdvanced();
    }

    /// <summary>
    /// Starts an election now (with pre-vote when enabled) instead of waiting for a random timeout: the replica the
    /// controller placed as leader of a new partition calls it so leadership matches placement. Ignored when this
    /// replica already leads, is a learner, or the group is stopped.
    /// </summary>
    public void Campaign()
    {
        bool advanced;
        lock (_gate)
        {
            if (_disposed || _failure is not null) return;
            _node.Campaign();
            advanced = DrainLocked();
        }
        if (advanced) RaiseAdvanced();
    }

    /// <summary>
    /// The in-sync replicas as the leader sees them (Kafka's ISR, time based): itself, plus every voter it heard from
    /// within an election timeout that held everything the leader had committed at some tick within the last
    /// <see cref="RaftGroupOptions.ReplicaLagTicks"/> ticks. Sorted; empty when this replica is not leader.
    /// </summary>
    public IReadOnlyList<int> InSyncReplicas()
    {
        lock (_gate)
        {
            if (!_node.IsLeader) return [];
            var result = new List<int> { _node.Id };
            foreach (RaftProgress pr in _node.Peers)
                if (IsInSync(pr)) result.Add(pr.Id);
            result.Sort();
            return result;
        }
    }

    /// <summary>Number of <see cref="InSyncReplicas"/> (0 when not leader), refreshed after every tick and message;
    /// lock-free, for the min.insync.replicas check of every acks=all produce.</summary>
    public int InSyncCount => _inSyncCount;

    /// <summary>The tick at which this replica last became leader.</summary>
    private long _leaderSinceTick;

    private bool IsInSync(RaftProgress pr)
    {
        if (pr.IsLearner) return false;
        long now = _node.CurrentTick;
        // A voter not heard from yet in this term counts as in sync for one election timeout after the election, as
        // a new Kafka leader starts from the ISR it was given: otherwise every acks=all produce right after an
        // election (or a topic's creation) would be refused until the followers' first answers arrive. Commit
        // still needs a majority; this only affects the min.insync.replicas admission check.
        if (pr.LastContactTick < 0 || pr.LastCaughtUpTick < 0) return now - _leaderSinceTick <= _options.ElectionTicks;
        return now - pr.LastContactTick <= _options.ElectionTicks && now - pr.LastCaughtUpTick <= _options.ReplicaLagTicks;
    }

    private void RefreshInSyncCountLocked()
    {
        int count = 0;
        if (_node.IsLeader)
        {
            count = 1;
            foreach (RaftProgress pr in _node.Peers)
                if (IsInSync(pr)) count++;
        }
        _inSyncCount = count;
    }

    /// <summary>
    /// Applies the partition's retention (retention.ms / retention.bytes) to committed data only, then tells Raft the
    /// log now starts later: a replica whose next offset is below it is brought up by a snapshot install, which
    /// restarts its log empty at this log start offset. Returns how many segments were deleted.
    /// </summary>
    public int ApplyRetention(long nowMs)
    {
        lock (_gate)
        {
            if (_disposed || _failure is not null) return 0;
            long highWatermark = _node.CommitOffset + 1; // everything below is committed and (drained) applied
            try
            {
                _raftLog.CheckpointEpochs(); // the term before the new log start must survive a restart
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                Logger.Error($"{Partition}: cannot checkpoint leader epochs; retention skipped", ex);
                return 0;
            }
            int deleted = Log.ApplyRetention(nowMs, highWatermark);
            if (deleted > 0) SyncLogStartLocked();
            return deleted;
        }
    }

    /// <summary>
    /// Tells Raft that the log now starts at the partition log's oldest stored offset (a snapshot with an empty
    /// payload ends right before it), so lagging replicas get a snapshot install. Also catches retention applied to
    /// the partition log directly (checked on every tick); that path cannot bound retention by the high watermark, so
    /// the new start is only adopted once it is committed. (Kafka's log start offset, which DeleteRecords moves inside
    /// the stored data, is replicated separately: see RaftReplicatedLog.LogStart.cs.)
    /// </summary>
    private void SyncLogStartLocked()
    {
        long snapshotEnd = Log.StoredStartOffset - 1;
        if (snapshotEnd < 0 || snapshotEnd <= (_node.Snapshot?.LastOffset ?? -1) || snapshotEnd > _node.AppliedOffset) return;
        try
        {
            _raftLog.CheckpointEpochs();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Logger.Warn($"{Partition}: cannot checkpoint leader epochs: {ex.Message}");
        }
        _node.CompactLog(new RaftSnapshot(snapshotEnd, _raftLog.TermAt(snapshotEnd), ReadOnlyMemory<byte>.Empty));
    }
}

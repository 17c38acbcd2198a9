using Broker.Core.Model;
using Broker.Raft;
using Broker.Raft.Messages;

namespace Broker.Consensus.Raft;

// Draining RaftReady (persist, send, advance the high watermark) and commit waiters.
public sealed partial class RaftReplicatedLog
{
    /// <summary>Pending commit waiters by offset; all registered while leader of <see cref="_waitersTerm"/>.</summary>
    private readonly PriorityQueue<TaskCompletionSource<ErrorCode>, long> _waiters = new();
    private long _waitersTerm = -1;
    private HardState _savedHardState;
    private HardState? _deferredHardState;
    private int _ticksSinceCommitPersist;

    /// <summary>Runs the driver's duties for everything the node produced; true when the high watermark moved.</summary>
    private bool DrainLocked()
    {
        try
        {
            while (_node.HasReady)
            {
                RaftReady ready = _node.GetReady();
                // 1. Durability before anything leaves the node: log first (so a persisted commit never points past
                //    the durable log), then term/vote/commit. The topic's write.caching=false asks for the same fsync
                //    as FlushOnWrite; it is read per drain so a config change applies without reopening the group.
                //    The high watermark (and with it every acks=all answer) only moves below, after this flush, and a
                //    follower's AppendResponse is only sent after it: no replica counts an unsynced batch.
                if (ready.LogWrittenFrom >= 0 && (_options.FlushOnWrite || !Log.Options.WriteCaching)) Log.Flush();
                if (ready.HardState is { } hs) PersistHardStateLocked(hs);
                if (ready.Snapshot is { } snap)
                    Logger.Info($"{Partition}: node {_node.Id} installed the leader's snapshot; log now starts at {snap.LastOffset + 1}");
                // 2. Messages (the transport never blocks), carrying this replica's log start offset.
                long logStart = ready.Messages.Count > 0 ? Log.LogStartOffset : -1;
                foreach (RaftMessage m in ready.Messages)
                {
                    StampLogStart(m, logStart);
                    _transport.Send(Log.Partition, m);
                }
                // 3. Committed entries are already in the partition log; the commit offset is the high watermark.
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ObjectDisposedException)
        {
            // A replica that cannot persist must not keep voting or acknowledging: stop the group.
            Volatile.Write(ref _failure, ex);
            Logger.Error($"{Partition}: node {_node.Id} stops replicating after a storage failure", ex);
            _isLeader = false;
            FailWaitersLocked(ErrorCode.NotLeaderOrFollower);
            return false;
        }

        Volatile.Write(ref _term, _node.Term);
        _leaderId = _node.LeaderId;
        if (_node.IsLeader && !_isLeader) _leaderSinceTick = _node.CurrentTick;
        if (_isLeader != _node.IsLeader)
            Logger.Info(_node.IsLeader
                ? $"{Partition}: node {_node.Id} is leader for term {_node.Term}"
                : $"{Partition}: node {_node.Id} is no longer leader (term {_node.Term}, leader {_node.LeaderId})");
        _isLeader = _node.IsLeader;
        RefreshInSyncCountLocked();
        if (_waiters.Count > 0 && (!_node.IsLeader || _node.Term != _waitersTerm))
            FailWaitersLocked(ErrorCode.NotLeaderOrFollower); // uncommitted entries of that term may be truncated
        if (_logStartWaiters.Count > 0) CompleteLogStartWaitersLocked();

        long hw = _node.CommitOffset + 1;
        if (hw <= _highWatermark) return false;
        Volatile.Write(ref _highWatermark, hw);
        while (_waiters.TryPeek(out var waiter, out long offset) && offset < hw)
        {
            _waiters.Dequeue();
            waiter.TrySetResult(ErrorCode.None);
        }
        return true;
    }

    /// <summary>
    /// Term and vote go to disk (fsynced) before the messages of the same ready are sent. A commit-only change is
    /// remembered and written by <see cref="FlushDeferredHardStateLocked"/> (a tick later, or at close): persisting
    /// every commit advance would fsync once per produce.
    /// </summary>
    private void PersistHardStateLocked(HardState hs)
    {
        if (hs.Term != _savedHardState.Term || hs.VotedFor != _savedHardState.VotedFor)
        {
            _hardStateStore.Save(hs);
            _savedHardState = hs;
            _deferredHardState = null;
        }
        else if (hs.Commit != _savedHardState.Commit) _deferredHardState = hs;
    }

    /// <summary>Writes a deferred commit-only hard state when due (<paramref name="force"/>: now).</summary>
    private void FlushDeferredHardStateLocked(bool force)
    {
        if (_deferredHardState is not { } hs) return;
        if (!force && ++_ticksSinceCommitPersist < _options.CommitPersistTicks) return;
        _ticksSinceCommitPersist = 0;
        _hardStateStore.Save(hs);
        _savedHardState = hs;
        _deferredHardState = null;
    }

    private void FailWaitersLocked(ErrorCode error)
    {
        while (_waiters.TryDequeue(out var waiter, out _)) waiter.TrySetResult(error);
        FailLogStartWaitersLocked(error);
    }

    public ValueTask<ErrorCode> WaitForCommitAsync(long offset, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        if (offset < HighWatermark) return ValueTask.FromResult(ErrorCode.None);
        TaskCompletionSource<ErrorCode> waiter;
        lock (_gate)
        {
            if (offset < _highWatermark) return ValueTask.FromResult(ErrorCode.None);
            // Not leader: the entry (if any) may be replaced by the current leader's, so commit cannot be promised.
            if (_disposed || _failure is not null || !_node.IsLeader) return ValueTask.FromResult(ErrorCode.NotLeaderOrFollower);
            // An offset never appended cannot commit through this wait (as LocalReplicatedLog answers).
            if (offset >= _raftLog.LogEndOffset) return ValueTask.FromResult(ErrorCode.RequestTimedOut);
            waiter = new TaskCompletionSource<ErrorCode>(TaskCreationOptions.RunContinuationsAsynchronously);
            _waitersTerm = _node.Term;
            _waiters.Enqueue(waiter, offset);
        }
        return AwaitWaiter(waiter.Task, timeout, cancellationToken);
    }

    private static async ValueTask<ErrorCode> AwaitWaiter(Task<ErrorCode> task, TimeSpan timeout, CancellationToken cancellationToken)
    {
        try
        {
            return await task.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            return ErrorCode.RequestTimedOut;
        }
    }
}

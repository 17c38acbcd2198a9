using Broker.Core.Model;
using Broker.Raft;
using Broker.Raft.Messages;

namespace Broker.Consensus.Raft;

// Kafka's log start offset across the replicas of a group (DeleteRecords), and leader-epoch end offsets.
//
// Replication of the log start offset: every AppendEntries request and response this driver sends carries its
// partition log's start offset (stamped on the way out; the Raft core ignores the field). A receiver adopts a larger
// value up to its own commit offset + 1: the committed prefix is the same on every replica, and a log start offset
// is only ever set at or below a high watermark, so adopting it can never hide an uncommitted record. Followers
// learn the leader's value within a heartbeat (as Kafka followers learn it from fetch responses); the leader records
// each follower's value from its responses, and also adopts a larger one, so a new leader elected without it learns
// it back from any replica that has it. The value is persisted by the partition log before it is visible.
// DeleteRecords on the leader moves its own log start first, then completes once every in-sync voter acknowledged
// a message carrying it (or fails on timeout or loss of leadership).
public sealed partial class RaftReplicatedLog
{
    /// <summary>Last log start offset each peer reported in an append response (leader side).</summary>
    private readonly Dictionary<int, long> _peerLogStart = new();
    private readonly List<LogStartWaiter> _logStartWaiters = new();

    /// <summary>
    /// Kafka's DeleteRecords as leader: moves the log start offset to <paramref name="offset"/> (-1: the high
    /// watermark) and waits until every in-sync replica has it, at most <paramref name="timeout"/>. Errors:
    /// NOT_LEADER_OR_FOLLOWER (not leader, or leadership lost while waiting), OFFSET_OUT_OF_RANGE (negative or above
    /// the high watermark), REQUEST_TIMED_OUT (the in-sync replicas did not all confirm in time; the leader's own log
    /// start has moved), KAFKA_STORAGE_ERROR (the checkpoint could not be written). The low watermark is the leader's
    /// log start offset afterwards (-1 on NOT_LEADER_OR_FOLLOWER).
    /// </summary>
    public async ValueTask<DeleteRecordsResult> DeleteRecordsAsync(long offset, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        LogStartWaiter waiter;
        lock (_gate)
        {
            if (_disposed || _failure is not null || !_node.IsLeader) return DeleteRecordsResult.NotLeader;
            long highWatermark = _highWatermark;
            long target = offset == -1 ? highWatermark : offset;
            if (target < 0 || target > highWatermark)
                return new DeleteRecordsResult(ErrorCode.OffsetOutOfRange, Log.LogStartOffset,
                    $"offset {offset} is outside [0, {highWatermark}] (the high watermark; -1 means the high watermark)");
            try
            {
                Log.AdvanceLogStartOffset(target);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                Logger.Error($"{Partition}: cannot persist the log start offset {target}", ex);
                return new DeleteRecordsResult(ErrorCode.KafkaStorageError, Log.LogStartOffset, ex.Message);
            }
            if (ReplicatedLogStartLocked() >= target) return new DeleteRecordsResult(ErrorCode.None, Log.LogStartOffset);
            waiter = new LogStartWaiter(target);
            _logStartWaiters.Add(waiter);
        }
        ErrorCode error;
        try
        {
            error = await waiter.Completion.Task.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            error = ErrorCode.RequestTimedOut;
        }
        finally
        {
            lock (_gate) _logStartWaiters.Remove(waiter);
        }
        if (error == ErrorCode.NotLeaderOrFollower) return DeleteRecordsResult.NotLeader;
        return new DeleteRecordsResult(error, Log.LogStartOffset,
            error == ErrorCode.RequestTimedOut ? "not every in-sync replica confirmed the new log start offset in time" : null);
    }

    /// <summary>
    /// Kafka's OffsetsForLeaderEpoch as leader: the largest epoch at or below <paramref name="requestedEpoch"/> and
    /// its end offset (the start of the next epoch, or the log end offset for the current one); (-1, -1) when the
    /// epoch is unknown (above the current one, or below the epoch at the log start). NOT_LEADER_OR_FOLLOWER when
    /// this replica does not lead.
    /// </summary>
    public (ErrorCode Error, int Epoch, long EndOffset) EndOffsetForEpoch(int requestedEpoch)
    {
        lock (_gate)
        {
            if (_disposed || _failure is not null || !_node.IsLeader) return (ErrorCode.NotLeaderOrFollower, -1, -1);
            var (epoch, endOffset) = _raftLog.EndOffsetForEpoch(requestedEpoch, Log.LogStartOffset, _node.Term);
            return (ErrorCode.None, epoch, endOffset);
        }
    }

    /// <summary>Each voter's last reported log start offset (leader side; -1 when none yet). Diagnostics and tests.</summary>
    public IReadOnlyDictionary<int, long> PeerLogStartOffsets()
    {
        lock (_gate) return new Dictionary<int, long>(_peerLogStart);
    }

    private static void StampLogStart(RaftMessage message, long logStart)
    {
        if (message is AppendRequest request) request.LogStartOffset = logStart;
        else if (message is AppendResponse response) response.LogStartOffset = logStart;
    }

    /// <summary>Learns a peer's log start offset from a received message (see the file comment).</summary>
    private void ObserveLogStartLocked(RaftMessage message)
    {
        long reported;
        if (message is AppendRequest request) reported = request.LogStartOffset;
        else if (message is AppendResponse response)
        {
            reported = response.LogStartOffset;
            if (reported >= 0 && _node.IsLeader) _peerLogStart[response.From] = reported;
        }
        else return;
        if (reported <= Log.LogStartOffset) return;
        long adoptable = Math.Min(Math.Min(reported, _node.CommitOffset + 1), Log.LogEndOffset);
        if (adoptable <= Log.LogStartOffset) return;
        try
        {
            Log.AdvanceLogStartOffset(adoptable);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Logger.Warn($"{Partition}: cannot persist the log start offset {adoptable} learned from node {message.From}: {ex.Message}");
        }
    }

    /// <summary>The log start offset every in-sync voter is known to have: the minimum of the leader's own and its
    /// in-sync followers' reports (a follower that has not reported yet counts as -1).</summary>
    private long ReplicatedLogStartLocked()
    {
        long min = Log.LogStartOffset;
        foreach (RaftProgress pr in _node.Peers)
        {
            if (pr.IsLearner || !IsInSync(pr)) continue;
            min = Math.Min(min, _peerLogStart.TryGetValue(pr.Id, out long reported) ? reported : -1);
        }
        return min;
    }

    /// <summary>After every drain: completes the DeleteRecords waits that are now replicated, fails them all when
    /// this replica no longer leads.</summary>
    private void CompleteLogStartWaitersLocked()
    {
        if (!_node.IsLeader)
        {
            FailLogStartWaitersLocked(ErrorCode.NotLeaderOrFollower);
            return;
        }
        long replicated = ReplicatedLogStartLocked();
        for (int i = _logStartWaiters.Count - 1; i >= 0; i--)
        {
            if (_logStartWaiters[i].Target > replicated) continue;
            _logStartWaiters[i].Completion.TrySetResult(ErrorCode.None);
            _logStartWaiters.RemoveAt(i);
        }
    }

    private void FailLogStartWaitersLocked(ErrorCode error)
    {
        foreach (var waiter in _logStartWaiters) waiter.Completion.TrySetResult(error);
        _logStartWaiters.Clear();
    }

    private sealed class LogStartWaiter(long target)
    {
        public long Target { get; } = target;
        public TaskCompletionSource<ErrorCode> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}

/// <summary>Outcome of <see cref="RaftReplicatedLog.DeleteRecordsAsync"/>: an error code, the partition's low
/// watermark (its log start offset; -1 when unknown) and an optional reason.</summary>
public readonly record struct DeleteRecordsResult(ErrorCode Error, long LowWatermark, string? Message = null)
{
    public static DeleteRecordsResult NotLeader => new(ErrorCode.NotLeaderOrFollower, -1);
}

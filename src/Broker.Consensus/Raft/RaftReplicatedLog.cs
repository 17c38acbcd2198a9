using System.Collections.Concurrent;
using Broker.Core.Diagnostics;
using Broker.Core.Model;
using Broker.Core.Records;
using Broker.Raft;
using Broker.Raft.Messages;
using Broker.Storage;

namespace Broker.Consensus.Raft;

/// <summary>
/// An <see cref="IReplicatedLog"/> replicated by a Raft group: the runtime around one <see cref="RaftNode"/> whose
/// log is the partition log (<see cref="PartitionRaftLog"/>). One logical executor per group: every input (a tick of
/// the shared <see cref="RaftTicker"/>, messages from <see cref="IRaftTransport"/> queued and processed on the
/// ThreadPool, <see cref="Append"/> from produce) runs under the group's lock and is followed by a drain of the
/// node's <see cref="RaftReady"/>: flush the log and persist the hard state, then send messages, then advance the
/// high watermark (commit + 1, never backwards) and complete commit waiters. Idempotent batches are checked against
/// the partition log's producer state before they are proposed (duplicates answer with the original offsets).
/// </summary>
public sealed partial class RaftReplicatedLog : IReplicatedLog
{
    private static readonly Logger Logger = Broker.Core.Diagnostics.Log.For("raft");
    private const int MaxMessagesPerTurn = 256;

    private readonly object _gate = new();
    private readonly RaftGroupOptions _options;
    private readonly IRaftTransport _transport;
    private readonly RaftTicker? _ticker;
    private readonly PartitionRaftLog _raftLog;
    private readonly FileHardStateStore _hardStateStore;
    private readonly RaftNode _node;
    private readonly IDisposable _subscription;
    private readonly ConcurrentQueue<RaftMessage> _inbox = new();
    private readonly InboxWorker _inboxWorker;
    private readonly BorrowedMemory _proposal = new(); // the caller's batches, pinned, while Append proposes them
    private int _inboxScheduled;
    private long _highWatermark;
    private long _term;
    private volatile bool _isLeader;
    private volatile bool _quiet;
    private volatile int _leaderId = RaftNode.NoNode;
    private volatile bool _disposed;
    private Exception? _failure;

    /// <summary>
    /// Opens the group's replica over <paramref name="log"/> (which it then owns): loads the hard state from
    /// <see cref="RaftGroupOptions.StateDirectory"/>, subscribes to <paramref name="transport"/> and registers with
    /// <paramref name="ticker"/> (when null, the caller drives <see cref="Tick"/>). A one-voter group elects itself at once.
    /// </summary>
    public RaftReplicatedLog(IPartitionLog log, IRaftTransport transport, RaftGroupOptions options, RaftTicker? ticker)
    {
        ArgumentNullException.ThrowIfNull(log);
        ArgumentNullException.ThrowIfNull(transport);
        ArgumentNullException.ThrowIfNull(options);
        Log = log;
        _options = options;
        _transport = transport;
        _ticker = ticker;
        if (options.ReplicaLagTicks < 1) throw new ArgumentOutOfRangeException(nameof(options), "ReplicaLagTicks must be positive");
        _raftLog = new PartitionRaftLog(log, options.Clock, checkpoint: new EpochCheckpointFile(options.StateDirectory));
        _hardStateStore = new FileHardStateStore(options.StateDirectory);
        HardState hardState = _hardStateStore.Load();
        _savedHardState = hardState;
        var random = new Random(options.RandomSeed ?? Random.Shared.Next());
        // Data below the stored start was removed by retention (or replaced by an installed snapshot): the leader
        // must know a snapshot ends right before it, to bring lagging replicas up by a snapshot install.
        long start = log.StoredStartOffset;
        RaftSnapshot? snapshot = start > 0 ? new RaftSnapshot(start - 1, _raftLog.TermAt(start - 1), ReadOnlyMemory<byte>.Empty) : null;
        _node = new RaftNode(options.ToRaftConfig(), _raftLog, hardState, snapshot, random);
        if (_node.ClampedCommitFrom >= 0)
            Logger.Warn($"{log.Partition}: node {options.NodeId}: persisted commit offset {_node.ClampedCommitFrom} is beyond the " +
                        $"log end {log.LogEndOffset} (unflushed data lost in a crash); continuing from commit {_node.CommitOffset}, " +
                        "the leader re-replicates the rest");
        _highWatermark = _node.CommitOffset + 1;
        _inboxWorker = new InboxWorker(this);
        lock (_gate)
        {
            if (options.Voters.Count == 1 && options.Voters[0] == options.NodeId) _node.Campaign();
            DrainLocked();
        }
        _subscription = transport.Subscribe(log.Partition, OnMessage);
        ticker?.Register(this);
    }

    public TopicPartition Partition => Log.Partition;
    public IPartitionLog Log { get; }
    public int NodeId => _options.NodeId;
    public bool IsLeader => _isLeader;
    public int LeaderEpoch => (int)Volatile.Read(ref _term);
    /// <summary>Current Raft term (= <see cref="LeaderEpoch"/>).</summary>
    public long Term => Volatile.Read(ref _term);
    /// <summary>Leader of the current term as far as this replica knows, -1 when unknown.</summary>
    public int LeaderId => _leaderId;
    public long HighWatermark => Volatile.Read(ref _highWatermark);
    /// <summary>The Raft view of the log (epoch cache; diagnostics and tests).</summary>
    public PartitionRaftLog RaftLog => _raftLog;
    /// <summary>Set when the group stopped after an I/O failure it cannot recover from (it then refuses appends).</summary>
    public Exception? Failure => Volatile.Read(ref _failure);

    /// <summary>
    /// True (as of the last tick) while this replica leads a group with no peers: the only voter and no learners.
    /// Such a group sends no heartbeats and times no election, so its ticks only persist the commit hint and follow
    /// retention; <see cref="RaftTicker"/> ticks it less often (10k single-node partitions would otherwise cost a
    /// steady share of a core). Lock-free.
    /// </summary>
    public bool IsQuiet => _quiet;

    public event Action<IReplicatedLog>? HighWatermarkAdvanced;

    public unsafe ReplicatedAppendResult Append(ReadOnlySpan<byte> batches, long? logAppendTimeMs = null)
    {
        if (batches.IsEmpty) throw new ArgumentException("nothing to append", nameof(batches));
        CheckFraming(batches);
        long first = -1, last = -1;
        bool advanced;
        lock (_gate)
        {
            if (_disposed || _failure is not null || !_node.IsLeader) return NotLeader();
            // Idempotence: checked against the state of everything in the local log (committed or not), atomically
            // with the proposal since every append to this log happens under _gate.
            var check = Log.CheckProducerState(batches);
            if (!check.IsAccepted) return ReplicatedAppendResult.FromProducerCheck(check, logAppendTimeMs);
            fixed (byte* pinned = batches)
            {
                // Entries are written to the partition log inside Propose: no copy of the request's bytes is kept.
                Memory<byte> proposal = _proposal.Lend(pinned, batches.Length);
                try
                {
                    int pos = 0;
                    while (pos < batches.Length)
                    {
                        RecordBatchHeader.TryRead(batches[pos..], out var header);
                        _raftLog.NextAppendTimeMs = logAppendTimeMs;
                        ProposeResult r = _node.Propose(proposal.Slice(pos, header.TotalSize), header.LastOffsetDelta + 1);
                        _raftLog.NextAppendTimeMs = null;
                        if (!r.Accepted)
                        {
                            if (first < 0) return r.Status == ProposeStatus.InvalidProposal ? Failed(ErrorCode.CorruptMessage) : NotLeader();
                            break; // cannot happen: the role does not change within this lock
                        }
                        if (first < 0) first = r.FirstOffset;
                        last = r.LastOffset;
                        pos += header.TotalSize;
                    }
                }
                finally
                {
                    _proposal.Return();
                }
            }
            advanced = DrainLocked();
        }
        if (advanced) RaiseAdvanced();
        return new ReplicatedAppendResult(ErrorCode.None, first, last, logAppendTimeMs ?? -1);
    }

    private static ReplicatedAppendResult NotLeader() => Failed(ErrorCode.NotLeaderOrFollower);
    private static ReplicatedAppendResult Failed(ErrorCode error) => new(error, -1, -1, -1);

    /// <summary>Checks that the input is whole v2 batches before anything is proposed (callers validated CRCs).</summary>
    private static void CheckFraming(ReadOnlySpan<byte> batches)
    {
        int pos = 0, index = 0;
        while (pos < batches.Length)
        {
            if (!RecordBatchHeader.TryRead(batches[pos..], out var header) || header.Magic != 2
                || header.BatchLength < RecordBatchHeader.Size - RecordBatchHeader.LogOverhead
                || header.TotalSize > batches.Length - pos || header.LastOffsetDelta < 0)
                throw new ArgumentException($"batch {index} at byte {pos} is truncated or malformed", nameof(batches));
            pos += header.TotalSize;
            index++;
        }
    }

    /// <summary>Advances this group's logical clock by one tick (called by <see cref="RaftTicker"/>).</summary>
    public void Tick()
    {
        bool advanced;
        lock (_gate)
        {
            if (_disposed || _failure is not null) return;
            SyncLogStartLocked();
            _node.Tick();
            advanced = DrainLocked();
            TryFlushDeferredHardStateLocked(force: false);
            _quiet = _node.IsLeader && _node.Peers.Count == 0;
        }
        if (advanced) RaiseAdvanced();
    }

    /// <summary>Starts handing leadership to <paramref name="target"/> (controlled shutdown, rebalancing); appends are
    /// refused until it ends. False when this replica is not leader or the target is not another voter.</summary>
    public bool TransferLeadership(int target)
    {
        bool accepted, advanced;
        lock (_gate)
        {
            if (_disposed || _failure is not null) return false;
            accepted = _node.TransferLeadership(target);
            advanced = DrainLocked();
        }
        if (advanced) RaiseAdvanced();
        return accepted;
    }

    private void TryFlushDeferredHardStateLocked(bool force)
    {
        try { FlushDeferredHardStateLocked(force); }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Logger.Warn($"{Partition}: saving the commit index failed ({ex.Message}); it is only a hint, retrying later");
        }
    }

    private void OnMessage(RaftMessage message)
    {
        if (_disposed) return;
        _inbox.Enqueue(message);
        if (Interlocked.Exchange(ref _inboxScheduled, 1) == 0)
            ThreadPool.UnsafeQueueUserWorkItem(_inboxWorker, preferLocal: false);
    }

    private void ProcessInbox()
    {
        while (true)
        {
            bool advanced = false;
            lock (_gate)
            {
                if (!_disposed && _failure is null)
                {
                    int n = 0;
                    while (n++ < MaxMessagesPerTurn && _inbox.TryDequeue(out RaftMessage? m))
                    {
                        StepSafely(m);
                        ObserveLogStartLocked(m);
                    }
                    advanced = DrainLocked();
                }
                else _inbox.Clear();
            }
            if (advanced) RaiseAdvanced();
            if (!_inbox.IsEmpty) continue;
            Volatile.Write(ref _inboxScheduled, 0);
            // A message enqueued after the emptiness check but before the reset would be stranded: look again.
            if (_inbox.IsEmpty || Interlocked.Exchange(ref _inboxScheduled, 1) == 1) return;
        }
    }

    private void StepSafely(RaftMessage m)
    {
        try
        {
            _node.Step(m);
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or NotSupportedException)
        {
            // A message the log cannot take (e.g. a snapshot install the storage cannot do): log it and go on;
            // Raft's retries bring the message back, so the condition stays visible in the log.
            Logger.Error($"{Partition}: node {_node.Id} could not process {m.Type} from {m.From}", ex);
        }
    }

    private void RaiseAdvanced()
    {
        try
        {
            HighWatermarkAdvanced?.Invoke(this);
        }
        catch (Exception ex)
        {
            Logger.Error($"{Partition}: high watermark handler failed", ex);
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            _isLeader = false;
            if (_failure is null) TryFlushDeferredHardStateLocked(force: true);
            FailWaitersLocked(ErrorCode.NotLeaderOrFollower);
        }
        _ticker?.Unregister(this);
        _subscription.Dispose();
        Log.Dispose();
    }

    public override string ToString() =>
        $"raft {Partition} node {_options.NodeId} term {Term} leader {LeaderId} hw {HighWatermark} leo {Log.LogEndOffset}";

    private sealed class InboxWorker(RaftReplicatedLog owner) : IThreadPoolWorkItem
    {
        public void Execute() => owner.ProcessInbox();
    }
}

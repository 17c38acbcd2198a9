using System.Collections.Concurrent;
using Broker.Consensus;
using Broker.Core.Diagnostics;
using Broker.Core.Model;
using Broker.Groups.Internal;

namespace Broker.Groups;

/// <summary>
/// Kafka's classic group coordinator (GroupCoordinator / GroupMetadataManager semantics) for the groups whose
/// __consumer_offsets partition this node leads. Group state lives in memory, one lock per group; everything that
/// must survive a coordinator move (offset commits, group generations and assignments) is written to the offsets
/// partition in Kafka's record formats and replayed when leadership arrives. Waiting calls (JoinGroup during a
/// rebalance, follower SyncGroup) are TaskCompletionSources answered by whichever event completes them; timers
/// (sessions, rebalance and initial delays, offset expiry) and partition ownership are checked by
/// <see cref="RunMaintenance"/>, which <see cref="Start"/> runs every <see cref="GroupCoordinatorOptions.MaintenanceIntervalMs"/>.
/// The parts: .Join (JoinGroup), .Rebalance (state machine and timers), .Membership (SyncGroup, Heartbeat,
/// LeaveGroup), .Offsets (commit, fetch), .Cleanup (expiry, deletes), .Admin (describe, list), .Loading
/// (ownership), .Writes (appends to the offsets topic).
/// </summary>
public sealed partial class GroupCoordinator : IAsyncDisposable
{
    /// <summary>Kafka's NewMemberJoinTimeoutMs: a new member waiting in a rebalance is dropped after this.</summary>
    public const int NewMemberJoinTimeoutMs = 5 * 60 * 1000;

    private static readonly Logger Logger = Log.For("groups");

    private readonly IOffsetsTopic _offsets;
    private readonly IClock _clock;
    private readonly ConcurrentDictionary<int, OffsetsPartition> _partitions = new();
    private readonly Lock _maintenanceGate = new();
    /// <summary>Reused by maintenance passes (which never overlap) to walk a partition's groups.</summary>
    private readonly List<Group> _maintenanceGroups = [];
    private readonly CancellationTokenSource _stop = new();
    private Task? _loop;
    private long _nextExpiryCheckMs;
    private bool _disposed;

    public GroupCoordinator(GroupCoordinatorOptions options, IOffsetsTopic offsets, IClock clock)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(offsets);
        ArgumentNullException.ThrowIfNull(clock);
        if (options.OffsetsTopicPartitions <= 0) throw new ArgumentException("OffsetsTopicPartitions must be positive", nameof(options));
        if (options.MaintenanceIntervalMs <= 0) throw new ArgumentException("MaintenanceIntervalMs must be positive", nameof(options));
        if (options.GroupMinSessionTimeoutMs > options.GroupMaxSessionTimeoutMs)
            throw new ArgumentException("GroupMinSessionTimeoutMs is above GroupMaxSessionTimeoutMs", nameof(options));
        Options = options;
        _offsets = offsets;
        _clock = clock;
        _nextExpiryCheckMs = clock.MonotonicMilliseconds + options.OffsetsRetentionCheckIntervalMs;
    }

    public GroupCoordinatorOptions Options { get; }

    private long MonotonicNow => _clock.MonotonicMilliseconds;
    private long WallNow => _clock.UnixTimeMilliseconds;

    /// <summary>Starts the maintenance loop (timers, loading/unloading groups as offsets-partition leadership moves).</summary>
    public void Start()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_loop is not null) return;
        _loop = Task.Run(() => RunLoopAsync(_stop.Token));
    }

    /// <summary>
    /// One maintenance pass: picks up or drops offsets partitions as their leadership changed (loading runs on the
    /// thread pool), fires expired timers of every loaded group and, every OffsetsRetentionCheckIntervalMs,
    /// expires old offsets. The loop calls it; tests with a manual clock call it directly.
    /// </summary>
    public void RunMaintenance()
    {
        lock (_maintenanceGate)
        {
            if (_disposed) return;
            long now = MonotonicNow;
            try { UpdateOwnership(now); }
            catch (Exception ex) { Logger.Error("updating __consumer_offsets ownership failed", ex); }
            foreach (var p in _partitions.Values)
            {
                if (!p.Loaded || !IsOwned(p)) continue;
                p.SnapshotInto(_maintenanceGroups);
                foreach (var group in _maintenanceGroups)
                {
                    try
                    {
                        lock (group.Gate) CheckTimersLocked(group, now);
                    }
                    catch (Exception ex) { Logger.Error($"timers of {group} failed", ex); }
                }
            }
            _maintenanceGroups.Clear();
            if (now >= _nextExpiryCheckMs)
            {
                _nextExpiryCheckMs = now + Options.OffsetsRetentionCheckIntervalMs;
                ExpireOffsets();
            }
        }
    }

    /// <summary>The __consumer_offsets partition of a group: abs(Java String.hashCode(groupId)) % partition count.</summary>
    public int PartitionFor(string groupId)
    {
        ArgumentNullException.ThrowIfNull(groupId);
        int count = _offsets.PartitionCount;
        if (count <= 0) count = Options.OffsetsTopicPartitions;
        return JavaAbs(JavaHashCode(groupId)) % count;
    }

    /// <summary>None when this node coordinates <paramref name="groupId"/> and has loaded its partition;
    /// NOT_COORDINATOR or COORDINATOR_LOAD_IN_PROGRESS otherwise.</summary>
    public ErrorCode CheckCoordinator(string groupId) => Resolve(groupId ?? "", out _);

    /// <summary>Java's String.hashCode over UTF-16 code units (what Kafka places groups by).</summary>
    internal static int JavaHashCode(string s)
    {
        int h = 0;
        foreach (char c in s) h = unchecked(31 * h + c);
        return h;
    }

    /// <summary>Kafka's Utils.abs: Int.MinValue maps to 0 instead of staying negative.</summary>
    internal static int JavaAbs(int n) => n == int.MinValue ? 0 : Math.Abs(n);

    /// <summary>The loaded partition coordinating <paramref name="groupId"/>, or why there is none.</summary>
    private ErrorCode Resolve(string groupId, out OffsetsPartition partition)
    {
        int index = PartitionFor(groupId);
        var replica = CurrentReplica(index);
        if (_partitions.TryGetValue(index, out var p))
        {
            partition = p;
            if (IsOwned(p, replica)) return p.Loaded ? ErrorCode.None : ErrorCode.CoordinatorLoadInProgress;
        }
        else
        {
            partition = null!;
        }
        // Leader of an epoch the next maintenance pass has yet to load, or not leader at all.
        return replica is { IsLeader: true } ? ErrorCode.CoordinatorLoadInProgress : ErrorCode.NotCoordinator;
    }

    private IReplicatedLog? CurrentReplica(int index) => index < _offsets.PartitionCount ? _offsets.Replica(index) : null;

    /// <summary>The partition's replica is still the topic's replica, leader of the epoch the partition was loaded for.</summary>
    private static bool IsOwned(OffsetsPartition partition, IReplicatedLog? current) =>
        partition.IsCurrentLeader && ReferenceEquals(partition.Replica, current);

    private bool IsOwned(OffsetsPartition partition) => IsOwned(partition, CurrentReplica(partition.Index));

    /// <summary>What to answer for a group found Dead: deleted (and possibly recreated) or unloaded with its partition.</summary>
    private static ErrorCode DeadGroupError(Group group) =>
        group.Partition.Active ? ErrorCode.CoordinatorNotAvailable : ErrorCode.NotCoordinator;

    private async Task RunLoopAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(Options.MaintenanceIntervalMs));
        try
        {
            RunMaintenance();
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false)) RunMaintenance();
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed) return;
        _stop.Cancel();
        if (_loop is not null) await _loop.ConfigureAwait(false);
        lock (_maintenanceGate)
        {
            _disposed = true;
            foreach (var p in _partitions.Values) Unload(p, "coordinator shutting down");
        }
        _stop.Dispose();
    }
}

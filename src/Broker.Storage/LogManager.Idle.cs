using System.Diagnostics.CodeAnalysis;

namespace Broker.Storage;

/// <summary>
/// Bounds on what the partition logs keep open, enforced by <see cref="LogManager.SweepIdle(long)"/>: a write handle
/// (one fd) or a mapping (one entry of vm.max_map_count) unused for <see cref="IdleTimeout"/> is closed, and when
/// more than <see cref="MaxOpenWriters"/> / <see cref="MaxMappedSegments"/> are open, the least recently used ones
/// are closed down to the cap. Caps are soft: between two sweeps a burst of appends to many partitions can open more.
/// </summary>
public sealed record IdleHandlePolicy
{
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromSeconds(60);
    public int MaxOpenWriters { get; init; } = 1000;
    public int MaxMappedSegments { get; init; } = 16384;
    /// <summary>Time between two sweeps of <see cref="LogManager.StartIdleSweeper"/>.</summary>
    public TimeSpan SweepInterval { get; init; } = TimeSpan.FromSeconds(1);

    public static IdleHandlePolicy Default { get; } = new();
}

/// <summary>What one sweep found open and what it closed.</summary>
public readonly record struct IdleSweepResult(int OpenWriters, int ClosedWriters, int MappedSegments, int ReleasedMappings);

/// <summary>
/// Idle handle closing for every log of this manager. One sweep walks the segments that hold a write handle or a
/// mapping (a lock-free read per log), closes the idle ones, then the least recently used ones above the caps.
/// Closing a write handle takes that log's write lock (never while it appends); dropping a mapping takes only the
/// segment's map lock (readers keep their leases). Sweeps never overlap.
/// </summary>
public sealed partial class LogManager
{
    private static readonly Comparison<OpenSegment> ByLastWrite = static (a, b) => a.LastWriteMs.CompareTo(b.LastWriteMs);
    private static readonly Comparison<OpenSegment> ByLastRead = static (a, b) => a.LastReadMs.CompareTo(b.LastReadMs);

    private readonly List<OpenSegment> _sweepOpen = new();
    private readonly List<OpenSegment> _sweepKept = new();
    private IdleHandlePolicy _idlePolicy = IdleHandlePolicy.Default;
    private Timer? _sweepTimer;
    private int _sweeping;

    /// <summary>Write handles of active segments open in this process (every log manager), for diagnostics.</summary>
    public static int OpenSegmentWriters => Segment.OpenWriters;

    /// <summary>The policy used by sweeps (also set by <see cref="StartIdleSweeper"/>).</summary>
    public IdleHandlePolicy IdlePolicy
    {
        get => Volatile.Read(ref _idlePolicy);
        set
        {
            Validate(value);
            Volatile.Write(ref _idlePolicy, value);
        }
    }

    /// <summary>Starts sweeping every <see cref="IdleHandlePolicy.SweepInterval"/> with <paramref name="policy"/> until disposed.</summary>
    public void StartIdleSweeper(IdleHandlePolicy? policy = null)
    {
        policy ??= IdleHandlePolicy.Default;
        Validate(policy);
        lock (_lock)
        {
            ThrowIfDisposed();
            Volatile.Write(ref _idlePolicy, policy);
            _sweepTimer?.Dispose();
            _sweepTimer = new Timer(static state => ((LogManager)state!).OnSweepTimer(), this, policy.SweepInterval, policy.SweepInterval);
        }
    }

    /// <summary>One sweep now with the current policy (see <see cref="SweepIdle(long)"/>).</summary>
    public IdleSweepResult SweepIdle() => SweepIdle(Environment.TickCount64);

    /// <summary>
    /// One sweep at <paramref name="nowMs"/> (an <see cref="Environment.TickCount64"/> value): closes write handles
    /// and mappings idle for the policy's timeout, then the least recently used ones above the caps. Failures to close
    /// one segment are logged and skipped. When a sweep is already running, returns at once with zeros.
    /// </summary>
    public IdleSweepResult SweepIdle(long nowMs)
    {
        if (Interlocked.Exchange(ref _sweeping, 1) == 1) return default;
        try
        {
            var policy = IdlePolicy;
            var open = _sweepOpen;
            open.Clear();
            foreach (var log in Snapshot()) log.CollectOpenSegments(open);
            long idleBefore = nowMs - (long)policy.IdleTimeout.TotalMilliseconds;
            var (writers, closedWriters) = SweepWriters(open, idleBefore, policy.MaxOpenWriters);
            var (mapped, released) = SweepMappings(open, idleBefore, policy.MaxMappedSegments);
            open.Clear();
            _sweepKept.Clear();
            if (closedWriters > 0 || released > 0)
                Logger.Debug($"idle sweep: closed {closedWriters} of {writers} segment write handles, released {released} of {mapped} mappings");
            return new IdleSweepResult(writers - closedWriters, closedWriters, mapped - released, released);
        }
        finally
        {
            Volatile.Write(ref _sweeping, 0);
        }
    }

    /// <summary>Closes idle writers, then the least recently written above <paramref name="cap"/>. Returns (open before, closed).</summary>
    private (int Open, int Closed) SweepWriters(List<OpenSegment> open, long idleBefore, int cap)
    {
        var kept = _sweepKept;
        kept.Clear();
        int total = 0, closed = 0;
        foreach (var entry in open)
        {
            if (!entry.HasWriter) continue;
            total++;
            if (entry.LastWriteMs <= idleBefore && TryCloseWriter(entry)) closed++;
            else kept.Add(entry);
        }
        if (kept.Count > cap)
        {
            kept.Sort(ByLastWrite);
            for (int i = 0; i < kept.Count - cap; i++)
                if (TryCloseWriter(kept[i])) closed++;
        }
        return (total, closed);
    }

    /// <summary>Drops idle mappings, then the least recently read above <paramref name="cap"/>. Returns (mapped before, released).</summary>
    private (int Mapped, int Released) SweepMappings(List<OpenSegment> open, long idleBefore, int cap)
    {
        var kept = _sweepKept;
        kept.Clear();
        int total = 0, released = 0;
        foreach (var entry in open)
        {
            // A writer closed by this sweep took its mapping with it.
            if (!entry.Segment.HasMapping) continue;
            total++;
            if (entry.LastReadMs <= idleBefore && entry.Segment.ReleaseIdleMapping(entry.LastReadMs)) released++;
            else kept.Add(entry);
        }
        if (kept.Count > cap)
        {
            kept.Sort(ByLastRead);
            for (int i = 0; i < kept.Count - cap; i++)
                if (kept[i].Segment.ReleaseIdleMapping(kept[i].LastReadMs)) released++;
        }
        return (total, released);
    }

    private static bool TryCloseWriter(in OpenSegment entry)
    {
        try
        {
            return entry.Log.CloseIdleWriter(entry.Segment, entry.LastWriteMs);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ObjectDisposedException)
        {
            Logger.Warn($"{entry.Log.Partition}: closing the idle write handle of {entry.Segment} failed: {ex.Message}");
            return false;
        }
    }

    private void OnSweepTimer()
    {
        try
        {
            SweepIdle();
        }
        catch (Exception ex)
        {
            Logger.Error("idle handle sweep failed", ex);
        }
    }

    private void StopIdleSweeper()
    {
        _sweepTimer?.Dispose();
        _sweepTimer = null;
    }

    private static void Validate([NotNull] IdleHandlePolicy policy)
    {
        if (policy.IdleTimeout <= TimeSpan.Zero) throw new ArgumentException("IdleTimeout must be positive", nameof(policy));
        if (policy.SweepInterval <= TimeSpan.Zero) throw new ArgumentException("SweepInterval must be positive", nameof(policy));
        if (policy.MaxOpenWriters < 0) throw new ArgumentException("MaxOpenWriters must not be negative", nameof(policy));
        if (policy.MaxMappedSegments < 0) throw new ArgumentException("MaxMappedSegments must not be negative", nameof(policy));
    }
}

using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using Broker.Core.Diagnostics;

namespace Broker.Server.Partitions;

/// <summary>
/// storage.min.free.bytes: refuses produce while the file system holding a log directory has less space available
/// to the broker (statvfs f_bavail, through <see cref="DriveInfo"/>) than the floor, so a disk never fills up
/// under client writes and what is already written stays intact (replication, the metadata log, compaction and
/// checkpoints keep the room above the floor). The free space is measured at most once per refresh interval and
/// again after a refresh's worth of admitted bytes, never once per request; concurrent callers use the last
/// reading while one of them refreshes. A warning is logged once when the floor is crossed, an info line when space
/// is back. A failing measurement (directory gone) admits writes: the append itself then reports the error.
/// </summary>
public sealed class DiskSpaceGuard
{
    private static readonly Logger Logger = Log.For("storage");
    public static readonly TimeSpan DefaultRefreshInterval = TimeSpan.FromMilliseconds(250);

    private readonly Func<long> _probe;
    private readonly long _refreshIntervalMs;
    private readonly long _refreshAfterBytes;
    private readonly object _refreshLock = new();
    private long _freeBytes = -1;
    private long _checkedAtMs;
    private long _bytesSinceCheck;
    private volatile bool _below;
    private bool _probeFailed;

    /// <param name="directory">The log directory.</param>
    /// <param name="minFreeBytes">The floor (positive).</param>
    /// <param name="probe">Measures the free bytes (tests); default: <see cref="DriveInfo.AvailableFreeSpace"/> of the directory.</param>
    /// <param name="refreshInterval">Longest time a reading is used (default 250 ms).</param>
    /// <param name="refreshAfterBytes">Admitted bytes after which the next check measures again (default: a quarter
    /// of the floor, between 1 MiB and 64 MiB).</param>
    public DiskSpaceGuard(string directory, long minFreeBytes, Func<long>? probe = null, TimeSpan? refreshInterval = null,
        long? refreshAfterBytes = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(minFreeBytes);
        Directory = directory;
        MinFreeBytes = minFreeBytes;
        if (probe is null)
        {
            var drive = new DriveInfo(Path.GetFullPath(directory));
            probe = () => drive.AvailableFreeSpace;
        }
        _probe = probe;
        _refreshIntervalMs = (long)(refreshInterval ?? DefaultRefreshInterval).TotalMilliseconds;
        _refreshAfterBytes = refreshAfterBytes ?? Math.Clamp(minFreeBytes / 4, 1L << 20, 64L << 20);
        Refresh(Environment.TickCount64);
    }

    public string Directory { get; }
    public long MinFreeBytes { get; }

    /// <summary>Free bytes at the last measurement (-1 when it failed).</summary>
    public long FreeBytes => Volatile.Read(ref _freeBytes);

    /// <summary>True while the last measurement was below the floor (produce refused).</summary>
    public bool IsBelowFloor => _below;

    /// <summary>
    /// Admits a write of <paramref name="bytes"/> unless free space is below the floor; then
    /// <paramref name="message"/> says why, naming the directory, the free bytes and the floor.
    /// </summary>
    public bool TryAdmit(long bytes, [NotNullWhen(false)] out string? message)
    {
        MaybeRefresh();
        if (_below)
        {
            message = RefusalMessage(FreeBytes);
            return false;
        }
        Interlocked.Add(ref _bytesSinceCheck, bytes);
        message = null;
        return true;
    }

    /// <summary>Measures now (tests, diagnostics).</summary>
    public void Refresh()
    {
        lock (_refreshLock) Refresh(Environment.TickCount64);
    }

    private string RefusalMessage(long free) => string.Create(CultureInfo.InvariantCulture,
        $"log dir {Directory} has {free} bytes free, below storage.min.free.bytes={MinFreeBytes}: produce refused until space is freed");

    private void MaybeRefresh()
    {
        long now = Environment.TickCount64;
        if (!IsDue(now) || !Monitor.TryEnter(_refreshLock)) return;
        try
        {
            if (IsDue(now)) Refresh(now);
        }
        finally
        {
            Monitor.Exit(_refreshLock);
        }
    }

    private bool IsDue(long now) =>
        now - Volatile.Read(ref _checkedAtMs) >= _refreshIntervalMs || Volatile.Read(ref _bytesSinceCheck) >= _refreshAfterBytes;

    /// <summary>Takes a reading and logs a crossing of the floor. Caller holds <see cref="_refreshLock"/> (or constructs).</summary>
    private void Refresh(long now)
    {
        long free;
        try
        {
            free = _probe();
            if (_probeFailed)
            {
                _probeFailed = false;
                Logger.Info($"free space of log dir {Directory} can be measured again");
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
        {
            if (!_probeFailed) Logger.Warn($"cannot measure the free space of log dir {Directory} ({ex.Message}); not enforcing storage.min.free.bytes meanwhile");
            _probeFailed = true;
            free = -1;
        }
        Volatile.Write(ref _freeBytes, free);
        Volatile.Write(ref _bytesSinceCheck, 0);
        Volatile.Write(ref _checkedAtMs, now);
        bool below = free >= 0 && free < MinFreeBytes;
        if (below == _below) return;
        _below = below;
        if (below) Logger.Warn(RefusalMessage(free));
        else Logger.Info($"log dir {Directory} has {free} bytes free again (storage.min.free.bytes={MinFreeBytes}): produce accepted");
    }
}

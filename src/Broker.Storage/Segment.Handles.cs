using Microsoft.Win32.SafeHandles;

namespace Broker.Storage;

/// <summary>
/// Lazily opened, idle-closed resources of a segment, so thousands of partitions fit in the process's file and
/// mapping limits. The active segment's write handle is opened by the first write after the segment was created,
/// opened from disk or closed for idleness, and closed again by <see cref="CloseIdleWriter"/> (file cut to its data;
/// fsynced first when the owning log's flush policy still owes an fsync, see PartitionLog.Handles.cs). A sealed
/// segment is made durable through a handle of its own (<see cref="SyncSealedData"/>), open or closed writer alike.
/// Any segment's mapping is created by the first reader (<see cref="TryAcquire"/>) or append and dropped by
/// <see cref="ReleaseIdleMapping"/>; readers holding a lease keep theirs, later readers map again. Use is tracked as
/// coarse milliseconds (<see cref="Environment.TickCount64"/>), stored at most once per millisecond per segment.
/// The sweep that decides what to close lives in LogManager.Idle.cs.
/// </summary>
internal sealed partial class Segment
{
    private static int s_openWriters;

    /// <summary>True while this is the active segment (appends allowed); writer-owned.</summary>
    private bool _writable;
    /// <summary>Data was written since the last fsync this class did (Flush, Seal, a close with fsync). Writer-owned.</summary>
    private bool _unsynced;
    private long _lastWriteMs = Environment.TickCount64;
    private long _lastReadMs = Environment.TickCount64;

    /// <summary>Write handles of active segments open in this process (all logs).</summary>
    public static int OpenWriters => Volatile.Read(ref s_openWriters);

    public bool HasOpenWriter => Volatile.Read(ref _writeHandle) != null;

    public bool HasMapping => Volatile.Read(ref _region) != null;

    /// <summary>Tick (ms) of the last append or truncation.</summary>
    public long LastWriteMs => Volatile.Read(ref _lastWriteMs);

    /// <summary>Tick (ms) of the last read lease or append.</summary>
    public long LastReadMs => Volatile.Read(ref _lastReadMs);

    private void MarkWritten()
    {
        long now = Environment.TickCount64;
        if (Volatile.Read(ref _lastWriteMs) != now) Volatile.Write(ref _lastWriteMs, now);
        if (Volatile.Read(ref _lastReadMs) != now) Volatile.Write(ref _lastReadMs, now);
    }

    private void MarkRead()
    {
        long now = Environment.TickCount64;
        if (Volatile.Read(ref _lastReadMs) != now) Volatile.Write(ref _lastReadMs, now);
    }

    /// <summary>The write handle, opened now if it is closed. Writer-owned.</summary>
    private SafeFileHandle EnsureWriter()
    {
        var handle = _writeHandle;
        if (handle != null) return handle;
        if (!_writable) throw new InvalidOperationException($"{this} is sealed");
        handle = File.OpenHandle(LogPath, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
        try
        {
            _fileLength = RandomAccess.GetLength(handle);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
        lock (_mapLock)
        {
            if (_closed)
            {
                handle.Dispose();
                throw new ObjectDisposedException(ToString());
            }
            Volatile.Write(ref _writeHandle, handle);
        }
        Interlocked.Increment(ref s_openWriters);
        return handle;
    }

    /// <summary>
    /// Closes the write handle when nothing was written after <paramref name="unusedSinceMs"/> (a tick): the file is
    /// cut to its data and, with <paramref name="fsync"/>, fsynced when it holds unsynced writes. Writer-owned (call
    /// under the log's lock). The next append reopens it. True when a handle was closed.
    /// </summary>
    public bool CloseIdleWriter(long unusedSinceMs, bool fsync)
    {
        if (_writeHandle == null || LastWriteMs > unusedSinceMs) return false;
        CloseWriter(fsync: fsync && _unsynced);
        return true;
    }

    /// <summary>
    /// Drops the segment's own mapping when no reader or writer used it after <paramref name="unusedSinceMs"/> (a
    /// tick). Safe at any time: readers with leases keep the old mapping, the next reader or append maps again.
    /// </summary>
    public bool ReleaseIdleMapping(long unusedSinceMs)
    {
        MappedRegion? old;
        lock (_mapLock)
        {
            old = _region;
            if (old == null || LastReadMs > unusedSinceMs) return false;
            Volatile.Write(ref _region, null);
        }
        old.Dispose();
        return true;
    }
}

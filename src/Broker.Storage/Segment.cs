using System.Globalization;
using Microsoft.Win32.SafeHandles;

namespace Broker.Storage;

/// <summary>
/// One log segment: `{base}.log` (batches exactly as on the wire) with its `.index` and `.timeindex`.
/// The active (last) segment opens a write handle with its first append and grows its file ahead of the data
/// (sparse); the handle (and any mapping) is closed again when idle (Segment.Handles.cs), so a partition holds at
/// most one open file. Sealed segments are truncated to their data and mapped lazily, read-only, at their exact size.
/// Concurrency: one writer (the owning <see cref="PartitionLog"/> under its lock); readers take a reference on the
/// current <see cref="MappedRegion"/> with <see cref="TryAcquire"/> and see only bytes below <see cref="Size"/>,
/// which is published after the bytes are written.
/// </summary>
internal sealed partial class Segment : IDisposable
{
    public const string LogSuffix = ".log";
    public const string IndexSuffix = ".index";
    public const string TimeIndexSuffix = ".timeindex";

    private readonly object _mapLock = new();
    private MappedRegion? _region;
    private SafeFileHandle? _writeHandle;
    /// <summary>Physical length of the active file (data + sparse room to grow); writer-owned.</summary>
    private long _fileLength;
    private int _size;
    private long _nextOffset;
    private bool _closed;
    private int _bytesSinceIndexEntry;

    private Segment(string directory, long baseOffset, OffsetIndex offsetIndex, TimeIndex timeIndex)
    {
        BaseOffset = baseOffset;
        LogPath = PathFor(directory, baseOffset, LogSuffix);
        OffsetIndex = offsetIndex;
        TimeIndex = timeIndex;
        _nextOffset = baseOffset;
    }

    public long BaseOffset { get; }
    public string LogPath { get; }
    public OffsetIndex OffsetIndex { get; private set; }
    public TimeIndex TimeIndex { get; private set; }

    /// <summary>Bytes of whole batches in the segment (published last by the writer).</summary>
    public int Size => Volatile.Read(ref _size);

    /// <summary>Offset after the last batch (the base offset when empty).</summary>
    public long NextOffset => Volatile.Read(ref _nextOffset);

    /// <summary>Largest batch max timestamp (-1 when none); writer-owned, read under the log's lock.</summary>
    public long MaxTimestamp { get; private set; } = -1;

    /// <summary>Base offset of the first batch that carries <see cref="MaxTimestamp"/>.</summary>
    public long OffsetOfMaxTimestamp { get; private set; }

    /// <summary>Clock time of the first append (or an estimate after recovery); -1 when empty.</summary>
    public long FirstAppendMs { get; set; } = -1;

    public static string PathFor(string directory, long baseOffset, string suffix) =>
        Path.Combine(directory, baseOffset.ToString("D20", CultureInfo.InvariantCulture) + suffix);

    /// <summary>Parses "00000000000000001234.log" → 1234; false for anything else.</summary>
    public static bool TryParseBaseOffset(string fileName, out long baseOffset)
    {
        baseOffset = 0;
        if (!fileName.EndsWith(LogSuffix, StringComparison.Ordinal)) return false;
        var digits = fileName.AsSpan(0, fileName.Length - LogSuffix.Length);
        if (digits.Length != 20) return false;
        foreach (char c in digits) if (c is < '0' or > '9') return false;
        return long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out baseOffset) && baseOffset >= 0;
    }

    /// <summary>
    /// Creates a new, empty active segment (any leftover files of the same name are replaced). The log file exists
    /// from now on; its write handle is opened by the first append.
    /// </summary>
    public static Segment CreateActive(string directory, long baseOffset)
    {
        var segment = new Segment(directory, baseOffset,
            new OffsetIndex(IndexFile<OffsetEntry>.CreateEmpty(PathFor(directory, baseOffset, IndexSuffix)), baseOffset),
            new TimeIndex(IndexFile<TimeEntry>.CreateEmpty(PathFor(directory, baseOffset, TimeIndexSuffix)), baseOffset));
        using (File.OpenHandle(segment.LogPath, FileMode.Create, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete))
        {
        }
        segment.OffsetIndex.File.Delete();
        segment.TimeIndex.File.Delete();
        segment._writable = true;
        return segment;
    }

    /// <summary>
    /// Takes a read reference on the mapping that covers the segment's data. False when the segment was closed or
    /// deleted (re-read the segment list). <paramref name="region"/> is null when the segment holds no data.
    /// </summary>
    public bool TryAcquire(out MappedRegion? region)
    {
        MarkRead();
        var current = Volatile.Read(ref _region);
        if (current != null && current.TryAddRef())
        {
            region = current;
            return true;
        }
        lock (_mapLock)
        {
            region = null;
            if (_closed) return false;
            current = _region;
            if (current == null)
            {
                int size = Size;
                if (size == 0) return true;
                current = MapCurrentSize(size);
                Volatile.Write(ref _region, current);
            }
            if (!current.TryAddRef()) return false;
            region = current;
            return true;
        }
    }

    /// <summary>Called under <see cref="_mapLock"/>, which also guards the write handle's lifetime.</summary>
    private MappedRegion MapCurrentSize(int size)
    {
        if (_writeHandle != null) return MappedRegion.Map(_writeHandle, size);
        using var handle = File.OpenHandle(LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        return MappedRegion.Map(handle, size);
    }

    /// <summary>Swaps in a new mapping (or none) and drops the segment's own reference on the old one.</summary>
    private void ReplaceRegion(MappedRegion? next)
    {
        MappedRegion? old;
        lock (_mapLock)
        {
            old = _region;
            Volatile.Write(ref _region, next);
        }
        old?.Dispose();
    }

    /// <summary>
    /// Ends the active phase at a roll: adds the final time-index entry, cuts the file to its data and closes the
    /// write handle, without waiting for the disk. Readers with leases keep their mapping; new readers map the exact
    /// size. The fsync (<see cref="SyncSealedData"/>) and the index files (<see cref="PersistSealedIndexes"/>) come
    /// later from PartitionLog's seal sync, off the append path. Until then the segment has no index files, so a
    /// crash meanwhile makes the next open rebuild them by a CRC-checking scan instead of trusting data that may
    /// never have reached the disk.
    /// </summary>
    public void Seal()
    {
        if (!_writable) return;
        TimeIndex.MaybeAppend(MaxTimestamp, OffsetOfMaxTimestamp);
        _writable = false;
        CloseWriter(fsync: false);
        OffsetIndex.File.Delete();
        TimeIndex.File.Delete();
    }

    /// <summary>Environment.TickCount64 when a roll sealed it without syncing (PartitionLog's deferred sync).</summary>
    public long SealedAtMs { get; set; }

    /// <summary>True once sealed (no more appends unless a truncation makes it active again).</summary>
    public bool IsSealed => !_writable;

    /// <summary>fsync of a sealed segment's log file through a short-lived handle; safe outside the write lock (the
    /// file may be gone: retention deleted it meanwhile). Pair with <see cref="PersistSealedIndexes"/> under the lock.</summary>
    public void SyncSealedData()
    {
        try
        {
            using var handle = File.OpenHandle(LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            GatherWrite.WriteBackData(handle); // the long part, without holding the inode's metadata buffer
            RandomAccess.FlushToDisk(handle);
        }
        catch (FileNotFoundException)
        {
            // deleted by retention or a truncation before it was synced: nothing to keep
        }
    }

    /// <summary>
    /// Writes both index files; their presence tells the next open that the log data was synced first. Called after
    /// the log's fsync returned, so the index files (not fsynced themselves) can only reach the disk after the data:
    /// a lost one just means a rescan. Under the write lock, where an fsync would queue behind other partitions'
    /// writeback (stalls of ~0.8 s measured).
    /// </summary>
    public void PersistSealedIndexes()
    {
        _unsynced = false;
        PersistIndexes();
    }

    /// <summary>
    /// Closes the write handle (if open): drops the mapping (it may extend past the data), cuts the file to its data
    /// and, with <paramref name="fsync"/>, makes it durable. Writer-owned.
    /// </summary>
    private void CloseWriter(bool fsync)
    {
        var handle = _writeHandle;
        if (handle == null) return;
        MappedRegion? old;
        lock (_mapLock)
        {
            // Readers mapping lazily from now on open the file themselves.
            _writeHandle = null;
            old = _region;
            Volatile.Write(ref _region, null);
        }
        old?.Dispose();
        try
        {
            RandomAccess.SetLength(handle, Size);
            _fileLength = Size;
            if (fsync)
            {
                RandomAccess.FlushToDisk(handle);
                _unsynced = false;
            }
        }
        finally
        {
            handle.Dispose();
            Interlocked.Decrement(ref s_openWriters);
        }
    }

    /// <summary>
    /// fsync of the active segment's log file (its index is rebuilt from the log when the segment is reopened). A
    /// write handle closed for idleness was fsynced then if its log's flush policy asked for it.
    /// </summary>
    public void Flush()
    {
        var handle = _writeHandle;
        if (handle == null) return;
        RandomAccess.FlushToDisk(handle);
        _unsynced = false;
    }

    /// <summary>Closes the segment (a clean shutdown): the active file is cut to its data. Leases stay valid.</summary>
    public void Dispose()
    {
        lock (_mapLock)
        {
            if (_closed) return;
            _closed = true;
        }
        _writable = false;
        CloseWriter(fsync: false);
        ReplaceRegion(null);
        OffsetIndex.Dispose();
        TimeIndex.Dispose();
    }

    /// <summary>Closes and removes the files. The data stays readable through outstanding leases (the mapping
    /// holds the inode) until the last one is disposed.</summary>
    public void Delete()
    {
        Dispose();
        File.Delete(LogPath);
        OffsetIndex.File.Delete();
        TimeIndex.File.Delete();
    }

    public override string ToString() => $"segment {BaseOffset} ({Size} bytes, next offset {NextOffset})";
}

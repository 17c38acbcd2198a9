using Microsoft.Win32.SafeHandles;

namespace Broker.Storage;

/// <summary>A fixed-size big-endian index entry (see <see cref="OffsetIndex"/> and <see cref="TimeIndex"/>).</summary>
internal interface IIndexEntry<TSelf> where TSelf : struct, IIndexEntry<TSelf>
{
    static abstract int Size { get; }
    static abstract TSelf Read(ReadOnlySpan<byte> source);
    void Write(Span<byte> destination);
    /// <summary>All-zero entry: what a preallocated, never-written slot looks like.</summary>
    bool IsZero { get; }
}

/// <summary>
/// The storage half of a sparse index: entries kept in memory for lookups (one writer, lock-free readers) and
/// mirrored to an append-only file. Indexes are always rebuildable from the log, so the file needs no fsync
/// ordering; a full rewrite goes through a temporary file and a rename so a crash never leaves a half-written one.
/// </summary>
internal sealed class IndexFile<T> : IDisposable where T : struct, IIndexEntry<T>
{
    private T[] _entries;
    private int _count;
    private SafeFileHandle? _file;

    private IndexFile(string path, T[] entries, int count)
    {
        Path = path;
        _entries = entries;
        _count = count;
    }

    public string Path { get; }

    public int Count => Volatile.Read(ref _count);

    /// <summary>A consistent view for readers: entries [0, count) of the returned array are fully written.</summary>
    public ReadOnlySpan<T> Snapshot()
    {
        var entries = Volatile.Read(ref _entries);
        int count = Math.Min(Volatile.Read(ref _count), entries.Length);
        return entries.AsSpan(0, count);
    }

    public static IndexFile<T> CreateEmpty(string path) => new(path, new T[16], 0);

    /// <summary>
    /// Reads the file. Returns null when it is missing or its length is not a whole number of entries;
    /// trailing all-zero entries (preallocation) are dropped, except the first one when
    /// <paramref name="zeroFirstEntryIsValid"/> (a time index may legitimately start with timestamp 0 at the base).
    /// Semantic checks are the caller's job.
    /// </summary>
    public static IndexFile<T>? TryLoad(string path, bool zeroFirstEntryIsValid)
    {
        if (!File.Exists(path)) return null;
        byte[] bytes = File.ReadAllBytes(path);
        if (bytes.Length % T.Size != 0) return null;
        int count = bytes.Length / T.Size;
        var entries = new T[Math.Max(16, count)];
        for (int i = 0; i < count; i++) entries[i] = T.Read(bytes.AsSpan(i * T.Size, T.Size));
        int keep = zeroFirstEntryIsValid ? 1 : 0;
        while (count > keep && entries[count - 1].IsZero) count--;
        return new IndexFile<T>(path, entries, count);
    }

    /// <summary>Opens the file for appends (active segment). Its length is cut to the current entries.</summary>
    public void OpenForAppend()
    {
        if (_file != null) return;
        _file = File.OpenHandle(Path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
        RandomAccess.SetLength(_file, (long)Count * T.Size);
    }

    /// <summary>Adds an entry in memory and, when open for appends, at the end of the file.</summary>
    public void Append(in T entry)
    {
        int count = _count;
        var entries = _entries;
        if (count == entries.Length)
        {
            var grown = new T[entries.Length * 2];
            entries.AsSpan(0, count).CopyTo(grown);
            Volatile.Write(ref _entries, grown);
            entries = grown;
        }
        entries[count] = entry;
        Volatile.Write(ref _count, count + 1);
        if (_file != null)
        {
            Span<byte> buffer = stackalloc byte[T.Size];
            entry.Write(buffer);
            RandomAccess.Write(_file, buffer, (long)count * T.Size);
        }
    }

    /// <summary>Forgets every entry in memory (start of a rebuild); the file is left for <see cref="RewriteFile"/>.</summary>
    public void Reset() => Volatile.Write(ref _count, 0);

    /// <summary>Writes the in-memory entries as the new file (temp + rename), keeping the append handle state.</summary>
    public void RewriteFile()
    {
        bool wasOpen = _file != null;
        CloseFile();
        WriteAll();
        if (wasOpen) OpenForAppend();
    }

    /// <summary>Writes the current entries to the file atomically (temp file + rename).</summary>
    private void WriteAll()
    {
        var entries = Snapshot();
        var bytes = new byte[entries.Length * T.Size];
        for (int i = 0; i < entries.Length; i++) entries[i].Write(bytes.AsSpan(i * T.Size, T.Size));
        string tmp = Path + ".tmp";
        using (var handle = File.OpenHandle(tmp, FileMode.Create, FileAccess.Write))
        {
            RandomAccess.Write(handle, bytes, 0);
        }
        File.Move(tmp, Path, overwrite: true);
    }

    public void Flush()
    {
        if (_file != null) RandomAccess.FlushToDisk(_file);
    }

    /// <summary>Stops appending to the file (segment sealed); lookups keep working from memory.</summary>
    public void CloseFile()
    {
        _file?.Dispose();
        _file = null;
    }

    public void Delete()
    {
        CloseFile();
        File.Delete(Path);
    }

    public void Dispose() => CloseFile();
}

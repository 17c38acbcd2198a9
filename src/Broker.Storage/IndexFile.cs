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
/// written to its file as a whole by <see cref="RewriteFile"/> (when a segment is sealed, rebuilt or truncated).
/// No file handle is held: the active segment's index lives in memory only (it is rebuilt from the log by a scan
/// whenever that segment is opened), which keeps a partition at one open file at most. Indexes are always
/// rebuildable from the log; a rewrite goes through a temporary file and a rename so a crash never leaves a
/// half-written one.
/// </summary>
internal sealed class IndexFile<T> : IDisposable where T : struct, IIndexEntry<T>
{
    private T[] _entries;
    private int _count;

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

    /// <summary>Adds an entry in memory (the file is written by <see cref="RewriteFile"/>).</summary>
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
    }

    /// <summary>Drops the entries from <paramref name="count"/> on (an append that failed to reach the log).</summary>
    public void RollbackTo(int count)
    {
        if ((uint)count > (uint)_count) throw new ArgumentOutOfRangeException(nameof(count));
        Volatile.Write(ref _count, count);
    }

    /// <summary>Forgets every entry in memory (start of a rebuild); the file is left for <see cref="RewriteFile"/>.</summary>
    public void Reset() => Volatile.Write(ref _count, 0);

    /// <summary>
    /// Writes the in-memory entries as the new file atomically (temp file + rename); with <paramref name="durable"/>
    /// the temporary file is fsynced before the rename (a sealed segment's index).
    /// </summary>
    public void RewriteFile(bool durable = false)
    {
        var entries = Snapshot();
        var bytes = new byte[entries.Length * T.Size];
        for (int i = 0; i < entries.Length; i++) entries[i].Write(bytes.AsSpan(i * T.Size, T.Size));
        string tmp = Path + ".tmp";
        using (var handle = File.OpenHandle(tmp, FileMode.Create, FileAccess.Write))
        {
            RandomAccess.Write(handle, bytes, 0);
            if (durable) RandomAccess.FlushToDisk(handle);
        }
        File.Move(tmp, Path, overwrite: true);
    }

    public void Delete() => File.Delete(Path);

    /// <summary>Nothing to release (no handle is held); kept so owners can treat the index as a resource.</summary>
    public void Dispose() { }
}

namespace Broker.Raft;

/// <summary>
/// An <see cref="IRaftLog"/> kept in memory: a list of entries sorted by offset, located by binary search. Used
/// by tests and the simulation; it is "durable" as long as the object lives, which models a node's disk.
/// </summary>
public sealed class InMemoryRaftLog : IRaftLog
{
    private readonly List<RaftEntry> _entries = new();
    private long _startOffset;
    private long _baseTerm;

    public long StartOffset => _startOffset;
    public long LogEndOffset => _entries.Count == 0 ? _startOffset : _entries[^1].LastOffset + 1;
    public long BaseTerm => _baseTerm;
    public int EntryCount => _entries.Count;

    public long TermAt(long offset)
    {
        if (offset == _startOffset - 1) return _baseTerm;
        return _entries[IndexOf(offset)].Term;
    }

    public long EntryStart(long offset) => _entries[IndexOf(offset)].FirstOffset;

    public void Append(in RaftEntry entry)
    {
        if (entry.Count < 1) throw new ArgumentException("an entry covers at least one offset");
        if (entry.FirstOffset != LogEndOffset)
            throw new ArgumentException($"entry at {entry.FirstOffset} is not at log end {LogEndOffset}");
        if (entry.Term < TermAt(LogEndOffset - 1))
            throw new ArgumentException($"entry term {entry.Term} below last term");
        _entries.Add(entry);
    }

    public int Read(long fromOffset, int maxEntries, List<RaftEntry> into)
    {
        if (fromOffset == LogEndOffset) return 0;
        int i = IndexOf(fromOffset);
        if (_entries[i].FirstOffset != fromOffset) throw new ArgumentException($"offset {fromOffset} is not an entry start");
        int n = Math.Min(maxEntries, _entries.Count - i);
        for (int k = 0; k < n; k++) into.Add(_entries[i + k]);
        return n;
    }

    public void TruncateSuffix(long fromOffset)
    {
        if (fromOffset == LogEndOffset) return;
        if (fromOffset < _startOffset) throw new ArgumentException($"cannot truncate at {fromOffset} below log start {_startOffset}");
        int i = IndexOf(fromOffset);
        if (_entries[i].FirstOffset != fromOffset) throw new ArgumentException($"offset {fromOffset} is not an entry start");
        _entries.RemoveRange(i, _entries.Count - i);
    }

    public void CompactPrefix(long upToOffset)
    {
        if (upToOffset < _startOffset) return;
        int i = IndexOf(upToOffset);
        if (_entries[i].LastOffset != upToOffset) throw new ArgumentException($"offset {upToOffset} is not an entry end");
        _baseTerm = _entries[i].Term;
        _startOffset = upToOffset + 1;
        _entries.RemoveRange(0, i + 1);
    }

    public void ResetToSnapshot(long snapshotOffset, long snapshotTerm)
    {
        _entries.Clear();
        _startOffset = snapshotOffset + 1;
        _baseTerm = snapshotTerm;
    }

    private int IndexOf(long offset)
    {
        int lo = 0, hi = _entries.Count - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            RaftEntry e = _entries[mid];
            if (offset < e.FirstOffset) hi = mid - 1;
            else if (offset > e.LastOffset) lo = mid + 1;
            else return mid;
        }
        throw new ArgumentOutOfRangeException(nameof(offset), $"offset {offset} not in log [{_startOffset}, {LogEndOffset})");
    }
}

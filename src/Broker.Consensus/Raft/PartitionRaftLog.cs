using Broker.Core.Diagnostics;
using Broker.Core.Records;
using Broker.Raft;
using Broker.Storage;

namespace Broker.Consensus.Raft;

/// <summary>
/// Makes a Storage <see cref="IPartitionLog"/> the log of a Raft group: one Raft entry is one stored record batch,
/// covering the batch's offsets [baseOffset, baseOffset + lastOffsetDelta], and the entry's term is the batch's
/// partitionLeaderEpoch (the Raft term is the Kafka leader epoch). The empty entry a new leader appends becomes a
/// control batch (LEADER_CHANGE, one record) that Kafka consumers skip.
/// Terms are answered from an epoch → start-offset cache (Kafka's leader-epoch checkpoint, kept in memory and
/// rebuilt by a header scan of the log on open). Retention of data partitions is Kafka's, independent of Raft:
/// <see cref="CompactPrefix"/> only moves the Raft view of the log start and never deletes data.
/// Not thread-safe: used by one <see cref="RaftReplicatedLog"/> under its executor.
/// </summary>
public sealed class PartitionRaftLog : IRaftLog
{
    /// <summary>Bytes read per <see cref="Read"/> call (at least one batch is always returned).</summary>
    public const int DefaultMaxReadBytes = 1 << 20;
    private const int LeaderChangeControlType = 2;

    private readonly IPartitionLog _log;
    private readonly IClock _clock;
    private readonly int _maxReadBytes;
    /// <summary>(start offset, term) of each term present in the log, ascending in both.</summary>
    private readonly List<(long Start, long Term)> _epochs = new();
    private readonly RecordBatchBuilder _controlBuilder = new(128);
    private long _compactedTo = -1; // last offset covered by a Raft snapshot (CompactPrefix/ResetToSnapshot)
    private long _baseTerm;
    // Tiny cache of the batch found by the last EntryStart lookup.
    private long _cachedBatchFirst = -1, _cachedBatchLast = -1;

    public PartitionRaftLog(IPartitionLog log, IClock? clock = null, int maxReadBytes = DefaultMaxReadBytes)
    {
        ArgumentNullException.ThrowIfNull(log);
        if (maxReadBytes < RecordBatchHeader.Size) throw new ArgumentOutOfRangeException(nameof(maxReadBytes));
        _log = log;
        _clock = clock ?? SystemClock.Instance;
        _maxReadBytes = maxReadBytes;
        RebuildEpochCache();
    }

    public IPartitionLog PartitionLog => _log;

    /// <summary>When set, the next appended entry gets broker time as its timestamps (LogAppendTime); one-shot.</summary>
    internal long? NextAppendTimeMs { get; set; }

    public long StartOffset => Math.Max(_log.LogStartOffset, Math.Min(_compactedTo + 1, _log.LogEndOffset));
    public long LogEndOffset => _log.LogEndOffset;
    public long BaseTerm => TermAt(StartOffset - 1);

    /// <summary>The (start offset, term) pairs of the cache, oldest first (diagnostics and tests).</summary>
    public IReadOnlyList<(long Start, long Term)> Epochs => _epochs;

    public long TermAt(long offset)
    {
        if (offset < 0) return 0;
        int lo = 0, hi = _epochs.Count - 1, found = -1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            if (_epochs[mid].Start <= offset) { found = mid; lo = mid + 1; }
            else hi = mid - 1;
        }
        // Below the first known epoch: the snapshot's term, else unknown (data removed by retention before this
        // process started) and 0.
        return found < 0 ? _baseTerm : _epochs[found].Term;
    }

    public long EntryStart(long offset)
    {
        if (offset >= _cachedBatchFirst && offset <= _cachedBatchLast) return _cachedBatchFirst;
        using LogReadResult read = _log.Read(offset, 1, long.MaxValue, minOneBatch: true);
        if (read.OutOfRange || !RecordBatchHeader.TryRead(read.Records.Span, out var header) || header.LastOffset < offset)
            throw new ArgumentOutOfRangeException(nameof(offset),
                $"{_log.Partition}: offset {offset} not in log [{_log.LogStartOffset}, {_log.LogEndOffset})");
        _cachedBatchFirst = header.BaseOffset;
        _cachedBatchLast = header.LastOffset;
        return header.BaseOffset;
    }

    public void Append(in RaftEntry entry)
    {
        if (entry.Term > int.MaxValue) throw new ArgumentException($"term {entry.Term} does not fit a leader epoch");
        if (entry.FirstOffset != _log.LogEndOffset)
            throw new ArgumentException($"{_log.Partition}: entry at {entry.FirstOffset} is not at log end {_log.LogEndOffset}");
        long lastTerm = TermAt(_log.LogEndOffset - 1);
        if (entry.Term < lastTerm) throw new ArgumentException($"{_log.Partition}: entry term {entry.Term} below last term {lastTerm}");

        ReadOnlySpan<byte> batch;
        if (entry.Payload.IsEmpty)
        {
            if (entry.Count != 1) throw new ArgumentException("an empty entry (leader no-op) covers exactly one offset");
            batch = BuildLeaderChangeBatch().Span;
        }
        else
        {
            batch = entry.Payload.Span;
            if (!RecordBatchHeader.TryRead(batch, out var header) || header.Magic != 2 || header.TotalSize != batch.Length)
                throw new ArgumentException($"{_log.Partition}: entry at {entry.FirstOffset} is not exactly one record batch");
            if (header.LastOffsetDelta + 1L != entry.Count)
                throw new ArgumentException(
                    $"{_log.Partition}: entry at {entry.FirstOffset} covers {entry.Count} offsets but its batch {header.LastOffsetDelta + 1L}");
        }

        long? appendTime = NextAppendTimeMs;
        NextAppendTimeMs = null;
        AppendInfo info = _log.Append(batch, (int)entry.Term, appendTime);
        if (info.FirstOffset != entry.FirstOffset || info.LastOffset != entry.LastOffset)
            throw new InvalidOperationException(
                $"{_log.Partition}: log assigned [{info.FirstOffset}, {info.LastOffset}] to entry [{entry.FirstOffset}, {entry.LastOffset}]");
        if (_epochs.Count == 0 || entry.Term > _epochs[^1].Term) _epochs.Add((entry.FirstOffset, entry.Term));
    }

    public int Read(long fromOffset, int maxEntries, List<RaftEntry> into)
    {
        int added = 0;
        long position = fromOffset;
        int budget = _maxReadBytes;
        while (added < maxEntries && position < _log.LogEndOffset && budget > 0)
        {
            byte[] copy;
            using (LogReadResult read = _log.Read(position, budget, long.MaxValue, minOneBatch: added == 0))
            {
                if (read.OutOfRange)
                {
                    if (added == 0 && position < _log.LogStartOffset) return 0; // removed by retention
                    throw new ArgumentOutOfRangeException(nameof(fromOffset), $"{_log.Partition}: offset {position} out of range");
                }
                if (read.Records.IsEmpty) break;
                copy = read.Records.ToArray(); // entries outlive the mapping lease (they are sent asynchronously)
            }
            budget -= copy.Length;
            int pos = 0;
            while (added < maxEntries && RecordBatchHeader.TryRead(copy.AsSpan(pos), out var header)
                   && pos + header.TotalSize <= copy.Length)
            {
                if (added == 0 && header.BaseOffset != fromOffset)
                    throw new ArgumentException($"{_log.Partition}: offset {fromOffset} is not an entry start (batch at {header.BaseOffset})");
                into.Add(new RaftEntry(Math.Max(header.PartitionLeaderEpoch, 0), header.BaseOffset, header.LastOffsetDelta + 1,
                    copy.AsMemory(pos, header.TotalSize)));
                added++;
                position = header.LastOffset + 1;
                pos += header.TotalSize;
            }
            if (pos == 0) break;
        }
        return added;
    }

    public void TruncateSuffix(long fromOffset)
    {
        if (fromOffset >= _log.LogEndOffset) return;
        if (fromOffset < StartOffset) throw new ArgumentException($"{_log.Partition}: cannot truncate at {fromOffset} below log start {StartOffset}");
        if (EntryStart(fromOffset) != fromOffset) throw new ArgumentException($"{_log.Partition}: offset {fromOffset} is not an entry start");
        _log.TruncateTo(fromOffset);
        while (_epochs.Count > 0 && _epochs[^1].Start >= fromOffset) _epochs.RemoveAt(_epochs.Count - 1);
        _cachedBatchFirst = _cachedBatchLast = -1;
    }

    /// <summary>
    /// Records that a Raft snapshot covers offsets up to <paramref name="upToOffset"/>: the Raft log now starts after
    /// it. No data is deleted: a data partition's retention is Kafka's (time/size), applied by the log manager.
    /// </summary>
    public void CompactPrefix(long upToOffset)
    {
        if (upToOffset <= _compactedTo) return;
        _baseTerm = TermAt(upToOffset);
        _compactedTo = upToOffset;
    }

    /// <summary>
    /// Installs a snapshot: the log must become empty and start at <paramref name="snapshotOffset"/> + 1. Storage can
    /// only restart a log at an offset below its current start, so a forward reset is refused (see the report).
    /// </summary>
    public void ResetToSnapshot(long snapshotOffset, long snapshotTerm)
    {
        long next = snapshotOffset + 1;
        if (next <= _log.LogStartOffset || _log.LogEndOffset == next && _log.LogStartOffset == next)
        {
            _log.TruncateTo(next);
        }
        else
        {
            throw new NotSupportedException(
                $"{_log.Partition}: installing a snapshot at {snapshotOffset} needs the log restarted at {next}, but it holds " +
                $"[{_log.LogStartOffset}, {_log.LogEndOffset}); partition logs cannot be reset forward yet");
        }
        _epochs.Clear();
        _cachedBatchFirst = _cachedBatchLast = -1;
        _compactedTo = snapshotOffset;
        _baseTerm = snapshotTerm;
    }

    /// <summary>A control batch with one LEADER_CHANGE record (key version:int16=0, type:int16=2; empty value).</summary>
    private ReadOnlyMemory<byte> BuildLeaderChangeBatch()
    {
        long now = _clock.UnixTimeMilliseconds;
        Span<byte> key = stackalloc byte[4];
        key[0] = 0;
        key[1] = 0;
        key[2] = 0;
        key[3] = LeaderChangeControlType;
        _controlBuilder.Reset(now, attributes: RecordBatchHeader.ControlMask);
        _controlBuilder.Add(now, key, ReadOnlySpan<byte>.Empty);
        return _controlBuilder.Build();
    }

    /// <summary>True when <paramref name="batch"/> is the control batch a leader appends on election.</summary>
    public static bool IsLeaderChangeBatch(ReadOnlySpan<byte> batch)
    {
        if (!RecordBatchHeader.TryRead(batch, out var header) || !header.IsControl || header.RecordsCount != 1) return false;
        var records = new RecordReader(batch);
        if (!records.TryRead(out var record, out _)) return false;
        var key = record.Key;
        return key.Length == 4 && key[0] == 0 && key[1] == 0 && key[2] == 0 && key[3] == LeaderChangeControlType;
    }

    /// <summary>Walks every batch header once to learn where each epoch starts.</summary>
    private void RebuildEpochCache()
    {
        _epochs.Clear();
        long position = _log.LogStartOffset;
        while (position < _log.LogEndOffset)
        {
            using LogReadResult read = _log.Read(position, _maxReadBytes, long.MaxValue, minOneBatch: true);
            if (read.OutOfRange || read.Records.IsEmpty) break;
            var span = read.Records.Span;
            int pos = 0;
            while (RecordBatchHeader.TryRead(span[pos..], out var header) && pos + header.TotalSize <= span.Length)
            {
                long term = Math.Max(header.PartitionLeaderEpoch, 0);
                if (_epochs.Count == 0 || term > _epochs[^1].Term) _epochs.Add((header.BaseOffset, term));
                position = header.LastOffset + 1;
                pos += header.TotalSize;
            }
            if (pos == 0) break;
        }
    }
}

using System.Buffers.Binary;
using Broker.Core.Diagnostics;
using Broker.Core.Records;
using Broker.Raft;
using Broker.Storage;

namespace Broker.Consensus.Raft;

/// <summary>
/// Makes a Storage <see cref="IPartitionLog"/> the log of a Raft group: one Raft entry is one stored record batch,
/// covering the batch's offsets [baseOffset, baseOffset + lastOffsetDelta], and the entry's term is the batch's
/// partitionLeaderEpoch (the Raft term is the Kafka leader epoch). The empty entry a new leader appends becomes a
/// control batch with no records (written only when older entries await commitment) that consumers skip (kafka-python
/// 2.0.2 excepted: it fails on a fetch whose only batch is empty; see the README).
/// Terms are answered from an epoch → start-offset cache (Kafka's leader-epoch checkpoint, kept in memory and
/// rebuilt by a header scan of the log on open; the term of the offset just before the log start, which no batch
/// carries any more, comes from an optional <see cref="EpochCheckpointFile"/>). Retention is applied to the partition
/// log by its owner (bounded by the high watermark), which then tells Raft where the log starts;
/// <see cref="CompactPrefix"/> only moves the Raft view of the log start and never deletes data. The Raft log starts
/// at the oldest stored batch (<see cref="IPartitionLog.StoredStartOffset"/>): Kafka's log start offset, which
/// DeleteRecords moves inside the stored data, only hides records from clients and is replicated by the driver.
/// Not thread-safe: used by one <see cref="RaftReplicatedLog"/> under its executor.
/// </summary>
public sealed class PartitionRaftLog : IRaftLog
{
    /// <summary>Bytes read per <see cref="Read"/> call (at least one batch is always returned).</summary>
    public const int DefaultMaxReadBytes = 1 << 20;
    private const int LeaderChangeControlType = 2;
    private static readonly Logger Logger = Broker.Core.Diagnostics.Log.For("raft");

    private readonly IPartitionLog _log;
    private readonly IClock _clock;
    private readonly int _maxReadBytes;
    /// <summary>(start offset, term) of each term present in the log, ascending in both.</summary>
    private readonly List<(long Start, long Term)> _epochs = new();
    private long _compactedTo = -1; // last offset covered by a Raft snapshot (CompactPrefix/ResetToSnapshot)
    private long _baseTerm;
    // Tiny cache of the batch found by the last EntryStart lookup.
    private long _cachedBatchFirst = -1, _cachedBatchLast = -1;
    private readonly EpochCheckpointFile? _checkpoint;
    private List<(long Start, long Term)>? _savedCheckpoint;

    public PartitionRaftLog(IPartitionLog log, IClock? clock = null, int maxReadBytes = DefaultMaxReadBytes,
        EpochCheckpointFile? checkpoint = null)
    {
        ArgumentNullException.ThrowIfNull(log);
        if (maxReadBytes < RecordBatchHeader.Size) throw new ArgumentOutOfRangeException(nameof(maxReadBytes));
        _log = log;
        _clock = clock ?? SystemClock.Instance;
        _maxReadBytes = maxReadBytes;
        _checkpoint = checkpoint;
        RebuildEpochCache();
        LoadBaseTerm();
    }

    /// <summary>False when the log starts above 0 and the term of the offset before its start is unknown (no
    /// checkpoint covers it): Raft then assumes term 0 there.</summary>
    public bool BaseTermKnown { get; private set; } = true;

    public IPartitionLog PartitionLog => _log;

    /// <summary>When set, the next appended entry gets broker time as its timestamps (LogAppendTime); one-shot.</summary>
    internal long? NextAppendTimeMs { get; set; }

    public long StartOffset => Math.Max(_log.StoredStartOffset, Math.Min(_compactedTo + 1, _log.LogEndOffset));
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
        using LogReadResult read = _log.ReadStored(offset, 1, long.MaxValue, minOneBatch: true);
        if (read.OutOfRange || !RecordBatchHeader.TryRead(read.Records.Span, out var header) || header.LastOffset < offset)
            throw new ArgumentOutOfRangeException(nameof(offset),
                $"{_log.Partition}: offset {offset} not in log [{_log.StoredStartOffset}, {_log.LogEndOffset})");
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
            using (LogReadResult read = _log.ReadStored(position, budget, long.MaxValue, minOneBatch: added == 0))
            {
                if (read.OutOfRange)
                {
                    if (added == 0 && position < _log.StoredStartOffset) return 0; // removed by retention
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
    /// Installs a snapshot: the partition log is discarded and restarts empty at <paramref name="snapshotOffset"/> + 1
    /// (<see cref="IPartitionLog.ResetTo"/>); the data before it is gone, like below Kafka's log start offset. The
    /// snapshot's term is checkpointed first so it survives a restart.
    /// </summary>
    public void ResetToSnapshot(long snapshotOffset, long snapshotTerm)
    {
        long next = snapshotOffset + 1;
        if (_checkpoint is not null && snapshotOffset >= 0)
        {
            var pairs = BuildCheckpoint();
            pairs.RemoveAll(p => p.Start >= snapshotOffset);
            pairs.Add((snapshotOffset, snapshotTerm));
            SaveCheckpoint(pairs);
        }
        _log.ResetTo(next);
        _epochs.Clear();
        _cachedBatchFirst = _cachedBatchLast = -1;
        _compactedTo = snapshotOffset;
        _baseTerm = snapshotTerm;
        BaseTermKnown = true;
    }

    /// <summary>
    /// Persists the epoch history (when it changed since the last save) so the term before the log start is known
    /// after a restart. Call before removing a log prefix (retention). No-op without a checkpoint file.
    /// </summary>
    public void CheckpointEpochs()
    {
        if (_checkpoint is null) return;
        var pairs = BuildCheckpoint();
        if (_savedCheckpoint is not null && _savedCheckpoint.SequenceEqual(pairs)) return;
        SaveCheckpoint(pairs);
    }

    private List<(long Start, long Term)> BuildCheckpoint()
    {
        var pairs = new List<(long Start, long Term)>(_epochs.Count + 1);
        long start = StartOffset;
        if (start > 0 && (_epochs.Count == 0 || _epochs[0].Start > start - 1)) pairs.Add((start - 1, BaseTerm));
        pairs.AddRange(_epochs);
        return pairs;
    }

    private void SaveCheckpoint(List<(long Start, long Term)> pairs)
    {
        _checkpoint!.Save(pairs);
        _savedCheckpoint = pairs;
    }

    /// <summary>On open: the term of the offset before the log start, from the checkpoint.</summary>
    private void LoadBaseTerm()
    {
        long start = _log.StoredStartOffset;
        if (start == 0) return;
        List<(long Start, long Term)> pairs = [];
        if (_checkpoint is not null)
        {
            try
            {
                pairs = _checkpoint.Load();
            }
            catch (Exception ex) when (ex is InvalidDataException or IOException)
            {
                Logger.Warn($"{_log.Partition}: ignoring epoch checkpoint: {ex.Message}");
            }
        }
        long term = -1;
        foreach ((long s, long t) in pairs)
            if (s <= start - 1) term = t;
        if (term >= 0)
        {
            _baseTerm = term;
            return;
        }
        BaseTermKnown = false;
        if (_checkpoint is not null)
            Logger.Warn($"{_log.Partition}: the term of offset {start - 1} (before the log start) is unknown; assuming 0");
    }

    /// <summary>
    /// Kafka's OffsetsForLeaderEpoch over this log (LeaderEpochFileCache.endOffsetFor): the epochs are the one holding
    /// <paramref name="logStartOffset"/> (for an empty log, the one of the offset before it), every later epoch that
    /// starts a batch, and <paramref name="currentEpoch"/> at the log end when no batch carries it yet (a leader that
    /// wrote nothing in its term). Answers the largest epoch at or below <paramref name="requestedEpoch"/> with the
    /// start offset of the next epoch, or the log end offset when it is the latest; (-1, -1) when the requested epoch
    /// is negative, above the latest, or below the first (its records, if any, are gone with the log start).
    /// </summary>
    public (int Epoch, long EndOffset) EndOffsetForEpoch(int requestedEpoch, long logStartOffset, long currentEpoch)
    {
        const int UndefinedEpoch = -1;
        const long UndefinedOffset = -1;
        if (requestedEpoch < 0) return (UndefinedEpoch, UndefinedOffset);
        long end = LogEndOffset;
        long start = Math.Min(logStartOffset, end);
        long last = -1, floor = -1, nextStart = -1;
        void Visit(long epochStart, long epoch)
        {
            if (epoch <= last) return;
            last = epoch;
            if (epoch <= requestedEpoch) floor = epoch;
            else if (nextStart < 0) nextStart = epochStart;
        }
        if (start < end) Visit(start, TermAt(start));
        else if (start > 0) Visit(start, TermAt(start - 1));
        foreach ((long epochStart, long epoch) in _epochs)
            if (epochStart > start) Visit(epochStart, epoch);
        if (currentEpoch > last) Visit(end, currentEpoch);
        if (floor < 0) return (UndefinedEpoch, UndefinedOffset);
        if (nextStart >= 0) return ((int)floor, nextStart);
        return floor == requestedEpoch ? ((int)floor, end) : (UndefinedEpoch, UndefinedOffset);
    }

    /// <summary>
    /// The leader no-op: a control batch with no records covering one offset. Kafka clients skip control batches
    /// and move past empty batches (as after compaction), so the no-op never reaches applications; it only costs the
    /// partition one offset.
    /// </summary>
    private ReadOnlyMemory<byte> BuildLeaderChangeBatch()
    {
        long now = _clock.UnixTimeMilliseconds;
        var batch = new byte[RecordBatchHeader.Size];
        Span<byte> b = batch;
        BinaryPrimitives.WriteInt64BigEndian(b, 0);                                   // base offset (assigned by the log)
        BinaryPrimitives.WriteInt32BigEndian(b[8..], RecordBatchHeader.Size - RecordBatchHeader.LogOverhead);
        BinaryPrimitives.WriteInt32BigEndian(b[12..], 0);                             // partition leader epoch (stamped)
        b[16] = 2;                                                                    // magic
        BinaryPrimitives.WriteInt16BigEndian(b[RecordBatchHeader.AttributesOffset..], RecordBatchHeader.ControlMask);
        BinaryPrimitives.WriteInt32BigEndian(b[23..], 0);                             // last offset delta
        BinaryPrimitives.WriteInt64BigEndian(b[27..], now);                           // first timestamp
        BinaryPrimitives.WriteInt64BigEndian(b[35..], now);                           // max timestamp
        BinaryPrimitives.WriteInt64BigEndian(b[43..], -1);                            // producer id
        BinaryPrimitives.WriteInt16BigEndian(b[51..], -1);                            // producer epoch
        BinaryPrimitives.WriteInt32BigEndian(b[53..], -1);                            // base sequence
        BinaryPrimitives.WriteInt32BigEndian(b[57..], 0);                             // records count
        RecordBatchValidator.RewriteCrc(b);
        return batch;
    }

    /// <summary>True when <paramref name="batch"/> is the no-op a leader appends on election: a control batch without
    /// records (or, as written by earlier versions, with one LEADER_CHANGE control record).</summary>
    public static bool IsLeaderChangeBatch(ReadOnlySpan<byte> batch)
    {
        if (!RecordBatchHeader.TryRead(batch, out var header) || !header.IsControl) return false;
        if (header.RecordsCount == 0) return header.LastOffsetDelta == 0;
        if (header.RecordsCount != 1) return false;
        var records = new RecordReader(batch);
        if (!records.TryRead(out var record, out _)) return false;
        var key = record.Key;
        return key.Length == 4 && key[0] == 0 && key[1] == 0 && key[2] == 0 && key[3] == LeaderChangeControlType;
    }

    /// <summary>Walks every batch header once to learn where each epoch starts.</summary>
    private void RebuildEpochCache()
    {
        _epochs.Clear();
        long position = _log.StoredStartOffset;
        while (position < _log.LogEndOffset)
        {
            using LogReadResult read = _log.ReadStored(position, _maxReadBytes, long.MaxValue, minOneBatch: true);
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

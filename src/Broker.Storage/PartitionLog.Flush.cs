namespace Broker.Storage;

/// <summary>
/// The flush policy (Kafka's flush.messages / flush.ms): appends count their records as unflushed and remember when
/// the oldest unflushed one arrived; an append that brings the count to <see cref="LogOptions.FlushIntervalMessages"/>
/// fsyncs at once, and <see cref="FlushIfDue"/> (called by a scheduler) fsyncs data older than
/// <see cref="LogOptions.FlushIntervalMs"/>. A flush syncs the active segment's log file and, when the segment list
/// changed since the last one (roll, truncation, retention, compaction, a new partition directory), the partition
/// directory (and once its parent), so new and deleted segment files survive a power loss too.
/// Counters are plain fields written under the write lock; readers use volatile reads.
/// </summary>
public sealed partial class PartitionLog
{
    private long _unflushedRecords;
    /// <summary>Clock time of the first append since the last flush (meaningful while records are unflushed).</summary>
    private long _oldestUnflushedMs;
    /// <summary>The segment list as of the last directory sync: a different array means files were added or removed.</summary>
    private Segment[]? _syncedSegments;
    private bool _parentSynced;

    /// <summary>Records appended since the last fsync (tests, metrics).</summary>
    public long UnflushedRecords => Volatile.Read(ref _unflushedRecords);

    /// <summary>
    /// Fsyncs when the oldest unflushed append is at least flush.ms old at <paramref name="nowMs"/> (clock time, as
    /// the log's <see cref="IClock"/> reports it). True when it flushed. Cheap when there is nothing to do.
    /// </summary>
    public bool FlushIfDue(long nowMs)
    {
        if (Volatile.Read(ref _unflushedRecords) == 0 || _disposed) return false;
        long interval = Options.FlushIntervalMs;
        if (interval == long.MaxValue) return false;
        lock (_writeLock)
        {
            if (_disposed || _unflushedRecords == 0 || nowMs - _oldestUnflushedMs < interval) return false;
            FlushLocked();
            return true;
        }
    }

    /// <summary>After an append of <paramref name="records"/> records (under the lock): count them, flush when due by count.</summary>
    private void NoteAppended(long records, LogOptions options)
    {
        long unflushed = _unflushedRecords;
        if (unflushed == 0) _oldestUnflushedMs = _clock.UnixTimeMilliseconds;
        unflushed += records;
        Volatile.Write(ref _unflushedRecords, unflushed);
        if (unflushed < options.FlushIntervalMessages) return;
        try
        {
            FlushLocked();
        }
        catch (IOException ex)
        {
            // The append itself succeeded and is visible; the counters stay, so the next append or flush retries.
            Logger.Error($"{Partition}: fsync after {unflushed} unflushed records failed", ex);
        }
    }

    /// <summary>fsync of the active segment's log, then of the directory when segment files came or went. Under the lock.</summary>
    private void FlushLocked()
    {
        SyncSealedLocked(); // segments rolled since the last flush hold flushed-to-be data too
        var segments = _segments;
        if (Volatile.Read(ref _unflushedRecords) == 0 && (_syncedSegments is null || ReferenceEquals(segments, _syncedSegments)))
        {
            // Nothing appended since the log was opened or last flushed (a clean shutdown of thousands of idle
            // partitions would otherwise pay two directory fsyncs each): what is on disk is already what it holds.
            _syncedSegments ??= segments;
            return;
        }
        segments[^1].Flush();
        if (!ReferenceEquals(segments, _syncedSegments))
        {
            DurableFile.SyncDirectory(Directory);
            if (!_parentSynced)
            {
                // The partition directory itself may be new: its entry in the data directory must be durable too.
                string? parent = Path.GetDirectoryName(Path.GetFullPath(Directory));
                if (parent != null) DurableFile.SyncDirectory(parent);
                _parentSynced = true;
            }
            _syncedSegments = segments;
        }
        Volatile.Write(ref _unflushedRecords, 0);
    }
}

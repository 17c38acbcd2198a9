namespace Broker.Storage;

/// <summary>
/// Sealing off the append path. A roll used to fsync the full segment (up to segment.bytes of dirty pages) inside
/// the append that crossed the limit, holding the write lock: every produce to the partition, and every request
/// behind it on the same connection, waited for the disk (0.5 s per 1 GiB roll measured under load). Now a roll only
/// closes the segment and queues it; a thread-pool item (at once, or LogOptions.SealedSegmentSyncDelayMs later)
/// fsyncs its log file outside the lock and then, under the
/// lock, writes its index files (without an fsync: written after the data's fsync returned, they cannot reach the
/// disk before the data). Index files are the "synced" mark: a segment sealed but not yet synced has
/// none, so after a crash the next open rebuilds them with a CRC-checking scan (see Segment.OpenExisting).
/// A flush (flush policy, write.caching=false, clean shutdown) syncs queued segments itself before the active one.
/// </summary>
public sealed partial class PartitionLog
{
    /// <summary>Sealed segments whose data is not known to be on disk yet, oldest first. Under the write lock.</summary>
    private readonly List<Segment> _sealedUnsynced = new();
    private bool _sealSyncQueued;

    /// <summary>Sealed segments waiting for their deferred fsync (tests, diagnostics).</summary>
    public int SegmentsAwaitingSync
    {
        get { lock (_writeLock) return _sealedUnsynced.Count; }
    }

    /// <summary>Seals <paramref name="segment"/> without waiting for the disk and queues its sync. Under the write lock.</summary>
    private void SealDeferred(Segment segment)
    {
        segment.Seal();
        segment.SealedAtMs = Environment.TickCount64;
        _sealedUnsynced.Add(segment);
        if (_sealSyncQueued) return;
        _sealSyncQueued = true;
        ScheduleSealSync(Options.SealedSegmentSyncDelayMs);
    }

    private void ScheduleSealSync(long delayMs)
    {
        if (delayMs <= 0) ThreadPool.UnsafeQueueUserWorkItem(static log => log.RunSealSync(), this, preferLocal: false);
        else _ = Task.Delay(TimeSpan.FromMilliseconds(delayMs)).ContinueWith(static (_, state) => ((PartitionLog)state!).RunSealSync(), this,
            CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
    }

    /// <summary>Background: fsync each queued segment outside the lock, then mark it synced under the lock.</summary>
    private void RunSealSync()
    {
        while (true)
        {
            Segment next;
            lock (_writeLock)
            {
                if (_disposed || _sealedUnsynced.Count == 0)
                {
                    _sealSyncQueued = false;
                    return;
                }
                next = _sealedUnsynced[0];
                long wait = next.SealedAtMs + Options.SealedSegmentSyncDelayMs - Environment.TickCount64;
                if (wait > 0)
                {
                    ScheduleSealSync(wait); // stays queued (_sealSyncQueued remains true)
                    return;
                }
            }
            try
            {
                next.SyncSealedData();
                lock (_writeLock)
                {
                    // A flush may have synced it meanwhile (then it left the queue), a truncation may have made it
                    // active again or deleted it: only a sealed segment still in the log gets its index files.
                    if (_sealedUnsynced.Count == 0 || !ReferenceEquals(_sealedUnsynced[0], next)) continue;
                    _sealedUnsynced.RemoveAt(0);
                    if (!_disposed && StillSealedHere(next)) next.PersistSealedIndexes();
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Left queued without index files: the next flush retries, and a restart would scan it.
                Logger.Error($"{Partition}: deferred sync of {next} failed", ex);
                lock (_writeLock) _sealSyncQueued = false;
                return;
            }
        }
    }

    /// <summary>
    /// At open: a sealed segment whose tail was lost (a crash between a roll and its deferred sync; it had no index
    /// files, so it was scanned and cut) leaves a hole before the next segment. As Kafka does after an unclean
    /// shutdown, the log ends at the hole: later segments are dropped (on a replica, Raft refills them from the leader).
    /// </summary>
    private void DropSegmentsAfterACutOne()
    {
        var segments = _segments;
        for (int i = 0; i < segments.Length - 1; i++)
        {
            if (!segments[i].CutAtOpen) continue;
            Logger.Warn($"{Partition}: {segments[i]} lost its tail in a crash; dropping the {segments.Length - 1 - i} segment(s) after it");
            TruncateTo(segments[i].NextOffset);
            return;
        }
    }

    /// <summary>False once a truncation made the segment active again, or retention, truncation or compaction removed it.</summary>
    private bool StillSealedHere(Segment segment) => segment.IsSealed && Array.IndexOf(_segments, segment) >= 0;

    /// <summary>Syncs every queued sealed segment now (flush, shutdown). Under the write lock.</summary>
    private void SyncSealedLocked()
    {
        while (_sealedUnsynced.Count > 0)
        {
            var segment = _sealedUnsynced[0];
            if (StillSealedHere(segment))
            {
                segment.SyncSealedData();
                segment.PersistSealedIndexes();
            }
            _sealedUnsynced.RemoveAt(0);
        }
    }
}

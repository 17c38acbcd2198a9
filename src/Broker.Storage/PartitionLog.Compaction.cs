using System.Diagnostics;
using Broker.Storage.Compaction;

namespace Broker.Storage;

/// <summary>
/// Log compaction (cleanup.policy=compact), Kafka's log cleaner kept simple. A pass builds key → latest offset over
/// every batch below the caller's bound (the high watermark), then rewrites each cleanable segment — sealed, wholly
/// below the bound, older than min.compaction.lag.ms — without the records that a later record of the same key
/// supersedes (and latest tombstones once delete.retention.ms has passed since the segment's newest timestamp).
/// Compressed batches are decompressed, filtered and recompressed with their codec (<see cref="BatchCompactor"/>).
/// Batches keep their headers and offset ranges, so Raft entries, epochs, time indexes and producer state are
/// unchanged. The heavy work (key map, copy, fsync) runs outside the write lock, so appends and reads go on; only
/// the swap takes it: the cleaned copy and its offset index were written to ".tmp" files, the old offset index is
/// removed, both copies are renamed into place and the segment is reopened from its (checked) index files. A crash
/// leaves the old log or the new one, each rebuilding a missing index at open; ".tmp" leftovers are removed at open.
/// Readers holding a lease on the old mapping keep reading the old bytes.
/// </summary>
public sealed partial class PartitionLog
{
    /// <summary>Upper bound of the key map of one pass; a log with more key bytes is cleaned over several passes.</summary>
    internal const long MaxMapBytes = 64L << 20;

    private readonly object _compactLock = new();
    /// <summary>Every segment ending at or below this offset was cleaned by the last pass (in memory only).</summary>
    private long _cleanedUpTo = -1;
    /// <summary>
    /// When the first tombstone the last pass had to keep (delete.retention.ms not yet passed) becomes removable;
    /// long.MaxValue when it kept none. Past it, the cleaned range counts as dirty again, so the tombstone goes
    /// without waiting for new writes to make the log dirty.
    /// </summary>
    private long _tombstoneDeadline = long.MaxValue;

    /// <summary>
    /// Share of the cleanable bytes not cleaned by the last pass; 1 once a tombstone that pass kept has passed
    /// delete.retention.ms (the whole range needs another pass).
    /// </summary>
    public double CleanableDirtyRatio(long maxOffsetExclusive, long nowMs)
    {
        lock (_writeLock)
        {
            if (_disposed) return 0;
            var segments = _segments;
            int count = CountCleanable(segments, maxOffsetExclusive, nowMs, Options);
            if (count > 0 && nowMs > Volatile.Read(ref _tombstoneDeadline)) return 1.0;
            long clean = 0, dirty = 0;
            long cleanedUpTo = Volatile.Read(ref _cleanedUpTo);
            for (int i = 0; i < count; i++)
            {
                if (segments[i].NextOffset <= cleanedUpTo) clean += segments[i].Size;
                else dirty += segments[i].Size;
            }
            return dirty == 0 ? 0 : (double)dirty / (clean + dirty);
        }
    }

    public CompactionResult Compact(long maxOffsetExclusive, long nowMs)
    {
        if (!Options.Compact || !Monitor.TryEnter(_compactLock)) return CompactionResult.None;
        try
        {
            return CompactOnce(maxOffsetExclusive, nowMs);
        }
        finally
        {
            Monitor.Exit(_compactLock);
        }
    }

    /// <summary>Sealed segments (a prefix) wholly below the bound and older than min.compaction.lag.ms.</summary>
    private static int CountCleanable(Segment[] segments, long maxOffsetExclusive, long nowMs, LogOptions options)
    {
        int count = 0;
        for (int i = 0; i < segments.Length - 1; i++)
        {
            var segment = segments[i];
            if (segment.NextOffset > maxOffsetExclusive) break;
            if (options.MinCompactionLagMs > 0 && LargestTimestamp(segment) > nowMs - options.MinCompactionLagMs) break;
            count++;
        }
        return count;
    }

    private CompactionResult CompactOnce(long maxOffsetExclusive, long nowMs)
    {
        var watch = Stopwatch.StartNew();
        Segment[] segments;
        LogOptions options;
        int count;
        var largest = new List<long>();
        var tombstoneExpired = new List<bool>();
        lock (_writeLock)
        {
            if (_disposed) return CompactionResult.None;
            segments = _segments;
            options = Options;
            count = CountCleanable(segments, maxOffsetExclusive, nowMs, options);
            for (int i = 0; i < count; i++)
            {
                largest.Add(LargestTimestamp(segments[i]));
                tombstoneExpired.Add(nowMs - largest[i] > options.DeleteRetentionMs);
            }
        }
        if (count == 0) return CompactionResult.None;

        var map = new KeyOffsetMap(MaxMapBytes);
        using var compactor = new BatchCompactor();
        if (!BuildKeyMap(segments, maxOffsetExclusive, compactor, map, out long mapEnd)) return CompactionResult.None;
        while (count > 0 && segments[count - 1].NextOffset > mapEnd) count--;
        if (count == 0)
        {
            Logger.Warn($"{Partition}: the cleaner's key map filled before the end of the first segment; nothing compacted");
            return CompactionResult.None;
        }

        long before = 0, after = 0, removed = 0;
        int rewritten = 0;
        var longestSwap = TimeSpan.Zero;
        for (int i = 0; i < count; i++)
        {
            var segment = segments[i];
            var outcome = CleanSegment(segment, compactor, map, tombstoneExpired[i], options.IndexIntervalBytes);
            if (outcome.Aborted) return CompactionResult.None; // the log changed under us (reset, close): next time
            before += outcome.Before;
            after += outcome.After;
            removed += outcome.Removed;
            if (outcome.Rewritten) rewritten++;
            if (outcome.Swap > longestSwap) longestSwap = outcome.Swap;
        }
        long cleanedUpTo = segments[count - 1].NextOffset;
        Volatile.Write(ref _cleanedUpTo, cleanedUpTo);
        Volatile.Write(ref _tombstoneDeadline, TombstoneDeadline(segments, count, largest, tombstoneExpired, map, cleanedUpTo, options));
        if (compactor.Undecodable > 0)
            Logger.Warn($"{Partition}: the cleaner kept {compactor.Undecodable} compressed batch(es) whose records would not decompress");
        return new CompactionResult(count, rewritten, before, after, removed, cleanedUpTo, watch.Elapsed) { LongestSwap = longestSwap };
    }

    /// <summary>The earliest time a tombstone kept by this pass (latest of its key, in a cleaned segment whose delete
    /// retention had not passed) becomes removable; long.MaxValue when none was kept.</summary>
    private static long TombstoneDeadline(Segment[] segments, int count, List<long> largest, List<bool> expired,
        KeyOffsetMap map, long cleanedUpTo, LogOptions options)
    {
        long deadline = long.MaxValue;
        foreach (long offset in map.LatestTombstones(cleanedUpTo))
        {
            int i = FindSegmentIndex(segments, offset);
            if (i >= count || expired[i]) continue;
            long at = largest[i] > long.MaxValue - options.DeleteRetentionMs ? long.MaxValue : largest[i] + options.DeleteRetentionMs;
            deadline = Math.Min(deadline, at);
        }
        return deadline;
    }

    /// <summary>
    /// Feeds the keys of every batch ending below <paramref name="maxOffsetExclusive"/> into the map. mapEnd is the
    /// offset up to which the map is complete (the bound, or where it filled). False when a segment went away.
    /// </summary>
    private static bool BuildKeyMap(Segment[] segments, long maxOffsetExclusive, BatchCompactor compactor, KeyOffsetMap map,
        out long mapEnd)
    {
        mapEnd = segments[0].BaseOffset;
        foreach (var segment in segments)
        {
            if (segment.BaseOffset >= maxOffsetExclusive) break;
            if (!segment.TryAcquire(out var region)) return false;
            if (region == null) continue;
            using (region)
            {
                var data = region.Span;
                int size = Math.Min(segment.Size, region.Capacity);
                int pos = 0;
                while (BatchScan.TryReadHeader(data, pos, size, out var header) && header.LastOffset < maxOffsetExclusive)
                {
                    if (!compactor.AddKeys(data[pos..], header, map)) return true;
                    mapEnd = header.LastOffset + 1;
                    pos += header.TotalSize;
                }
            }
        }
        return true;
    }

    private readonly record struct SegmentOutcome(bool Aborted, bool Rewritten, long Before, long After, long Removed,
        TimeSpan Swap = default);

    /// <summary>Rewrites one segment when it has anything to remove, and swaps the copy in.</summary>
    private SegmentOutcome CleanSegment(Segment segment, BatchCompactor compactor, KeyOffsetMap map, bool dropTombstones,
        int indexInterval)
    {
        // The lease keeps the old mapping in place (and non-null) until the old segment is closed, so no reader can
        // lazily map the renamed file with the old size.
        if (!segment.TryAcquire(out var region)) return new SegmentOutcome(true, false, 0, 0, 0);
        if (region == null) return default;
        using (region)
        {
            int size = Math.Min(segment.Size, region.Capacity);
            var data = region.Span[..size];
            bool dirty = false;
            int pos = 0;
            while (!dirty && BatchScan.TryReadHeader(data, pos, size, out var header))
            {
                dirty = compactor.HasRemovable(data[pos..], header, map, dropTombstones);
                pos += header.TotalSize;
            }
            if (!dirty) return new SegmentOutcome(false, false, size, size, 0);

            string tempLog = segment.CleanedPath, tempIndex = segment.CleanedIndexPath;
            CleanedCopy.Outcome copy;
            try
            {
                copy = CleanedCopy.Write(data, segment.BaseOffset, compactor, map, dropTombstones, indexInterval, tempLog, tempIndex);
                if (copy.Removed == 0 || copy.NextOffset != segment.NextOffset)
                    throw new InvalidOperationException($"{segment}: cleaned copy is inconsistent (removed {copy.Removed}, next offset {copy.NextOffset})");
                File.SetLastWriteTimeUtc(tempLog, File.GetLastWriteTimeUtc(segment.LogPath));
            }
            catch
            {
                TryDelete(tempLog);
                TryDelete(tempIndex);
                throw;
            }
            return SwapIn(segment, tempLog, tempIndex, indexInterval, out var swap)
                ? new SegmentOutcome(false, true, size, copy.Bytes, copy.Removed, swap)
                : new SegmentOutcome(true, false, 0, 0, 0);
        }
    }

    /// <summary>
    /// Under the write lock, and short (renames and an index-checked open, no scan of the data): if
    /// <paramref name="old"/> is still part of the log, replaces its log and offset index files with the cleaned
    /// copies and the segment object with one opened from them. False (copies discarded) otherwise.
    /// </summary>
    private bool SwapIn(Segment old, string tempLog, string tempIndex, int indexInterval, out TimeSpan held)
    {
        held = TimeSpan.Zero;
        lock (_writeLock)
        {
            long start = Stopwatch.GetTimestamp();
            int index = _disposed ? -1 : Array.IndexOf(_segments, old);
            if (index < 0 || index == _segments.Length - 1)
            {
                TryDelete(tempLog);
                TryDelete(tempIndex);
                return false;
            }
            // Closed first: a reader must never map the renamed (smaller) file with the old segment's size, and the
            // idle sweep may drop the old mapping at any time, after which a reader would map the file again. Readers
            // holding a lease keep the old bytes; the others see a closed segment, re-read the segment list and find
            // the new one below (readers do not take this lock, so they wait only for the renames).
            old.Dispose();
            Segment fresh;
            Exception? failure = null;
            try
            {
                // The old offset index goes first: a crash before the log rename then finds the old log without one,
                // a crash after it the new log without one, and either is rebuilt at open. The time index stays valid
                // for both files (same batch offsets and timestamps).
                string indexPath = Segment.PathFor(Directory, old.BaseOffset, Segment.IndexSuffix);
                File.Delete(indexPath);
                File.Move(tempLog, old.LogPath, overwrite: true);
                File.Move(tempIndex, indexPath, overwrite: true);
                fresh = Segment.OpenExisting(Directory, old.BaseOffset, active: false, indexInterval, Logger);
            }
            catch (Exception ex)
            {
                failure = ex;
                fresh = ReopenAfterFailedSwap(old, indexInterval, ex);
                TryDelete(tempLog);
                TryDelete(tempIndex);
            }
            if (fresh.NextOffset != old.NextOffset)
                Logger.Error($"{Partition}: compacted {fresh} does not end where {old} did");
            var segments = (Segment[])_segments.Clone();
            segments[index] = fresh;
            Volatile.Write(ref _segments, segments);
            held = Stopwatch.GetElapsedTime(start);
            if (failure != null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
        }
        return true;
    }

    /// <summary>
    /// A swap failed part-way (I/O error) after the old segment was closed: reopens whatever file is in place, the old
    /// one or the cleaned copy (a missing index is rebuilt), so the log stays readable (the caller then rethrows the
    /// error). When even that fails the whole log is closed, so reads fail instead of waiting for a segment that never
    /// comes back, until the broker reopens it.
    /// </summary>
    private Segment ReopenAfterFailedSwap(Segment old, int indexInterval, Exception swapError)
    {
        Logger.Error($"{Partition}: replacing {old} with its cleaned copy failed; reopening the file in place", swapError);
        try
        {
            return Segment.OpenExisting(Directory, old.BaseOffset, active: false, indexInterval, Logger);
        }
        catch (Exception ex)
        {
            Logger.Error($"{Partition}: cannot reopen {old} after a failed compaction swap; closing the log", ex);
            Dispose();
            throw new IOException($"{Partition}: log closed after a failed compaction swap of {old}", ex);
        }
    }
}

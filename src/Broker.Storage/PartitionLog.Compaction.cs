using System.Buffers;
using System.Diagnostics;
using Broker.Core.Records;
using Broker.Storage.Compaction;

namespace Broker.Storage;

/// <summary>
/// Log compaction (cleanup.policy=compact), Kafka's log cleaner kept simple. A pass builds key → latest offset over
/// every batch below the caller's bound (the high watermark), then rewrites each cleanable segment — sealed, wholly
/// below the bound, older than min.compaction.lag.ms — without the records that a later record of the same key
/// supersedes (and latest tombstones once delete.retention.ms has passed since the segment's newest timestamp).
/// Batches keep their headers and offset ranges, so Raft entries, epochs and producer state are unchanged.
/// The heavy work runs outside the write lock; only the swap takes it: the cleaned copy is written to a ".tmp" file
/// and fsynced, the old index files are removed, the copy is renamed over the segment file (atomic) and the segment
/// is reopened with rebuilt indexes. A crash leaves the old file (the ".tmp" copy is removed at open) or the new one
/// (indexes rebuilt at open). Readers holding a lease on the old mapping keep reading the old bytes.
/// </summary>
public sealed partial class PartitionLog
{
    /// <summary>Upper bound of the key map of one pass; a log with more key bytes is cleaned over several passes.</summary>
    internal const long MaxMapBytes = 64L << 20;

    private readonly object _compactLock = new();
    /// <summary>Every segment ending at or below this offset was cleaned by the last pass (in memory only).</summary>
    private long _cleanedUpTo = -1;

    public double CleanableDirtyRatio(long maxOffsetExclusive, long nowMs)
    {
        lock (_writeLock)
        {
            if (_disposed) return 0;
            var segments = _segments;
            int count = CountCleanable(segments, maxOffsetExclusive, nowMs, Options);
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
        var tombstoneExpired = new List<bool>();
        lock (_writeLock)
        {
            if (_disposed) return CompactionResult.None;
            segments = _segments;
            options = Options;
            count = CountCleanable(segments, maxOffsetExclusive, nowMs, options);
            for (int i = 0; i < count; i++)
                tombstoneExpired.Add(nowMs - LargestTimestamp(segments[i]) > options.DeleteRetentionMs);
        }
        if (count == 0) return CompactionResult.None;

        var map = new KeyOffsetMap(MaxMapBytes);
        if (!BuildKeyMap(segments, maxOffsetExclusive, map, out long mapEnd)) return CompactionResult.None;
        while (count > 0 && segments[count - 1].NextOffset > mapEnd) count--;
        if (count == 0)
        {
            Logger.Warn($"{Partition}: the cleaner's key map filled before the end of the first segment; nothing compacted");
            return CompactionResult.None;
        }

        long before = 0, after = 0, removed = 0;
        int rewritten = 0;
        for (int i = 0; i < count; i++)
        {
            var segment = segments[i];
            var outcome = CleanSegment(segment, map, tombstoneExpired[i], options.IndexIntervalBytes);
            if (outcome.Aborted) return CompactionResult.None; // the log changed under us (reset, close): next time
            before += outcome.Before;
            after += outcome.After;
            removed += outcome.Removed;
            if (outcome.Rewritten) rewritten++;
        }
        long cleanedUpTo = segments[count - 1].NextOffset;
        Volatile.Write(ref _cleanedUpTo, cleanedUpTo);
        return new CompactionResult(count, rewritten, before, after, removed, cleanedUpTo, watch.Elapsed);
    }

    /// <summary>
    /// Feeds the keys of every batch ending below <paramref name="maxOffsetExclusive"/> into the map. mapEnd is the
    /// offset up to which the map is complete (the bound, or where it filled). False when a segment went away.
    /// </summary>
    private static bool BuildKeyMap(Segment[] segments, long maxOffsetExclusive, KeyOffsetMap map, out long mapEnd)
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
                    if (!BatchCompactor.AddKeys(data[pos..], header, map)) return true;
                    mapEnd = header.LastOffset + 1;
                    pos += header.TotalSize;
                }
            }
        }
        return true;
    }

    private readonly record struct SegmentOutcome(bool Aborted, bool Rewritten, long Before, long After, long Removed);

    /// <summary>Rewrites one segment when it has anything to remove, and swaps the copy in.</summary>
    private SegmentOutcome CleanSegment(Segment segment, KeyOffsetMap map, bool dropTombstones, int indexInterval)
    {
        // The lease keeps the old mapping in place (and non-null) until the old segment is closed, so no reader can
        // lazily map the renamed file with the old size.
        if (!segment.TryAcquire(out var region)) return new SegmentOutcome(true, false, 0, 0, 0);
        if (region == null) return default;
        using (region)
        {
            int size = Math.Min(segment.Size, region.Capacity);
            var data = region.Span[..size];
            long removable = 0;
            int pos = 0;
            while (BatchScan.TryReadHeader(data, pos, size, out var header))
            {
                removable += BatchCompactor.CountRemovable(data[pos..], header, map, dropTombstones);
                pos += header.TotalSize;
            }
            if (removable == 0) return new SegmentOutcome(false, false, size, size, 0);

            string temp = segment.CleanedPath;
            long written;
            try
            {
                written = WriteCleanedCopy(temp, data, map, dropTombstones, out long removed, out long nextOffset);
                if (removed != removable || nextOffset != segment.NextOffset)
                    throw new InvalidOperationException($"{segment}: cleaned copy is inconsistent (removed {removed} of {removable}, next offset {nextOffset})");
                File.SetLastWriteTimeUtc(temp, File.GetLastWriteTimeUtc(segment.LogPath));
            }
            catch
            {
                TryDelete(temp);
                throw;
            }
            return SwapIn(segment, temp, indexInterval)
                ? new SegmentOutcome(false, true, size, written, removable)
                : new SegmentOutcome(true, false, 0, 0, 0);
        }
    }

    /// <summary>Writes the cleaned batches to <paramref name="temp"/> and fsyncs it; returns its size.</summary>
    private static long WriteCleanedCopy(string temp, ReadOnlySpan<byte> data, KeyOffsetMap map, bool dropTombstones,
        out long removed, out long nextOffset)
    {
        removed = 0;
        nextOffset = -1;
        long written = 0;
        byte[] buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            using var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
            int pos = 0;
            while (BatchScan.TryReadHeader(data, pos, data.Length, out var header))
            {
                if (buffer.Length < header.TotalSize)
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = ArrayPool<byte>.Shared.Rent(header.TotalSize);
                }
                int length = BatchCompactor.Rewrite(data[pos..], header, map, dropTombstones, buffer, out int gone);
                stream.Write(buffer, 0, length);
                written += length;
                removed += gone;
                nextOffset = header.LastOffset + 1;
                pos += header.TotalSize;
            }
            stream.Flush(flushToDisk: true);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        return written;
    }

    /// <summary>
    /// Under the write lock: if <paramref name="old"/> is still part of the log, replaces its file with
    /// <paramref name="temp"/> and the segment object with one reopened from it. False (copy discarded) otherwise.
    /// </summary>
    private bool SwapIn(Segment old, string temp, int indexInterval)
    {
        lock (_writeLock)
        {
            int index = _disposed ? -1 : Array.IndexOf(_segments, old);
            if (index < 0 || index == _segments.Length - 1)
            {
                TryDelete(temp);
                return false;
            }
            // Index files first: a crash after the rename then finds none and rebuilds them from the new file.
            File.Delete(Segment.PathFor(Directory, old.BaseOffset, Segment.IndexSuffix));
            File.Delete(Segment.PathFor(Directory, old.BaseOffset, Segment.TimeIndexSuffix));
            File.Move(temp, old.LogPath, overwrite: true);
            var fresh = Segment.OpenRewritten(Directory, old.BaseOffset, indexInterval, Logger);
            if (fresh.NextOffset != old.NextOffset)
                Logger.Error($"{Partition}: compacted {fresh} does not end where {old} did");
            var segments = (Segment[])_segments.Clone();
            segments[index] = fresh;
            Volatile.Write(ref _segments, segments);
            old.Dispose();
            return true;
        }
    }
}

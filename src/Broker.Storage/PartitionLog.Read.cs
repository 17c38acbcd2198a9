using Broker.Core.Records;

namespace Broker.Storage;

/// <summary>Reads (zero-copy, lock-free) and timestamp lookups.</summary>
public sealed partial class PartitionLog
{
    private static readonly LogReadResult OutOfRangeResult = new(ReadOnlyMemory<byte>.Empty, null, outOfRange: true);
    private static readonly LogReadResult EmptyResult = new(ReadOnlyMemory<byte>.Empty, null);

    public LogReadResult Read(long offset, int maxBytes, long maxOffsetExclusive, bool minOneBatch) =>
        Read(offset, maxBytes, maxOffsetExclusive, minOneBatch, stored: false);

    public LogReadResult ReadStored(long offset, int maxBytes, long maxOffsetExclusive, bool minOneBatch) =>
        Read(offset, maxBytes, maxOffsetExclusive, minOneBatch, stored: true);

    /// <param name="stored">Bound the read by the oldest stored segment instead of the log start offset.</param>
    private LogReadResult Read(long offset, int maxBytes, long maxOffsetExclusive, bool minOneBatch, bool stored)
    {
        var spin = new SpinWait();
        while (true)
        {
            ThrowIfDisposed();
            // End offset first: everything below it was published, segment list included, before it moved.
            long end = Volatile.Read(ref _logEndOffset);
            var segments = Volatile.Read(ref _segments);
            long start = stored ? segments[0].BaseOffset : EffectiveStart(segments, end);
            if (offset < start || offset > end) return OutOfRangeResult;
            if (offset == end) return EmptyResult;
            if (TryReadFrom(segments, offset, maxBytes, maxOffsetExclusive, minOneBatch, out var result)) return result;
            // A segment or mapping went away under us (retention, truncation, close): look again.
            spin.SpinOnce();
        }
    }

    private static bool TryReadFrom(Segment[] segments, long offset, int maxBytes, long maxOffsetExclusive,
        bool minOneBatch, out LogReadResult result)
    {
        result = EmptyResult;
        for (int i = FindSegmentIndex(segments, offset); i < segments.Length; i++)
        {
            var segment = segments[i];
            if (!segment.TryAcquire(out var region)) return false;
            if (region == null) continue;
            int size = Math.Min(segment.Size, region.Capacity);
            var data = region.Span;
            int start = segment.OffsetIndex.Lookup(offset);
            if (start >= size) start = 0;
            int first = BatchScan.FindBatch(data, start, size, offset, out var header);
            if (first < 0)
            {
                // The offset is past this segment's data: it lives in the next one.
                region.Dispose();
                continue;
            }
            if (header.LastOffset >= maxOffsetExclusive || (header.TotalSize > maxBytes && !minOneBatch))
            {
                region.Dispose();
                return true;
            }
            int stop = first + header.TotalSize;
            while (BatchScan.TryReadHeader(data, stop, size, out header)
                   && header.LastOffset < maxOffsetExclusive
                   && (long)stop - first + header.TotalSize <= maxBytes)
            {
                stop += header.TotalSize;
            }
            region.NoteFilePath(segment.LogPath); // lets a plaintext connection sendfile these bytes
            result = new LogReadResult(region.Memory.Slice(first, stop - first), region);
            return true;
        }
        return true;
    }

    public (long Offset, long Timestamp)? FindOffsetByTimestamp(long timestampMs)
    {
        lock (_writeLock)
        {
            ThrowIfDisposed();
            long logStart = LogStartOffset;
            foreach (var segment in _segments)
            {
                if (segment.Size == 0 || segment.MaxTimestamp < timestampMs || segment.NextOffset <= logStart) continue;
                if (!segment.TryAcquire(out var region) || region == null) continue;
                using (region)
                {
                    var data = region.Span;
                    int size = Math.Min(segment.Size, region.Capacity);
                    long from = Math.Max(segment.TimeIndex.LookupStartOffset(timestampMs), logStart);
                    int pos = segment.OffsetIndex.Lookup(from);
                    while (BatchScan.TryReadHeader(data, pos, size, out var header))
                    {
                        // Batches wholly below the log start offset (DeleteRecords) are not searched.
                        if (header.MaxTimestamp >= timestampMs && header.LastOffset >= logStart
                            && FirstRecordAtOrAfter(data.Slice(pos, header.TotalSize), header, timestampMs, logStart) is { } hit)
                            return hit;
                        pos += header.TotalSize;
                    }
                }
            }
            return null;
        }
    }

    public (long Offset, long Timestamp)? FindMaxTimestamp()
    {
        lock (_writeLock)
        {
            ThrowIfDisposed();
            (long Offset, long Timestamp)? best = null;
            foreach (var segment in _segments)
            {
                if (segment.Size == 0) continue;
                if (best == null || segment.MaxTimestamp > best.Value.Timestamp)
                    best = (segment.OffsetOfMaxTimestamp, segment.MaxTimestamp);
            }
            return best;
        }
    }
}

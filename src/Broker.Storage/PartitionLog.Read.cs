using Broker.Core.Records;

namespace Broker.Storage;

/// <summary>Reads (zero-copy, lock-free) and timestamp lookups.</summary>
public sealed partial class PartitionLog
{
    private static readonly LogReadResult OutOfRangeResult = new(ReadOnlyMemory<byte>.Empty, null, outOfRange: true);
    private static readonly LogReadResult EmptyResult = new(ReadOnlyMemory<byte>.Empty, null);

    public LogReadResult Read(long offset, int maxBytes, long maxOffsetExclusive, bool minOneBatch)
    {
        var spin = new SpinWait();
        while (true)
        {
            ThrowIfDisposed();
            // End offset first: everything below it was published, segment list included, before it moved.
            long end = Volatile.Read(ref _logEndOffset);
            var segments = Volatile.Read(ref _segments);
            if (offset < segments[0].BaseOffset || offset > end) return OutOfRangeResult;
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
            foreach (var segment in _segments)
            {
                if (segment.Size == 0 || segment.MaxTimestamp < timestampMs) continue;
                if (!segment.TryAcquire(out var region) || region == null) continue;
                using (region)
                {
                    var data = region.Span;
                    int size = Math.Min(segment.Size, region.Capacity);
                    int pos = segment.OffsetIndex.Lookup(segment.TimeIndex.LookupStartOffset(timestampMs));
                    while (BatchScan.TryReadHeader(data, pos, size, out var header))
                    {
                        if (header.MaxTimestamp >= timestampMs)
                            return FirstRecordAtOrAfter(data.Slice(pos, header.TotalSize), header, timestampMs);
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

    /// <summary>
    /// Within a batch whose max timestamp reaches <paramref name="timestampMs"/>: for an uncompressed CreateTime
    /// batch, the first record at or after it (walking the records); otherwise the batch's base offset, with
    /// the base timestamp when that already qualifies, else the max timestamp.
    /// </summary>
    private static (long Offset, long Timestamp) FirstRecordAtOrAfter(ReadOnlySpan<byte> batch, in RecordBatchHeader header, long timestampMs)
    {
        var fallback = (header.BaseOffset, header.BaseTimestamp >= timestampMs ? header.BaseTimestamp : header.MaxTimestamp);
        if (header.IsLogAppendTime) return (header.BaseOffset, header.MaxTimestamp);
        if (header.Compression != CompressionCodec.None) return fallback;
        var records = new RecordReader(batch);
        while (records.TryRead(out var record, out _)) // a malformed record ends the walk
        {
            if (record.Timestamp >= timestampMs) return (record.Offset, record.Timestamp);
        }
        return fallback;
    }
}

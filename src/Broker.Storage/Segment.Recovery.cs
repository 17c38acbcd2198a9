using Broker.Core.Diagnostics;
using Broker.Core.Records;

namespace Broker.Storage;

/// <summary>
/// Opening an existing segment. The active (last) one is always re-scanned with full validation and cut at the
/// first torn, corrupt or zero-filled batch. A sealed one is trusted when its indexes pass cheap checks, and
/// re-scanned the same way when they are missing or do not add up.
/// </summary>
internal sealed partial class Segment
{
    /// <summary>Batches a sparse index can leave unindexed after its last entry (smallest batch is 61 bytes).</summary>
    private static int MaxUnindexedBatches(int indexInterval) => indexInterval / RecordBatchHeader.Size + 2;

    public static Segment OpenExisting(string directory, long baseOffset, bool active, int indexInterval, Logger logger)
    {
        var segment = new Segment(directory, baseOffset,
            new OffsetIndex(IndexFile<OffsetEntry>.CreateEmpty(PathFor(directory, baseOffset, IndexSuffix)), baseOffset),
            new TimeIndex(IndexFile<TimeEntry>.CreateEmpty(PathFor(directory, baseOffset, TimeIndexSuffix)), baseOffset));
        try
        {
            long length = new FileInfo(segment.LogPath).Length;
            if (length > int.MaxValue) throw new IOException($"{segment.LogPath}: segment larger than 2 GiB");
            if (active)
            {
                segment.RecoverByScan((int)length, indexInterval, logger, sealAfter: false);
                segment.MakeWritable();
            }
            else if (!segment.TryLoadIndexes((int)length, indexInterval, out string? problem))
            {
                logger.Warn($"{segment.LogPath}: {problem}; rebuilding indexes from the log");
                segment.RecoverByScan((int)length, indexInterval, logger, sealAfter: true);
            }
            return segment;
        }
        catch
        {
            segment.Dispose();
            throw;
        }
    }

    /// <summary>True when opening found a torn or corrupt tail and cut it off (PartitionLog then drops later segments).</summary>
    public bool CutAtOpen { get; private set; }

    /// <summary>Validates every batch (CRC included), cuts the file after the last good one, rebuilds indexes.</summary>
    private void RecoverByScan(int length, int indexInterval, Logger logger, bool sealAfter)
    {
        int validEnd = 0;
        using (var handle = File.OpenHandle(LogPath, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete))
        {
            if (length > 0)
            {
                using var region = MappedRegion.Map(handle, length);
                validEnd = RebuildFrom(region.Span, verifyCrc: true, indexInterval);
            }
            else
            {
                RebuildFrom(default, verifyCrc: true, indexInterval);
            }
            if (validEnd < length)
            {
                CutAtOpen = true;
                RandomAccess.SetLength(handle, validEnd);
                logger.Warn($"{LogPath}: truncated {length - validEnd} bytes after offset {NextOffset - 1} " +
                            $"(torn, corrupt or unwritten tail); {validEnd} bytes kept");
            }
        }
        if (sealAfter) TimeIndex.MaybeAppend(MaxTimestamp, OffsetOfMaxTimestamp);
        PersistIndexes();
    }

    /// <summary>
    /// Loads both index files of a sealed segment and checks them: whole entries, monotonic, inside the file, the
    /// last offset entry naming a real batch, and a short header walk from there reaching the end of the file
    /// exactly (which also yields the next offset and any newer timestamp).
    /// </summary>
    private bool TryLoadIndexes(int length, int indexInterval, out string? problem)
    {
        var offsets = IndexFile<OffsetEntry>.TryLoad(OffsetIndex.File.Path, zeroFirstEntryIsValid: false);
        var times = IndexFile<TimeEntry>.TryLoad(TimeIndex.File.Path, zeroFirstEntryIsValid: true);
        if (offsets == null || times == null)
        {
            problem = "index or time index missing or of bad length";
            return false;
        }
        OffsetIndex = new OffsetIndex(offsets, BaseOffset);
        TimeIndex = new TimeIndex(times, BaseOffset);
        if (!OffsetIndex.IsStructurallyValid(length))
        {
            problem = "offset index entries out of order or past the end";
            return false;
        }
        if (!WalkTail(length, indexInterval, out long next, out long tailMax, out long tailMaxOffset, out problem))
            return false;
        if (!TimeIndex.IsStructurallyValid(next))
        {
            problem = "time index entries out of order or past the end";
            return false;
        }
        var last = TimeIndex.Last;
        MaxTimestamp = last?.Timestamp ?? -1;
        OffsetOfMaxTimestamp = last is { } l ? BaseOffset + l.RelativeOffset : BaseOffset;
        if (tailMax > MaxTimestamp)
        {
            MaxTimestamp = tailMax;
            OffsetOfMaxTimestamp = tailMaxOffset;
        }
        Volatile.Write(ref _size, length);
        Volatile.Write(ref _nextOffset, next);
        return true;
    }

    private bool WalkTail(int length, int indexInterval, out long next, out long tailMax, out long tailMaxOffset, out string? problem)
    {
        var lastEntry = OffsetIndex.Last;
        int pos = lastEntry?.Position ?? 0;
        next = BaseOffset;
        tailMax = -1;
        tailMaxOffset = BaseOffset;
        problem = null;
        int limit = lastEntry == null ? int.MaxValue : MaxUnindexedBatches(indexInterval);
        Span<byte> buffer = stackalloc byte[RecordBatchHeader.Size];
        using var handle = File.OpenHandle(LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        for (int walked = 0; pos < length; walked++)
        {
            if (walked > limit)
            {
                problem = "offset index too sparse for its log";
                return false;
            }
            if (RandomAccess.Read(handle, buffer, pos) != buffer.Length ||
                !RecordBatchHeader.TryRead(buffer, out var header) || header.Magic != 2 ||
                header.BatchLength < RecordBatchHeader.Size - RecordBatchHeader.LogOverhead ||
                pos + (long)header.BatchLength + RecordBatchHeader.LogOverhead > length ||
                header.LastOffsetDelta < 0 || header.BaseOffset < next)
            {
                problem = $"no valid batch at position {pos}";
                return false;
            }
            if (walked == 0 && lastEntry is { } e && header.BaseOffset != BaseOffset + e.RelativeOffset)
            {
                problem = "last offset index entry does not match its batch";
                return false;
            }
            if (header.MaxTimestamp > tailMax)
            {
                tailMax = header.MaxTimestamp;
                tailMaxOffset = header.BaseOffset;
            }
            next = header.LastOffset + 1;
            pos += header.TotalSize;
        }
        return true;
    }
}

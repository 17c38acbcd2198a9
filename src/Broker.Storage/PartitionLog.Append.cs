namespace Broker.Storage;

/// <summary>Appends and segment rolling.</summary>
public sealed partial class PartitionLog
{
    public AppendInfo Append(ReadOnlySpan<byte> batches, int leaderEpoch, long? logAppendTimeMs = null)
    {
        var (count, offsetCount) = CheckInput(batches);
        lock (_writeLock)
        {
            ThrowIfDisposed();
            var options = Options;
            long firstOffset = _logEndOffset;
            long lastOffset = firstOffset + offsetCount - 1;
            var active = _segments[^1];
            if (ShouldRoll(active, batches.Length, lastOffset, options)) active = Roll();
            if (active.Size == 0) active.FirstAppendMs = _clock.UnixTimeMilliseconds;
            active.Append(batches, firstOffset, leaderEpoch, logAppendTimeMs, options.SegmentBytes, options.IndexIntervalBytes);
            Volatile.Write(ref _logEndOffset, lastOffset + 1);
            ApplyProducerBatches(batches, firstOffset, logAppendTimeMs);
            NoteAppended(offsetCount, options);
            return new AppendInfo(firstOffset, lastOffset, count, logAppendTimeMs ?? -1);
        }
    }

    /// <summary>
    /// Walks the input once: every batch must have a sane header (magic 2, length at least a header's, whole batch
    /// present). The caller validated CRCs; this only guards storage against a framing bug.
    /// </summary>
    private static (int Count, long OffsetCount) CheckInput(ReadOnlySpan<byte> batches)
    {
        if (batches.IsEmpty) throw new ArgumentException("nothing to append", nameof(batches));
        int pos = 0, count = 0;
        long offsets = 0;
        while (pos < batches.Length)
        {
            if (!BatchScan.TryReadHeader(batches, pos, batches.Length, out var header))
                throw new ArgumentException($"batch {count} at byte {pos} is truncated or malformed", nameof(batches));
            offsets += header.LastOffsetDelta + 1L;
            pos += header.TotalSize;
            count++;
        }
        return (count, offsets);
    }

    /// <summary>
    /// Roll when the active segment has data and the new bytes would push it past segment.bytes, it is older than
    /// segment.ms, or the new offsets would not fit its 32-bit relative index. An oversized batch still goes into
    /// a (fresh) segment on its own.
    /// </summary>
    private bool ShouldRoll(Segment active, int newBytes, long lastOffset, LogOptions options)
    {
        if (active.Size == 0) return false;
        long segmentBytes = Math.Min(options.SegmentBytes, int.MaxValue);
        return active.Size + (long)newBytes > segmentBytes
               || _clock.UnixTimeMilliseconds - active.FirstAppendMs >= options.SegmentMs
               || lastOffset - active.BaseOffset > int.MaxValue;
    }

    /// <summary>Seals the active segment and starts a new one at the log end offset (with a producer state snapshot
    /// there, so a restart after a crash replays at most the active segment and any segment not yet synced).</summary>
    private Segment Roll()
    {
        var segments = _segments;
        var sealing = segments[^1];
        SealDeferred(sealing); // the fsync runs off the append path (PartitionLog.SealSync.cs)
        TryWriteProducerSnapshot();
        var next = Segment.CreateActive(Directory, _logEndOffset);
        var grown = new Segment[segments.Length + 1];
        segments.CopyTo(grown, 0);
        grown[^1] = next;
        Volatile.Write(ref _segments, grown);
        Logger.Debug($"{Partition}: rolled {sealing}; new segment at {next.BaseOffset}");
        return next;
    }
}

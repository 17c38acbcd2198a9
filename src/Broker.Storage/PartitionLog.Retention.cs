namespace Broker.Storage;

/// <summary>Retention (whole oldest segments: expired, over size or wholly below the log start offset; idle
/// producers), truncation (follower divergence; producer state is rebuilt) and full resets (snapshot install;
/// producer state is cleared).</summary>
public sealed partial class PartitionLog
{
    public int ApplyRetention(long nowMs) => ApplyRetention(nowMs, long.MaxValue);

    public int ApplyRetention(long nowMs, long maxOffsetExclusive)
    {
        lock (_writeLock)
        {
            if (_disposed) return 0;
            var options = Options;
            var segments = _segments;
            long total = 0;
            foreach (var segment in segments) total += segment.Size;
            long logStart = LogStartOffset;

            int deletable = 0;
            foreach (var segment in segments)
            {
                if (segment.Size == 0) break; // only the active segment can be empty
                if (segment.NextOffset > maxOffsetExclusive) break; // holds offsets the caller must keep
                bool belowStart = segment.NextOffset <= logStart; // every record in it was deleted (DeleteRecords)
                bool expired = options.RetentionMs >= 0 && LargestTimestamp(segment) < nowMs - options.RetentionMs;
                bool overSize = options.RetentionBytes >= 0 && total - segment.Size >= options.RetentionBytes;
                if (!belowStart && !expired && !overSize) break;
                total -= segment.Size;
                deletable++;
            }
            int idle = _producers.RemoveExpired(nowMs, options.ProducerIdExpirationMs);
            if (idle > 0) Logger.Info($"{Partition}: {idle} idle producer(s) expired; {_producers.Count} left");
            if (deletable == 0) return 0;
            if (deletable == segments.Length)
            {
                // Everything is gone, the active segment included: keep an empty one at the end offset.
                Roll();
                segments = _segments;
            }
            Volatile.Write(ref _segments, segments[deletable..]);
            DeleteSegments(segments.AsSpan(0, deletable));
            Logger.Info($"{Partition}: retention deleted {deletable} segment(s); log start offset now {LogStartOffset}" +
                        (LogStartOffset > StoredStartOffset ? $" (stored from {StoredStartOffset})" : ""));
            return deletable;
        }
    }

    /// <summary>The segment's largest batch timestamp, or its file's modification time when no batch has one.</summary>
    private static long LargestTimestamp(Segment segment)
    {
        if (segment.MaxTimestamp >= 0) return segment.MaxTimestamp;
        try
        {
            return new DateTimeOffset(File.GetLastWriteTimeUtc(segment.LogPath)).ToUnixTimeMilliseconds();
        }
        catch (IOException)
        {
            return long.MaxValue;
        }
    }

    public void TruncateTo(long offset)
    {
        lock (_writeLock)
        {
            ThrowIfDisposed();
            if (offset >= _logEndOffset) return;
            var segments = _segments;
            if (offset < segments[0].BaseOffset)
            {
                // Nothing survives. Newest first, so a crash part-way leaves a prefix the next truncation removes;
                // the oldest goes last, after the new empty segment exists, so the directory is never empty.
                DeleteSegments(segments.AsSpan(1), newestFirst: true);
                var fresh = Segment.CreateActive(Directory, offset);
                Volatile.Write(ref _segments, [fresh]);
                Volatile.Write(ref _logEndOffset, offset);
                DeleteSegments(segments.AsSpan(0, 1));
                DropSnapshotFrom(long.MinValue);
                _producers.Clear();
                Logger.Info($"{Partition}: truncated fully; log restarts at {offset}");
                return;
            }
            int keep = FindSegmentIndex(segments, offset);
            var target = segments[keep];
            Volatile.Write(ref _segments, segments[..(keep + 1)]);
            DeleteSegments(segments.AsSpan(keep + 1), newestFirst: true);
            target.TruncateTo(offset, Options.IndexIntervalBytes);
            if (target.Size > 0 && target.FirstAppendMs < 0) target.FirstAppendMs = _clock.UnixTimeMilliseconds;
            Volatile.Write(ref _logEndOffset, target.NextOffset);
            DropSnapshotFrom(target.NextOffset);
            RebuildProducerState();
            Logger.Info($"{Partition}: truncated to {offset}; log end offset now {target.NextOffset}");
        }
    }

    public void ResetTo(long newStartOffset)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(newStartOffset);
        lock (_writeLock)
        {
            ThrowIfDisposed();
            var segments = _segments;
            ResetLogStartFloor(newStartOffset);
            // Newest first: a crash part-way leaves a shorter log without gaps (or an empty directory, which opens
            // as an empty log); the replica's Raft layer then re-installs the snapshot.
            DeleteSegments(segments, newestFirst: true);
            var fresh = Segment.CreateActive(Directory, newStartOffset);
            fresh.Flush();
            Volatile.Write(ref _segments, [fresh]);
            Volatile.Write(ref _logEndOffset, newStartOffset);
            DropSnapshotFrom(long.MinValue);
            _producers.Clear();
            Logger.Info($"{Partition}: log reset; it now starts empty at {newStartOffset}");
        }
    }

    private void DeleteSegments(ReadOnlySpan<Segment> segments, bool newestFirst = false)
    {
        for (int i = 0; i < segments.Length; i++)
        {
            var segment = segments[newestFirst ? segments.Length - 1 - i : i];
            try
            {
                segment.Delete();
            }
            catch (Exception ex)
            {
                Logger.Error($"{Partition}: deleting {segment} failed", ex);
            }
        }
    }
}

namespace Broker.Storage;

/// <summary>A segment holding an open write handle or a mapping, as seen by the idle sweep (LogManager.Idle.cs).</summary>
internal readonly record struct OpenSegment(PartitionLog Log, Segment Segment, bool HasWriter, bool HasMapping,
    long LastWriteMs, long LastReadMs);

/// <summary>The log's side of idle handle closing: listing its open resources and closing its idle writer.</summary>
public sealed partial class PartitionLog
{
    /// <summary>Adds this log's segments that hold a write handle or a mapping to <paramref name="into"/> (lock-free).</summary>
    internal void CollectOpenSegments(List<OpenSegment> into)
    {
        if (_disposed) return;
        foreach (var segment in Volatile.Read(ref _segments))
        {
            bool writer = segment.HasOpenWriter, mapping = segment.HasMapping;
            if (writer || mapping)
                into.Add(new OpenSegment(this, segment, writer, mapping, segment.LastWriteMs, segment.LastReadMs));
        }
    }

    /// <summary>
    /// Closes <paramref name="segment"/>'s write handle (under the write lock, so never during an append) when it was
    /// not written after <paramref name="unusedSinceMs"/>. False when it was busy, closed already or the log is closed.
    /// The file is fsynced first only when the flush policy (flush.messages, flush.ms, write.caching=false) still owes
    /// an fsync for records appended through it: a flush after the close finds no handle to sync. Without a policy the
    /// close costs no fsync (the page cache writes the data back as for an open file).
    /// </summary>
    internal bool CloseIdleWriter(Segment segment, long unusedSinceMs)
    {
        lock (_writeLock)
        {
            if (_disposed) return false;
            var options = Options;
            bool policyFlushes = options.FlushIntervalMessages != long.MaxValue || options.FlushIntervalMs != long.MaxValue
                                 || !options.WriteCaching;
            return segment.CloseIdleWriter(unusedSinceMs, fsync: policyFlushes && UnflushedRecords > 0);
        }
    }
}

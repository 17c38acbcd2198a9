using System.Diagnostics;
using Broker.Core.Records;
using Broker.Storage.Producers;

namespace Broker.Storage;

/// <summary>
/// Idempotent producer state kept with the log, so leaders and followers both have it: every appended data batch
/// with a producer id updates <see cref="_producers"/>; a snapshot file (<see cref="ProducerStateSnapshot"/>) is
/// written at clean close and at every segment roll; opening replays batch headers after the snapshot (or from the
/// log start), truncation rebuilds the same way and a reset clears it. Producers idle for longer than
/// producer.id.expiration.ms are dropped by <see cref="ApplyRetention(long, long)"/>.
/// </summary>
public sealed partial class PartitionLog
{
    private readonly ProducerStateTable _producers = new();
    /// <summary>Offset of the snapshot file on disk, -1 when there is none (writer-owned).</summary>
    private long _snapshotOffset = -1;

    private string SnapshotPath => ProducerStateSnapshot.PathIn(Directory);

    public ProducerAppendCheck CheckProducerState(ReadOnlySpan<byte> batches)
    {
        lock (_writeLock)
        {
            ThrowIfDisposed();
            return _producers.Check(batches);
        }
    }

    /// <summary>Number of producers with state (diagnostics and tests).</summary>
    public int ProducerCount
    {
        get
        {
            lock (_writeLock) return _producers.Count;
        }
    }

    /// <summary>A copy of one producer's state, or null (diagnostics and tests).</summary>
    public ProducerInfo? GetProducer(long producerId)
    {
        lock (_writeLock)
        {
            var entry = _producers.Get(producerId);
            if (entry is null) return null;
            var batches = new ProducerBatch[entry.BatchCount];
            for (int i = 0; i < batches.Length; i++) batches[i] = entry.Batch(i);
            return new ProducerInfo(entry.ProducerId, entry.Epoch, entry.LastTimestamp, batches);
        }
    }

    /// <summary>Records the batches just written at <paramref name="firstOffset"/> (input already framed).</summary>
    private void ApplyProducerBatches(ReadOnlySpan<byte> batches, long firstOffset, long? logAppendTimeMs)
    {
        int pos = 0;
        long offset = firstOffset;
        while (pos < batches.Length && RecordBatchHeader.TryRead(batches[pos..], out var header))
        {
            long last = offset + header.LastOffsetDelta;
            if (ProducerStateTable.Tracks(header)) _producers.Apply(header, offset, last, logAppendTimeMs ?? header.MaxTimestamp);
            offset = last + 1;
            pos += header.TotalSize;
        }
    }

    /// <summary>
    /// Rebuilds the table: from the snapshot file when it lies within the log, else from the log start, then by
    /// replaying the headers of the batches after it; finally drops expired producers. Under the write lock (or
    /// before the log is shared).
    /// </summary>
    private void RebuildProducerState()
    {
        var watch = Stopwatch.StartNew();
        long from = LoadProducerSnapshot();
        int restored = _producers.Count;
        int scanned = ScanProducerBatches(from);
        int expired = _producers.RemoveExpired(_clock.UnixTimeMilliseconds, Options.ProducerIdExpirationMs);
        if (_producers.Count > 0 || expired > 0)
            Logger.Info($"{Partition}: producer state: {restored} producer(s) from " +
                        (_snapshotOffset >= 0 ? $"the snapshot at {from}" : "no snapshot") +
                        $", {scanned} batch(es) replayed, {expired} expired, {_producers.Count} kept ({watch.ElapsedMilliseconds} ms)");
    }

    /// <summary>Loads the snapshot file into the table; returns the offset to replay from.</summary>
    private long LoadProducerSnapshot()
    {
        _snapshotOffset = -1;
        long start = LogStartOffset, end = _logEndOffset;
        long offset;
        try
        {
            offset = ProducerStateSnapshot.Read(SnapshotPath, _producers);
        }
        catch (Exception ex) when (ex is InvalidDataException or IOException or UnauthorizedAccessException)
        {
            Logger.Warn($"{Partition}: ignoring the producer state snapshot: {ex.Message}; rebuilding from the log");
            _producers.Clear();
            return start;
        }
        if (offset < 0) return start;
        if (offset > end || offset < start)
        {
            Logger.Warn($"{Partition}: ignoring the producer state snapshot at offset {offset}: outside the log [{start}, {end}]; " +
                        "rebuilding from the log");
            _producers.Clear();
            return start;
        }
        _snapshotOffset = offset;
        return offset;
    }

    /// <summary>Applies the headers of every batch at or after <paramref name="fromOffset"/>; returns how many were read.</summary>
    private int ScanProducerBatches(long fromOffset)
    {
        var segments = _segments;
        int scanned = 0;
        for (int i = FindSegmentIndex(segments, fromOffset); i < segments.Length; i++)
        {
            var segment = segments[i];
            if (segment.NextOffset <= fromOffset) continue;
            if (!segment.TryAcquire(out var region))
                throw new ObjectDisposedException($"{segment} closed while rebuilding producer state");
            if (region == null) continue;
            using (region)
            {
                var data = region.Span;
                int size = Math.Min(segment.Size, region.Capacity);
                int pos = segment.BaseOffset < fromOffset ? segment.OffsetIndex.Lookup(fromOffset) : 0;
                if (pos >= size) pos = 0;
                while (BatchScan.TryReadHeader(data, pos, size, out var header))
                {
                    if (header.BaseOffset >= fromOffset)
                    {
                        _producers.Apply(header, header.BaseOffset, header.LastOffset, header.MaxTimestamp);
                        scanned++;
                    }
                    pos += header.TotalSize;
                }
            }
        }
        return scanned;
    }

    /// <summary>Writes the snapshot at the log end offset; a failure is logged, not thrown (the log is the truth).</summary>
    private void TryWriteProducerSnapshot()
    {
        long offset = _logEndOffset;
        try
        {
            if (_producers.Count == 0 && _snapshotOffset < 0 && !File.Exists(SnapshotPath)) return;
            ProducerStateSnapshot.Write(SnapshotPath, offset, _producers);
            _snapshotOffset = offset;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            Logger.Warn($"{Partition}: could not write the producer state snapshot at {offset}: {ex.Message}");
        }
    }

    /// <summary>Removes the snapshot file unless it is known to be taken at or below <paramref name="offset"/> (then
    /// it still describes a prefix of the log); long.MinValue removes it in any case.</summary>
    private void DropSnapshotFrom(long offset)
    {
        if (_snapshotOffset >= 0 && _snapshotOffset <= offset) return;
        try
        {
            File.Delete(SnapshotPath);
            _snapshotOffset = -1;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Logger.Warn($"{Partition}: could not delete the producer state snapshot: {ex.Message}");
        }
    }
}

using Broker.Core.Diagnostics;
using Broker.Core.Model;

namespace Broker.Storage;

/// <summary>
/// The segmented, memory-mapped log of one partition, in `&lt;logDir&gt;/&lt;topic&gt;-&lt;partition&gt;/`
/// (Kafka layout: `{base:D20}.log|.index|.timeindex`). Mutations (append, roll, truncation, retention, flush,
/// close, producer state) run under one lock; reads are lock-free over an immutable segment array and reference-counted
/// mappings, and only see data whose size and end offset were published after it was written.
/// </summary>
public sealed partial class PartitionLog : IPartitionLog
{
    private static readonly Logger Logger = Log.For("storage");

    private readonly object _writeLock = new();
    private readonly IClock _clock;
    /// <summary>Ordered by base offset, never empty; the last one is the active segment. Replaced, never mutated.</summary>
    private Segment[] _segments;
    private long _logEndOffset;
    private LogOptions _options;
    private volatile bool _disposed;

    private PartitionLog(string directory, TopicPartition partition, LogOptions options, IClock clock, Segment[] segments)
    {
        Directory = directory;
        Partition = partition;
        _options = options;
        _clock = clock;
        _segments = segments;
        _logEndOffset = segments[^1].NextOffset;
    }

    /// <summary>The partition directory.</summary>
    public string Directory { get; }
    public TopicPartition Partition { get; }
    public LogOptions Options => Volatile.Read(ref _options);
    public long LogStartOffset => EffectiveStart(Volatile.Read(ref _segments), Volatile.Read(ref _logEndOffset));
    public long StoredStartOffset => Volatile.Read(ref _segments)[0].BaseOffset;
    public long LogEndOffset => Volatile.Read(ref _logEndOffset);

    public long SizeInBytes
    {
        get
        {
            long total = 0;
            foreach (var segment in Volatile.Read(ref _segments)) total += segment.Size;
            return total;
        }
    }

    public int SegmentCount => Volatile.Read(ref _segments).Length;

    /// <summary>Base offsets of the current segments, oldest first (diagnostics and tests).</summary>
    public IReadOnlyList<long> SegmentBaseOffsets()
    {
        var segments = Volatile.Read(ref _segments);
        var result = new long[segments.Length];
        for (int i = 0; i < segments.Length; i++) result[i] = segments[i].BaseOffset;
        return result;
    }

    public void UpdateOptions(LogOptions options)
    {
        ValidateOptions(options);
        Volatile.Write(ref _options, options);
    }

    public void Flush()
    {
        lock (_writeLock)
        {
            ThrowIfDisposed();
            FlushLocked();
        }
    }

    /// <summary>Clean close: the active file is cut to its data. Outstanding read leases stay valid.</summary>
    public void Dispose()
    {
        lock (_writeLock)
        {
            if (_disposed) return;
            _disposed = true;
            try
            {
                SyncSealedLocked(); // a clean close leaves no segment for the next open to rescan
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                Logger.Error($"{Partition}: syncing sealed segments at close failed", ex);
            }
            TryWriteProducerSnapshot();
            foreach (var segment in _segments)
            {
                try
                {
                    segment.Dispose();
                }
                catch (Exception ex)
                {
                    Logger.Error($"{Partition}: closing {segment} failed", ex);
                }
            }
        }
    }

    internal static void ValidateOptions(LogOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.SegmentBytes < 14) throw new ArgumentException($"segment.bytes must be at least 14, got {options.SegmentBytes}");
        if (options.SegmentMs < 1) throw new ArgumentException($"segment.ms must be positive, got {options.SegmentMs}");
        if (options.IndexIntervalBytes < 0) throw new ArgumentException($"index.interval.bytes must not be negative, got {options.IndexIntervalBytes}");
        if (options.RetentionMs < -1) throw new ArgumentException($"retention.ms must be -1 or more, got {options.RetentionMs}");
        if (options.RetentionBytes < -1) throw new ArgumentException($"retention.bytes must be -1 or more, got {options.RetentionBytes}");
        if (options.ProducerIdExpirationMs < 1)
            throw new ArgumentException($"producer.id.expiration.ms must be positive, got {options.ProducerIdExpirationMs}");
        if (!(options.MinCleanableDirtyRatio >= 0 && options.MinCleanableDirtyRatio <= 1))
            throw new ArgumentException($"min.cleanable.dirty.ratio must be between 0 and 1, got {options.MinCleanableDirtyRatio}");
        if (options.DeleteRetentionMs < 0) throw new ArgumentException($"delete.retention.ms must not be negative, got {options.DeleteRetentionMs}");
        if (options.MinCompactionLagMs < 0) throw new ArgumentException($"min.compaction.lag.ms must not be negative, got {options.MinCompactionLagMs}");
    }

    private void ThrowIfDisposed()
    {
        if (_disposed) throw new ObjectDisposedException($"partition log {Partition}");
    }

    /// <summary>Index of the last segment whose base offset is at or below <paramref name="offset"/> (0 if none).</summary>
    private static int FindSegmentIndex(Segment[] segments, long offset)
    {
        int lo = 0, hi = segments.Length - 1, found = 0;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            if (segments[mid].BaseOffset <= offset) { found = mid; lo = mid + 1; }
            else hi = mid - 1;
        }
        return found;
    }

    public override string ToString() => $"log {Partition} [{LogStartOffset}, {LogEndOffset}) in {SegmentCount} segment(s)";
}

using Broker.Core.Model;
using Broker.Storage.Producers;

namespace Broker.Storage;

/// <summary>
/// One partition's log: an ordered sequence of Kafka v2 record batches stored exactly as on the wire, in segment
/// files mapped into memory, with sparse offset and time indexes. Offsets are assigned by <see cref="Append"/>.
/// Thread-safety: one writer at a time (callers serialise appends per partition); reads may run concurrently
/// with appends and with each other.
/// Storage never sees Kafka request/response types: only batch bytes, offsets and timestamps.
/// </summary>
public interface IPartitionLog : IDisposable
{
    TopicPartition Partition { get; }
    /// <summary>
    /// Kafka's log start offset: the first offset clients may read (ListOffsets earliest, Fetch's log_start_offset).
    /// Retention moves it with whole segments; <see cref="AdvanceLogStartOffset"/> (DeleteRecords) moves it to any
    /// offset, possibly inside a segment or a batch. Never above <see cref="LogEndOffset"/>.
    /// </summary>
    long LogStartOffset { get; }
    /// <summary>
    /// First offset still stored: the base offset of the oldest segment, at or below <see cref="LogStartOffset"/>.
    /// Replication works on whole stored batches (<see cref="ReadStored"/>) and may still need the part of the log
    /// that DeleteRecords hid from clients until retention removes it.
    /// </summary>
    long StoredStartOffset => LogStartOffset;
    /// <summary>Offset the next appended record will get (last offset + 1).</summary>
    long LogEndOffset { get; }
    /// <summary>Total bytes of all segments.</summary>
    long SizeInBytes { get; }
    LogOptions Options { get; }

    /// <summary>
    /// Appends one or more whole, already validated batches. Writes the assigned baseOffset and
    /// <paramref name="leaderEpoch"/> into the stored copy (neither is covered by the CRC). When
    /// <paramref name="logAppendTimeMs"/> is not null the batch timestamps become broker time (timestamp type bit
    /// set, maxTimestamp replaced, CRC recomputed). Rolls a new segment first when the active one is full or old.
    /// </summary>
    AppendInfo Append(ReadOnlySpan<byte> batches, int leaderEpoch, long? logAppendTimeMs = null);

    /// <summary>
    /// Reads whole batches starting with the batch that contains <paramref name="offset"/>, from one segment, up to
    /// <paramref name="maxBytes"/> bytes and never including a batch whose last offset is at or above
    /// <paramref name="maxOffsetExclusive"/> (callers pass the high watermark). When <paramref name="minOneBatch"/> is
    /// true and the first batch is larger than maxBytes it is returned whole (KIP-74).
    /// The returned bytes point into mapped memory: the caller must dispose the result after using them.
    /// Offsets below LogStartOffset or above LogEndOffset give <see cref="LogReadResult.OutOfRange"/>.
    /// </summary>
    LogReadResult Read(long offset, int maxBytes, long maxOffsetExclusive, bool minOneBatch);

    /// <summary>
    /// <see cref="Read"/> bounded by <see cref="StoredStartOffset"/> instead of <see cref="LogStartOffset"/>: any batch
    /// still stored, even below the log start offset (replication and epoch scans; never served to clients).
    /// </summary>
    LogReadResult ReadStored(long offset, int maxBytes, long maxOffsetExclusive, bool minOneBatch) =>
        Read(offset, maxBytes, maxOffsetExclusive, minOneBatch);

    /// <summary>
    /// Kafka's DeleteRecords on one replica: moves <see cref="LogStartOffset"/> forward to
    /// <paramref name="newStartOffset"/> (anywhere up to <see cref="LogEndOffset"/>, inside a segment or a batch),
    /// durably (a checkpoint in the partition directory, written before the new value is visible), so reads below it
    /// are out of range from now on and after a restart. Whole segments below it are deleted by the next
    /// <see cref="ApplyRetention(long, long)"/>. Returns false (and changes nothing) when the log already starts at or
    /// after it. Callers bound it by the high watermark: only committed records may be deleted.
    /// </summary>
    bool AdvanceLogStartOffset(long newStartOffset) =>
        throw new NotSupportedException($"{GetType().Name} cannot move its log start offset to {newStartOffset}");

    /// <summary>
    /// The offset of the first record at or after <see cref="LogStartOffset"/> whose timestamp is at or after
    /// <paramref name="timestampMs"/>, with that timestamp; null when no record is that late. Records inside
    /// compressed batches are found exactly (that one batch is decompressed); a LogAppendTime batch answers its first
    /// offset with its max timestamp. (Kafka ListOffsets by timestamp semantics.)
    /// </summary>
    (long Offset, long Timestamp)? FindOffsetByTimestamp(long timestampMs);

    /// <summary>The largest timestamp in the log and the offset of the batch that carries it; null when empty.</summary>
    (long Offset, long Timestamp)? FindMaxTimestamp();

    /// <summary>Removes everything at and after <paramref name="offset"/> (follower truncation, issue 3).</summary>
    void TruncateTo(long offset);

    /// <summary>Makes appended bytes durable (fsync of the active segment, and of the directory when segment files
    /// came or went since the last flush). Resets the flush policy's unflushed-record count.</summary>
    void Flush();

    /// <summary>
    /// The time half of the flush policy (flush.ms / log.flush.interval.ms): fsyncs when the oldest append not yet
    /// flushed is at least <see cref="LogOptions.FlushIntervalMs"/> old at <paramref name="nowMs"/> (clock time).
    /// True when it flushed. A scheduler calls it every log.flush.scheduler.interval.ms; logs without a flush policy
    /// never flush here.
    /// </summary>
    bool FlushIfDue(long nowMs) => false;

    /// <summary>Deletes whole segments beyond retention.ms / retention.bytes or wholly below
    /// <see cref="LogStartOffset"/> (and forgets producers idle for producer.id.expiration.ms); returns how many
    /// segments were deleted.</summary>
    int ApplyRetention(long nowMs);

    /// <summary>
    /// <see cref="ApplyRetention(long)"/> limited to segments whose every offset is below
    /// <paramref name="maxOffsetExclusive"/> (a replicated log passes its high watermark: uncommitted data is never
    /// removed). The default implementation only supports the unbounded case and otherwise deletes nothing.
    /// </summary>
    int ApplyRetention(long nowMs, long maxOffsetExclusive) => maxOffsetExclusive == long.MaxValue ? ApplyRetention(nowMs) : 0;

    /// <summary>
    /// Discards the whole log and restarts it empty at <paramref name="newStartOffset"/> (above or below the current
    /// offsets): LogStartOffset = StoredStartOffset = LogEndOffset = newStartOffset, durably. Used when a replica installs a leader's
    /// snapshot because the data it lacks was already removed by the leader's retention (Kafka's log start offset).
    /// </summary>
    void ResetTo(long newStartOffset) =>
        throw new NotSupportedException($"{GetType().Name} cannot restart its log at offset {newStartOffset}");

    /// <summary>
    /// The idempotence check a leader makes right before appending <paramref name="batches"/> (whole, framed batches),
    /// against the producer state the log keeps from every batch it stored (Kafka's ProducerStateManager rules): accept,
    /// duplicate of a recent batch (with its offsets; append nothing), or INVALID_PRODUCER_EPOCH /
    /// OUT_OF_ORDER_SEQUENCE_NUMBER. Callers must hold the lock that serialises their appends across the check and the
    /// append. The default (logs without producer state) accepts everything.
    /// </summary>
    ProducerAppendCheck CheckProducerState(ReadOnlySpan<byte> batches) => ProducerAppendCheck.Accepted;

    /// <summary>Applies changed topic-level options (retention, segment size) without reopening.</summary>
    void UpdateOptions(LogOptions options);

    /// <summary>
    /// Share of the cleanable bytes (sealed segments wholly below <paramref name="maxOffsetExclusive"/> and older
    /// than min.compaction.lag.ms) not yet compacted: 0 when there is nothing to clean. Logs without compaction: 0.
    /// </summary>
    double CleanableDirtyRatio(long maxOffsetExclusive, long nowMs) => 0;

    /// <summary>
    /// One log-cleaner pass (cleanup.policy=compact): rewrites cleanable segments keeping, per key, only the latest
    /// record at or below <paramref name="maxOffsetExclusive"/> (callers pass the high watermark); every batch keeps
    /// its header and offset range. Logs without compaction do nothing.
    /// </summary>
    Compaction.CompactionResult Compact(long maxOffsetExclusive, long nowMs) => Compaction.CompactionResult.None;
}

/// <summary>Result of an append: offsets the batches got and the time used when LogAppendTime applies.</summary>
public readonly record struct AppendInfo(long FirstOffset, long LastOffset, int BatchCount, long LogAppendTimeMs);

/// <summary>
/// Bytes read from a segment plus the lease that keeps the mapping alive. Dispose exactly once, after sending.
/// </summary>
public readonly struct LogReadResult : IDisposable
{
    public LogReadResult(ReadOnlyMemory<byte> records, IDisposable? lease, bool outOfRange = false)
    {
        Records = records;
        Lease = lease;
        OutOfRange = outOfRange;
    }

    public ReadOnlyMemory<byte> Records { get; }
    public IDisposable? Lease { get; }
    public bool OutOfRange { get; }
    public void Dispose() => Lease?.Dispose();
}

/// <summary>Per-partition storage settings (Kafka topic configs resolved against broker defaults).</summary>
public sealed record LogOptions
{
    /// <summary>segment.bytes / log.segment.bytes.</summary>
    public long SegmentBytes { get; init; } = 1L << 30;
    /// <summary>segment.ms / log.roll.ms(hours): roll when the active segment's first batch is this old.</summary>
    public long SegmentMs { get; init; } = 7L * 24 * 3600 * 1000;
    /// <summary>retention.ms / log.retention.*: -1 means unlimited.</summary>
    public long RetentionMs { get; init; } = 7L * 24 * 3600 * 1000;
    /// <summary>retention.bytes / log.retention.bytes: -1 means unlimited.</summary>
    public long RetentionBytes { get; init; } = -1;
    /// <summary>index.interval.bytes: one sparse index entry per this many bytes of log.</summary>
    public int IndexIntervalBytes { get; init; } = 4096;
    /// <summary>message.max.bytes / max.message.bytes: largest batch accepted.</summary>
    public int MaxMessageBytes { get; init; } = 1048588;
    /// <summary>producer.id.expiration.ms: producer state idle for this long is dropped (when retention runs).</summary>
    public long ProducerIdExpirationMs { get; init; } = 86_400_000;
    /// <summary>cleanup.policy contains "compact": the log cleaner keeps only the latest record of each key.</summary>
    public bool Compact { get; init; }
    /// <summary>min.cleanable.dirty.ratio / log.cleaner.min.cleanable.ratio.</summary>
    public double MinCleanableDirtyRatio { get; init; } = 0.5;
    /// <summary>delete.retention.ms / log.cleaner.delete.retention.ms: how long tombstones survive compaction.</summary>
    public long DeleteRetentionMs { get; init; } = 86_400_000;
    /// <summary>min.compaction.lag.ms / log.cleaner.min.compaction.lag.ms: younger segments are not compacted.</summary>
    public long MinCompactionLagMs { get; init; }
    /// <summary>flush.messages / log.flush.interval.messages: fsync after this many appended records; long.MaxValue = never by count.</summary>
    public long FlushIntervalMessages { get; init; } = long.MaxValue;
    /// <summary>flush.ms / log.flush.interval.ms: fsync once unflushed data is this old; long.MaxValue = never by time.</summary>
    public long FlushIntervalMs { get; init; } = long.MaxValue;
    /// <summary>write.caching / write.caching.default: false = appends are fsynced before a replica acknowledges them (acks=all waits for it).</summary>
    public bool WriteCaching { get; init; } = true;
    /// <summary>compression.type: the codec stored batches must have; null = "producer" (keep what was produced).</summary>
    public Broker.Core.Records.CompressionCodec? TargetCompression { get; init; }
    /// <summary>
    /// How long after a roll the sealed segment is fsynced by the background item (no config key; the environment
    /// variable BROKER_SEAL_SYNC_DELAY_MS sets the default). 0: right away. A delay lets the kernel write most of it
    /// back first, but measured on this ext4 it only moved the stall an fsync of a large segment causes to appends of
    /// other files into whatever runs next (docs/durability.md). A flush (flush policy, write.caching=false,
    /// shutdown) syncs queued segments at once.
    /// </summary>
    public long SealedSegmentSyncDelayMs { get; init; } = DefaultSealedSegmentSyncDelayMs;

    /// <summary>0, or BROKER_SEAL_SYNC_DELAY_MS.</summary>
    public static readonly long DefaultSealedSegmentSyncDelayMs =
        long.TryParse(Environment.GetEnvironmentVariable("BROKER_SEAL_SYNC_DELAY_MS"), out long ms) && ms >= 0 ? ms : 0;
}

namespace Broker.Config;

// Rows: data directories, topic defaults, segments, retention, flushing, compression.
public static partial class ConfigKeys
{
    public const string LogDirs = "log.dirs";
    public const string LogDir = "log.dir";
    public const string MetadataLogDir = "metadata.log.dir";
    public const string LogRetentionMs = "log.retention.ms";
    public const string LogRetentionMinutes = "log.retention.minutes";
    public const string LogRetentionHours = "log.retention.hours";
    public const string LogRollMs = "log.roll.ms";
    public const string LogRollHours = "log.roll.hours";

    /// <summary>Kafka's minimum segment size (a v0 record's overhead).</summary>
    public const int MinSegmentBytes = 14;

    public static readonly IReadOnlyList<string> CompressionTypes = ["uncompressed", "zstd", "lz4", "snappy", "gzip", "producer"];
    public static readonly IReadOnlyList<string> CleanupPolicies = ["delete", "compact"];
    public static readonly IReadOnlyList<string> TimestampTypes = ["CreateTime", "LogAppendTime"];

    private static void AddLogKeys(List<ConfigKey> rows)
    {
        const string L = SectionLog, R = SectionRetention, Q = SectionRequests;
        rows.Add(new ConfigKey
        {
            Section = L, Name = LogDirs, Type = ConfigType.List,
            DefaultNote = "$BROKER_DATA_DIR if set, else ./broker-data",
            Doc = "Directories holding the partition logs, comma-separated. The --data-dir option replaces it.",
        });
        rows.Add(new ConfigKey
        {
            Section = L, Name = LogDir, Type = ConfigType.String, AliasOf = LogDirs,
            Doc = "A single data directory, used only when log.dirs is not set.",
        });
        rows.Add(new ConfigKey
        {
            Section = L, Name = MetadataLogDir, Type = ConfigType.String, DefaultNote = "the first entry of log.dirs",
            Doc = "Directory of the cluster metadata log (__cluster_metadata-0).",
        });
        rows.Add(Bool(L, "auto.create.topics.enable", "true",
            "Create a topic on first use (metadata request, produce) when it does not exist."));
        rows.Add(Int(L, "num.partitions", "1", 1,
            "Number of partitions of auto-created topics and of CreateTopics requests that leave it to the broker."));
        rows.Add(Int(L, "default.replication.factor", "1", 1,
            "Replication factor of auto-created topics and of CreateTopics requests that leave it to the broker.",
            short.MaxValue));
        rows.Add(Int(L, "min.insync.replicas", "1", 1,
            "Minimum number of in-sync replicas for a produce with acks=all to succeed."));
        rows.Add(Bool(L, "delete.topic.enable", "true", "Allow DeleteTopics requests."));

        rows.Add(Int(R, "log.segment.bytes", "1073741824", MinSegmentBytes,
            "Maximum size of one log segment file; a new segment is started when it is reached."));
        rows.Add(Long(R, LogRollMs, null, 1,
            "Maximum age of the active segment before a new one is started. Overrides log.roll.hours."));
        rows.Add(new ConfigKey
        {
            Section = R, Name = LogRollHours, Type = ConfigType.Int, Default = "168", Min = 1, AliasOf = LogRollMs,
            Doc = "log.roll.ms in hours, used when log.roll.ms is not set.",
        });
        rows.Add(Long(R, LogRetentionMs, null, -1,
            "How long to keep log segments, in milliseconds; -1 keeps them forever. Overrides " +
            "log.retention.minutes and log.retention.hours."));
        rows.Add(new ConfigKey
        {
            Section = R, Name = LogRetentionMinutes, Type = ConfigType.Int, Min = -1, AliasOf = LogRetentionMs,
            Doc = "Retention in minutes, used when log.retention.ms is not set. Overrides log.retention.hours.",
        });
        rows.Add(new ConfigKey
        {
            Section = R, Name = LogRetentionHours, Type = ConfigType.Int, Default = "168", Min = -1, AliasOf = LogRetentionMs,
            Doc = "Retention in hours, used when neither log.retention.ms nor log.retention.minutes is set.",
        });
        rows.Add(Long(R, "log.retention.bytes", "-1", -1,
            "Maximum size of one partition's log before old segments are deleted; -1 = no size limit."));
        rows.Add(Long(R, "log.retention.check.interval.ms", "300000", 1,
            "How often segments are checked for deletion under the retention limits."));
        rows.Add(Int(R, "log.index.interval.bytes", "4096", 0,
            "Bytes of records between two entries of the offset index."));
        rows.Add(Int(R, "log.index.size.max.bytes", "10485760", 4,
            "Maximum size of an offset or time index file; a full index rolls the segment."));
        rows.Add(Long(R, "log.flush.interval.messages", "9223372036854775807", 1,
            "Force an fsync after this many messages on one partition. The default leaves flushing to the OS."));
        rows.Add(Long(R, "log.flush.interval.ms", null, 0,
            "Force an fsync when a partition has unflushed data older than this. Not set = no time-based flush."));
        rows.Add(Long(R, "log.flush.scheduler.interval.ms", "1000", 1,
            "How often partitions are checked for unflushed data older than log.flush.interval.ms / flush.ms."));
        rows.Add(Bool(R, "write.caching.default", "true",
            "true (Kafka's behaviour): acknowledge acks=all once the in-sync replicas hold the batch in memory (page " +
            "cache), fsync by the flush policy. false (Redpanda's default): every replica fsyncs a batch before it " +
            "counts towards acks=all. Topics override with write.caching."));
        rows.Add(Long(R, "storage.min.free.bytes", "134217728", 0,
            "Free-space floor of each log directory: below it produce requests are refused (KAFKA_STORAGE_ERROR with " +
            "a message) so data already written stays intact; 0 = no floor."));
        rows.Add(new ConfigKey
        {
            Section = R, Name = "log.cleanup.policy", Type = ConfigType.List, Default = "delete", ValidValues = CleanupPolicies,
            Doc = "Default cleanup policy of topics: delete (retention), compact, or delete,compact.",
        });
        rows.Add(Bool(R, "log.cleaner.enable", "true",
            "Run the log cleaner, which compacts topics whose cleanup.policy contains compact."));
        rows.Add(Long(R, "log.cleaner.backoff.ms", "15000", 1,
            "How often the log cleaner looks for logs to compact."));
        rows.Add(Long(R, "log.cleaner.delete.retention.ms", "86400000", 0,
            "How long delete markers (tombstones) are kept in compacted topics."));
        rows.Add(new ConfigKey
        {
            Section = R, Name = "log.cleaner.min.cleanable.ratio", Type = ConfigType.Double, Default = "0.5",
            DoubleMin = 0, DoubleMax = 1,
            Doc = "Minimum share of uncompacted data in a log before it is compacted.",
        });
        rows.Add(Long(R, "log.cleaner.min.compaction.lag.ms", "0", 0,
            "Minimum age of a message before it may be compacted away."));
        rows.Add(Long(R, "log.segment.delete.delay.ms", "60000", 0,
            "Delay between removing a segment from the log and deleting its files."));
        rows.Add(Str(R, "log.message.timestamp.type", "CreateTime",
            "Default timestamp type of topics: CreateTime (producer's time) or LogAppendTime (broker's time).",
            [.. TimestampTypes]));
        rows.Add(Long(R, "log.message.timestamp.difference.max.ms", "9223372036854775807", 0,
            "Largest allowed difference between a CreateTime timestamp and the broker's clock."));
        rows.Add(Str(R, "compression.type", "producer",
            "Compression of stored batches: producer keeps what the producer sent; uncompressed, gzip, snappy, " +
            "lz4 or zstd recompress.",
            [.. CompressionTypes]));

        rows.Add(Int(Q, "message.max.bytes", "1048588", 0,
            "Largest record batch the broker accepts (after compression); topics may override with max.message.bytes."));
        rows.Add(Int(Q, "socket.request.max.bytes", "104857600", 1,
            "Largest request the broker reads; larger requests close the connection."));
    }
}

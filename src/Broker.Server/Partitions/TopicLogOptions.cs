using System.Globalization;
using Broker.Config;
using Broker.Metadata.Image;
using Broker.Storage;

namespace Broker.Server.Partitions;

/// <summary>
/// The broker's log.* settings that topics inherit: from server.properties (<see cref="From(BrokerConfig)"/>) or
/// as dynamic broker configs make them (<see cref="From(Func{string, string?}, BrokerLogDefaults)"/>).
/// </summary>
public sealed record BrokerLogDefaults
{
    public long SegmentBytes { get; init; }
    public long RollMs { get; init; }
    public long RetentionMs { get; init; }
    public long RetentionBytes { get; init; }
    public int IndexIntervalBytes { get; init; }
    public int MessageMaxBytes { get; init; }
    public long ProducerIdExpirationMs { get; init; }
    public IReadOnlyList<string> CleanupPolicy { get; init; } = [];
    public double MinCleanableRatio { get; init; }
    public long DeleteRetentionMs { get; init; }
    public long MinCompactionLagMs { get; init; }
    public long FlushIntervalMessages { get; init; } = long.MaxValue;
    /// <summary>long.MaxValue = no time-based flush.</summary>
    public long FlushIntervalMs { get; init; } = long.MaxValue;
    public bool WriteCaching { get; init; } = true;
    /// <summary>compression.type: producer, uncompressed, gzip, snappy, lz4 or zstd.</summary>
    public string CompressionType { get; init; } = "producer";

    public static BrokerLogDefaults From(BrokerConfig broker) => new()
    {
        SegmentBytes = broker.LogSegmentBytes,
        RollMs = broker.LogRollMs,
        RetentionMs = broker.LogRetentionMs,
        RetentionBytes = broker.LogRetentionBytes,
        IndexIntervalBytes = broker.LogIndexIntervalBytes,
        MessageMaxBytes = broker.MessageMaxBytes,
        ProducerIdExpirationMs = broker.ProducerIdExpirationMs,
        CleanupPolicy = broker.LogCleanupPolicy,
        MinCleanableRatio = broker.LogCleanerMinCleanableRatio,
        DeleteRetentionMs = broker.LogCleanerDeleteRetentionMs,
        MinCompactionLagMs = broker.LogCleanerMinCompactionLagMs,
        FlushIntervalMessages = broker.LogFlushIntervalMessages,
        FlushIntervalMs = broker.LogFlushIntervalMs ?? long.MaxValue,
        WriteCaching = broker.WriteCachingDefault,
        CompressionType = broker.CompressionType,
    };

    /// <summary>
    /// The settings read through <paramref name="value"/> (broker key → effective value in properties syntax);
    /// keys without a value, or with one that does not parse, keep <paramref name="fallback"/>'s.
    /// </summary>
    public static BrokerLogDefaults From(Func<string, string?> value, BrokerLogDefaults fallback)
    {
        long retentionMs = Long(value, ConfigKeys.LogRetentionMs, fallback.RetentionMs);
        return new()
        {
            SegmentBytes = Long(value, "log.segment.bytes", fallback.SegmentBytes),
            RollMs = Long(value, ConfigKeys.LogRollMs, fallback.RollMs),
            RetentionMs = retentionMs < 0 ? -1 : retentionMs,
            RetentionBytes = Long(value, "log.retention.bytes", fallback.RetentionBytes),
            IndexIntervalBytes = (int)Long(value, "log.index.interval.bytes", fallback.IndexIntervalBytes),
            MessageMaxBytes = (int)Long(value, "message.max.bytes", fallback.MessageMaxBytes),
            ProducerIdExpirationMs = Long(value, "producer.id.expiration.ms", fallback.ProducerIdExpirationMs),
            CleanupPolicy = value("log.cleanup.policy") is { } policy ? ConfigValues.SplitList(policy) : fallback.CleanupPolicy,
            MinCleanableRatio = value("log.cleaner.min.cleanable.ratio") is { } r
                && double.TryParse(r, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) && d is >= 0 and <= 1
                ? d : fallback.MinCleanableRatio,
            DeleteRetentionMs = Long(value, "log.cleaner.delete.retention.ms", fallback.DeleteRetentionMs),
            MinCompactionLagMs = Long(value, "log.cleaner.min.compaction.lag.ms", fallback.MinCompactionLagMs),
            FlushIntervalMessages = Long(value, "log.flush.interval.messages", fallback.FlushIntervalMessages),
            FlushIntervalMs = Long(value, "log.flush.interval.ms", fallback.FlushIntervalMs),
            WriteCaching = value("write.caching.default") is { } wc && bool.TryParse(wc.Trim(), out bool caching) ? caching : fallback.WriteCaching,
            CompressionType = value("compression.type")?.Trim() is { Length: > 0 } compression ? compression : fallback.CompressionType,
        };
    }

    /// <summary>The codec compression.type asks for; null for "producer" (and anything unknown).</summary>
    public static Broker.Core.Records.CompressionCodec? CompressionOf(string compressionType) => compressionType.ToLowerInvariant() switch
    {
        "uncompressed" or "none" => Broker.Core.Records.CompressionCodec.None,
        "gzip" => Broker.Core.Records.CompressionCodec.Gzip,
        "snappy" => Broker.Core.Records.CompressionCodec.Snappy,
        "lz4" => Broker.Core.Records.CompressionCodec.Lz4,
        "zstd" => Broker.Core.Records.CompressionCodec.Zstd,
        _ => null,
    };

    private static long Long(Func<string, string?> value, string key, long fallback) =>
        value(key) is { } v && long.TryParse(v.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long n) ? n : fallback;
}

/// <summary>Resolves a topic's storage options: topic-level configs override the broker's log.* defaults.</summary>
public sealed class TopicLogOptions
{
    private readonly BrokerLogDefaults _broker;

    public TopicLogOptions(BrokerConfig broker) : this(BrokerLogDefaults.From(broker)) { }

    public TopicLogOptions(BrokerLogDefaults broker)
    {
        _broker = broker;
        bool deletes = DeletesOldData(broker.CleanupPolicy);
        Defaults = new()
        {
            SegmentBytes = broker.SegmentBytes,
            SegmentMs = broker.RollMs,
            RetentionMs = deletes ? broker.RetentionMs : -1,
            RetentionBytes = deletes ? broker.RetentionBytes : -1,
            IndexIntervalBytes = broker.IndexIntervalBytes,
            MaxMessageBytes = broker.MessageMaxBytes,
            ProducerIdExpirationMs = broker.ProducerIdExpirationMs,
            Compact = Compacts(broker.CleanupPolicy),
            MinCleanableDirtyRatio = broker.MinCleanableRatio,
            DeleteRetentionMs = broker.DeleteRetentionMs,
            MinCompactionLagMs = broker.MinCompactionLagMs,
            FlushIntervalMessages = broker.FlushIntervalMessages,
            FlushIntervalMs = broker.FlushIntervalMs,
            WriteCaching = broker.WriteCaching,
            TargetCompression = BrokerLogDefaults.CompressionOf(broker.CompressionType),
        };
    }

    /// <summary>The broker settings these options inherit.</summary>
    public BrokerLogDefaults Broker => _broker;

    /// <summary>The options of a topic without configs of its own.</summary>
    public LogOptions Defaults { get; }

    public LogOptions For(TopicImage topic) => For(topic.Configs);

    public LogOptions For(IReadOnlyDictionary<string, string> configs)
    {
        if (configs.Count == 0) return Defaults;
        IReadOnlyList<string> policy = configs.TryGetValue("cleanup.policy", out var listed)
            ? listed.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            : _broker.CleanupPolicy;
        bool deletes = DeletesOldData(policy);
        return Defaults with
        {
            SegmentBytes = Long(configs, "segment.bytes", Defaults.SegmentBytes),
            SegmentMs = Long(configs, "segment.ms", Defaults.SegmentMs),
            RetentionMs = deletes ? Long(configs, "retention.ms", _broker.RetentionMs) : -1,
            RetentionBytes = deletes ? Long(configs, "retention.bytes", _broker.RetentionBytes) : -1,
            IndexIntervalBytes = (int)Long(configs, "index.interval.bytes", Defaults.IndexIntervalBytes),
            MaxMessageBytes = (int)Long(configs, "max.message.bytes", Defaults.MaxMessageBytes),
            Compact = Compacts(policy),
            MinCleanableDirtyRatio = Ratio(configs, "min.cleanable.dirty.ratio", Defaults.MinCleanableDirtyRatio),
            DeleteRetentionMs = Long(configs, "delete.retention.ms", Defaults.DeleteRetentionMs),
            MinCompactionLagMs = Long(configs, "min.compaction.lag.ms", Defaults.MinCompactionLagMs),
            FlushIntervalMessages = Long(configs, "flush.messages", Defaults.FlushIntervalMessages),
            FlushIntervalMs = Long(configs, "flush.ms", Defaults.FlushIntervalMs),
            WriteCaching = configs.TryGetValue("write.caching", out var wc) && bool.TryParse(wc, out bool caching) ? caching : Defaults.WriteCaching,
            TargetCompression = configs.TryGetValue("compression.type", out var ct) ? BrokerLogDefaults.CompressionOf(ct) : Defaults.TargetCompression,
        };
    }

    /// <summary>The metadata log keeps every record: no retention, modest segments.</summary>
    public static LogOptions MetadataLog { get; } = new()
    {
        SegmentBytes = 64L << 20,
        SegmentMs = long.MaxValue / 2,
        RetentionMs = -1,
        RetentionBytes = -1,
        MaxMessageBytes = 8 << 20,
    };

    /// <summary>
    /// Time and size retention apply only when the cleanup policy includes "delete" (Kafka): a compact-only topic,
    /// such as __consumer_offsets, never loses its latest value of a key to retention.
    /// </summary>
    private static bool DeletesOldData(IReadOnlyList<string> policy)
    {
        if (policy.Count == 0) return true;
        foreach (var p in policy)
            if (p.Equals("delete", StringComparison.OrdinalIgnoreCase)) return true;
        return false;
    }

    /// <summary>The log cleaner compacts topics whose policy includes "compact".</summary>
    private static bool Compacts(IReadOnlyList<string> policy)
    {
        foreach (var p in policy)
            if (p.Equals("compact", StringComparison.OrdinalIgnoreCase)) return true;
        return false;
    }

    private static double Ratio(IReadOnlyDictionary<string, string> configs, string key, double fallback) =>
        configs.TryGetValue(key, out var v) && double.TryParse(v, NumberStyles.Float,
            CultureInfo.InvariantCulture, out double d) && d is >= 0 and <= 1 ? d : fallback;

    // Values were validated by TopicConfigCatalog when the config record was written.
    private static long Long(IReadOnlyDictionary<string, string> configs, string key, long fallback) =>
        configs.TryGetValue(key, out var v) && long.TryParse(v, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long n) ? n : fallback;
}

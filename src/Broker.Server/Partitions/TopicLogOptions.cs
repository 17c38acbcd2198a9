using Broker.Config;
using Broker.Metadata.Image;
using Broker.Storage;

namespace Broker.Server.Partitions;

/// <summary>Resolves a topic's storage options: topic-level configs override the broker's log.* defaults.</summary>
public sealed class TopicLogOptions(BrokerConfig broker)
{
    public LogOptions Defaults { get; } = new()
    {
        SegmentBytes = broker.LogSegmentBytes,
        SegmentMs = broker.LogRollMs,
        RetentionMs = DeletesOldData(broker.LogCleanupPolicy) ? broker.LogRetentionMs : -1,
        RetentionBytes = DeletesOldData(broker.LogCleanupPolicy) ? broker.LogRetentionBytes : -1,
        IndexIntervalBytes = broker.LogIndexIntervalBytes,
        MaxMessageBytes = broker.MessageMaxBytes,
        ProducerIdExpirationMs = broker.ProducerIdExpirationMs,
        Compact = Compacts(broker.LogCleanupPolicy),
        MinCleanableDirtyRatio = broker.LogCleanerMinCleanableRatio,
        DeleteRetentionMs = broker.LogCleanerDeleteRetentionMs,
        MinCompactionLagMs = broker.LogCleanerMinCompactionLagMs,
    };

    public LogOptions For(TopicImage topic) => For(topic.Configs);

    public LogOptions For(IReadOnlyDictionary<string, string> configs)
    {
        if (configs.Count == 0) return Defaults;
        IReadOnlyList<string> policy = configs.TryGetValue("cleanup.policy", out var listed)
            ? listed.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            : broker.LogCleanupPolicy;
        bool deletes = DeletesOldData(policy);
        return Defaults with
        {
            SegmentBytes = Long(configs, "segment.bytes", Defaults.SegmentBytes),
            SegmentMs = Long(configs, "segment.ms", Defaults.SegmentMs),
            RetentionMs = deletes ? Long(configs, "retention.ms", broker.LogRetentionMs) : -1,
            RetentionBytes = deletes ? Long(configs, "retention.bytes", broker.LogRetentionBytes) : -1,
            IndexIntervalBytes = (int)Long(configs, "index.interval.bytes", Defaults.IndexIntervalBytes),
            MaxMessageBytes = (int)Long(configs, "max.message.bytes", Defaults.MaxMessageBytes),
            Compact = Compacts(policy),
            MinCleanableDirtyRatio = Ratio(configs, "min.cleanable.dirty.ratio", Defaults.MinCleanableDirtyRatio),
            DeleteRetentionMs = Long(configs, "delete.retention.ms", Defaults.DeleteRetentionMs),
            MinCompactionLagMs = Long(configs, "min.compaction.lag.ms", Defaults.MinCompactionLagMs),
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
        configs.TryGetValue(key, out var v) && double.TryParse(v, System.Globalization.NumberStyles.Float,
            System.Globalization.CultureInfo.InvariantCulture, out double d) && d is >= 0 and <= 1 ? d : fallback;

    // Values were validated by TopicConfigCatalog when the config record was written.
    private static long Long(IReadOnlyDictionary<string, string> configs, string key, long fallback) =>
        configs.TryGetValue(key, out var v) && long.TryParse(v, out long n) ? n : fallback;
}

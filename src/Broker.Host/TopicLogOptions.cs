using Broker.Config;
using Broker.Metadata.Image;
using Broker.Storage;

namespace Broker.Host;

/// <summary>Resolves a topic's storage options: topic-level configs override the broker's log.* defaults.</summary>
public sealed class TopicLogOptions(BrokerConfig broker)
{
    public LogOptions Defaults { get; } = new()
    {
        SegmentBytes = broker.LogSegmentBytes,
        SegmentMs = broker.LogRollMs,
        RetentionMs = broker.LogRetentionMs,
        RetentionBytes = broker.LogRetentionBytes,
        IndexIntervalBytes = broker.LogIndexIntervalBytes,
        MaxMessageBytes = broker.MessageMaxBytes,
    };

    public LogOptions For(TopicImage topic) => For(topic.Configs);

    public LogOptions For(IReadOnlyDictionary<string, string> configs)
    {
        if (configs.Count == 0) return Defaults;
        return Defaults with
        {
            SegmentBytes = Long(configs, "segment.bytes", Defaults.SegmentBytes),
            SegmentMs = Long(configs, "segment.ms", Defaults.SegmentMs),
            RetentionMs = Long(configs, "retention.ms", Defaults.RetentionMs),
            RetentionBytes = Long(configs, "retention.bytes", Defaults.RetentionBytes),
            IndexIntervalBytes = (int)Long(configs, "index.interval.bytes", Defaults.IndexIntervalBytes),
            MaxMessageBytes = (int)Long(configs, "max.message.bytes", Defaults.MaxMessageBytes),
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

    // Values were validated by TopicConfigCatalog when the config record was written.
    private static long Long(IReadOnlyDictionary<string, string> configs, string key, long fallback) =>
        configs.TryGetValue(key, out var v) && long.TryParse(v, out long n) ? n : fallback;
}

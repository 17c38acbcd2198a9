namespace Broker.Config;

/// <summary>A topic-level configuration key: its type, validation rules and the broker key supplying its default.</summary>
public sealed class TopicConfigKey
{
    internal TopicConfigKey(ConfigKey rule, string? brokerKey, string? fixedDefault)
    {
        Rule = rule;
        BrokerKey = brokerKey;
        FixedDefault = fixedDefault;
    }

    internal ConfigKey Rule { get; }
    public string Name => Rule.Name;
    public ConfigType Type => Rule.Type;
    public string Doc => Rule.Doc;
    /// <summary>The broker setting that provides the default (DescribeConfigs synonym), or null.</summary>
    public string? BrokerKey { get; }
    /// <summary>The default when no broker setting maps to this key.</summary>
    public string? FixedDefault { get; }
}

/// <summary>
/// The topic-level configuration keys accepted by CreateTopics / AlterConfigs, with validation and the
/// broker-level default of each. Unknown keys are rejected with Kafka's "Unknown topic config name" text.
/// </summary>
public static class TopicConfigCatalog
{
    private static readonly TopicConfigKey[] s_keys =
    [
        Topic(new() { Name = "cleanup.policy", Type = ConfigType.List, ValidValues = ConfigKeys.CleanupPolicies, Section = "", Doc = "delete, compact, or delete,compact." }, "log.cleanup.policy"),
        Topic(new() { Name = "compression.type", Type = ConfigType.String, ValidValues = ConfigKeys.CompressionTypes, Section = "", Doc = "Compression of stored batches." }, "compression.type"),
        Topic(Long("delete.retention.ms", 0, "How long tombstones are kept in compacted topics."), "log.cleaner.delete.retention.ms"),
        Topic(Long("file.delete.delay.ms", 0, "Delay before deleting the files of a removed segment."), "log.segment.delete.delay.ms"),
        Topic(Long("flush.messages", 1, "Force an fsync after this many messages."), "log.flush.interval.messages"),
        Topic(Long("flush.ms", 0, "Force an fsync when unflushed data is this old."), "log.flush.interval.ms", long.MaxValue.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        Topic(new() { Name = "write.caching", Type = ConfigType.Boolean, Section = "", Doc = "false: every replica fsyncs a batch before it counts towards acks=all." }, "write.caching.default"),
        Topic(Int("index.interval.bytes", 0, "Bytes between offset index entries."), "log.index.interval.bytes"),
        Topic(Int("max.message.bytes", 0, "Largest record batch accepted for this topic."), "message.max.bytes"),
        Topic(new() { Name = "message.timestamp.type", Type = ConfigType.String, ValidValues = ConfigKeys.TimestampTypes, Section = "", Doc = "CreateTime or LogAppendTime." }, "log.message.timestamp.type"),
        Topic(new() { Name = "min.cleanable.dirty.ratio", Type = ConfigType.Double, DoubleMin = 0, DoubleMax = 1, Section = "", Doc = "Minimum share of uncompacted data before compaction." }, "log.cleaner.min.cleanable.ratio"),
        Topic(Long("min.compaction.lag.ms", 0, "Minimum age of a message before it may be compacted."), "log.cleaner.min.compaction.lag.ms"),
        Topic(Int("min.insync.replicas", 1, "Minimum in-sync replicas for acks=all."), "min.insync.replicas"),
        Topic(Long("retention.bytes", -1, "Size limit of a partition's log; -1 = none."), "log.retention.bytes"),
        Topic(Long("retention.ms", -1, "Age limit of log segments; -1 = none."), ConfigKeys.LogRetentionMs),
        Topic(Int("segment.bytes", ConfigKeys.MinSegmentBytes, "Maximum size of a log segment."), "log.segment.bytes"),
        Topic(Long("segment.ms", 1, "Maximum age of the active segment."), ConfigKeys.LogRollMs),
        Topic(Int("segment.index.bytes", 4, "Maximum size of an index file."), "log.index.size.max.bytes"),
        Topic(Long("message.timestamp.difference.max.ms", 0, "Largest allowed CreateTime skew (deprecated in Kafka)."), "log.message.timestamp.difference.max.ms"),
    ];

    private static readonly Dictionary<string, TopicConfigKey> s_byName = Index();
    private static readonly string[] s_names = Names();

    /// <summary>All accepted topic config names, in a stable order.</summary>
    public static IReadOnlyList<string> Keys => s_names;

    public static TopicConfigKey? Find(string key) => s_byName.TryGetValue(key, out var k) ? k : null;

    public static bool IsKnown(string key) => s_byName.ContainsKey(key);

    /// <summary>Validates one topic config entry. Returns null when valid, else Kafka-style error text.
    /// A null value (AlterConfigs "delete") is valid for every known key.</summary>
    public static string? Validate(string key, string? value)
    {
        if (!s_byName.TryGetValue(key, out var k)) return $"Unknown topic config name: {key}";
        if (value is null) return null;
        string? err = k.Rule.Check(value);
        return err is null ? null : $"Invalid value '{value}' for topic config {key}: {err}";
    }

    /// <summary>The value a topic gets for <paramref name="key"/> when it does not set it: the broker setting's
    /// effective value (in properties syntax).</summary>
    /// <exception cref="ArgumentException">Unknown key.</exception>
    public static string DefaultFor(string key, BrokerConfig broker) => DefaultFor(key, broker.GetEffective);

    /// <summary>The value a topic gets for <paramref name="key"/> when it does not set it, with the broker settings
    /// read through <paramref name="brokerValue"/> (broker key → effective value, e.g. with dynamic overrides).</summary>
    /// <exception cref="ArgumentException">Unknown key.</exception>
    public static string DefaultFor(string key, Func<string, string?> brokerValue)
    {
        if (!s_byName.TryGetValue(key, out var k)) throw new ArgumentException($"Unknown topic config name: {key}", nameof(key));
        if (k.BrokerKey is not null && brokerValue(k.BrokerKey) is { } v) return v;
        return k.FixedDefault ?? throw new InvalidOperationException($"no default for topic config {key}");
    }

    private static TopicConfigKey Topic(ConfigKey rule, string brokerKey, string? fixedDefault = null) => new(rule, brokerKey, fixedDefault);

    private static ConfigKey Long(string name, long min, string doc) =>
        new() { Name = name, Type = ConfigType.Long, Min = min, Section = "", Doc = doc };

    private static ConfigKey Int(string name, long min, string doc) =>
        new() { Name = name, Type = ConfigType.Int, Min = min, Max = int.MaxValue, Section = "", Doc = doc };

    private static Dictionary<string, TopicConfigKey> Index()
    {
        var map = new Dictionary<string, TopicConfigKey>(StringComparer.Ordinal);
        foreach (var k in s_keys) map.Add(k.Name, k);
        return map;
    }

    private static string[] Names()
    {
        var names = new string[s_keys.Length];
        for (int i = 0; i < s_keys.Length; i++) names[i] = s_keys[i].Name;
        return names;
    }
}

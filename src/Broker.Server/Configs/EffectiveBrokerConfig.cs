using Broker.Config;
using Broker.Metadata.Image;
using Broker.Server.Admin;
using Broker.Server.Partitions;

namespace Broker.Server.Configs;

/// <summary>
/// This node's broker configuration as one metadata image makes it: dynamic configs of this broker (resource "N")
/// over cluster-wide dynamic configs (resource "") over server.properties over the built-in defaults. Immutable;
/// values in properties syntax. The derived topic defaults (log options, topic settings) are computed once per
/// snapshot, on first use.
/// </summary>
public sealed class EffectiveBrokerConfig
{
    private static readonly Dictionary<string, string[]> s_aliases = AliasesByKey();
    private TopicLogOptions? _logOptions;
    private TopicSettings? _topicDefaults;

    internal EffectiveBrokerConfig(BrokerConfig config, IReadOnlyDictionary<string, string> cluster, IReadOnlyDictionary<string, string> node)
    {
        Static = config;
        ClusterDynamic = cluster;
        NodeDynamic = node;
    }

    /// <summary>The node's server.properties configuration.</summary>
    public BrokerConfig Static { get; }
    /// <summary>Dynamic configs of the cluster-default broker resource ("").</summary>
    public IReadOnlyDictionary<string, string> ClusterDynamic { get; }
    /// <summary>Dynamic configs of this broker's resource ("N").</summary>
    public IReadOnlyDictionary<string, string> NodeDynamic { get; }

    /// <summary>The effective value of a broker key on this node (null when unset and without default).</summary>
    public string? Value(string key) =>
        NodeDynamic.TryGetValue(key, out var v) ? v : ClusterValue(key);

    /// <summary>The value ignoring this broker's own dynamic configs: cluster-wide dynamic, else static.</summary>
    public string? ClusterValue(string key) =>
        ClusterDynamic.TryGetValue(key, out var v) ? v : StaticValue(key);

    /// <summary>The server.properties value (or default) of a key; alias keys (log.retention.hours) as given.</summary>
    public string? StaticValue(string key)
    {
        var row = ConfigKeys.Find(key);
        if (row?.AliasOf is not null) return Static.Raw.TryGetValue(key, out var given) ? given.Trim() : row.Default;
        return Static.GetEffective(key);
    }

    /// <summary>Where <see cref="Value"/> comes from, as a DescribeConfigs source id.</summary>
    public sbyte SourceOf(string key) =>
        NodeDynamic.ContainsKey(key) ? ConfigSources.DynamicBrokerConfig
        : ClusterDynamic.ContainsKey(key) ? ConfigSources.DynamicDefaultBrokerConfig
        : IsStaticallyGiven(key) ? ConfigSources.StaticBrokerConfig
        : ConfigSources.DefaultConfig;

    /// <summary>Where <see cref="ClusterValue"/> comes from.</summary>
    public sbyte ClusterSourceOf(string key) =>
        ClusterDynamic.ContainsKey(key) ? ConfigSources.DynamicDefaultBrokerConfig
        : IsStaticallyGiven(key) ? ConfigSources.StaticBrokerConfig
        : ConfigSources.DefaultConfig;

    /// <summary>True when the key, or an older spelling folded into it (log.retention.hours for log.retention.ms),
    /// was given in the properties (file, overrides, built-in single-node set).</summary>
    public bool IsStaticallyGiven(string key)
    {
        if (Static.Raw.ContainsKey(key)) return true;
        if (s_aliases.TryGetValue(key, out var aliases))
            foreach (string alias in aliases)
                if (Static.Raw.ContainsKey(alias)) return true;
        return false;
    }

    /// <summary>
    /// The layers behind a broker key, highest precedence first: this broker's dynamic value, the cluster-wide one,
    /// the value(s) given in the properties (the key and its older spellings) and the built-in default(s).
    /// </summary>
    public List<ConfigSynonym> Synonyms(string key)
    {
        var list = new List<ConfigSynonym>(4);
        if (NodeDynamic.TryGetValue(key, out var node)) list.Add(new(key, node, ConfigSources.DynamicBrokerConfig));
        if (ClusterDynamic.TryGetValue(key, out var cluster)) list.Add(new(key, cluster, ConfigSources.DynamicDefaultBrokerConfig));
        var row = ConfigKeys.Find(key);
        s_aliases.TryGetValue(key, out var aliases);
        if (Static.Raw.TryGetValue(key, out var given)) list.Add(new(key, given.Trim(), ConfigSources.StaticBrokerConfig));
        if (aliases is not null)
            foreach (string alias in aliases)
                if (Static.Raw.TryGetValue(alias, out var a)) list.Add(new(alias, a.Trim(), ConfigSources.StaticBrokerConfig));
        string? fallback = row?.Default ?? (IsStaticallyGiven(key) ? null : StaticValue(key));
        if (fallback is not null) list.Add(new(key, fallback, ConfigSources.DefaultConfig));
        if (aliases is not null)
            foreach (string alias in aliases)
                if (ConfigKeys.Find(alias)?.Default is { } d) list.Add(new(alias, d, ConfigSources.DefaultConfig));
        return list;
    }

    /// <summary>Storage options of topics on this node, with these broker defaults.</summary>
    public TopicLogOptions LogOptions =>
        _logOptions ??= new TopicLogOptions(BrokerLogDefaults.From(Value, BrokerLogDefaults.From(Static)));

    /// <summary>message.timestamp.type / min.insync.replicas defaults of topics on this node.</summary>
    public TopicSettings TopicDefaults => _topicDefaults ??= TopicSettings.FromBroker(
        Value("log.message.timestamp.type") ?? Static.LogMessageTimestampType,
        int.TryParse(Value("min.insync.replicas"), System.Globalization.NumberStyles.Integer,
            System.Globalization.CultureInfo.InvariantCulture, out int minIsr) ? minIsr : Static.MinInsyncReplicas);

    /// <summary>The value a topic gets for a topic config it does not set (properties syntax).</summary>
    public string TopicDefault(string topicKey) => TopicConfigCatalog.DefaultFor(topicKey, Value);

    private static Dictionary<string, string[]> AliasesByKey()
    {
        var lists = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var row in ConfigKeys.All)
        {
            if (row.AliasOf is null) continue;
            if (!lists.TryGetValue(row.AliasOf, out var l)) lists[row.AliasOf] = l = new List<string>(2);
            l.Add(row.Name);
        }
        var map = new Dictionary<string, string[]>(StringComparer.Ordinal);
        foreach (var (key, l) in lists) map[key] = l.ToArray();
        return map;
    }
}

/// <summary>One layer behind a config value (DescribeConfigs synonyms): key name, value and source id.</summary>
public readonly record struct ConfigSynonym(string Name, string? Value, sbyte Source);

/// <summary>
/// This node's broker configuration under the dynamic configs of the latest metadata image: hands out an
/// <see cref="EffectiveBrokerConfig"/> per image, rebuilt only when the image's broker configs changed (images
/// share unchanged config maps, so a reference check suffices). Thread-safe.
/// </summary>
public sealed class DynamicBrokerConfig
{
    private static readonly IReadOnlyDictionary<string, string> NoConfigs = new Dictionary<string, string>();
    private readonly string _nodeResource;
    private EffectiveBrokerConfig _current;

    public DynamicBrokerConfig(BrokerConfig config)
    {
        Static = config;
        _nodeResource = config.NodeId.ToString(System.Globalization.CultureInfo.InvariantCulture);
        _current = new EffectiveBrokerConfig(config, NoConfigs, NoConfigs);
    }

    public BrokerConfig Static { get; }
    public int NodeId => Static.NodeId;

    /// <summary>The effective configuration under <paramref name="image"/>'s dynamic configs (static only when null).</summary>
    public EffectiveBrokerConfig For(MetadataImage? image)
    {
        var current = Volatile.Read(ref _current);
        if (image is null) return current.ClusterDynamic.Count == 0 && current.NodeDynamic.Count == 0
            ? current : new EffectiveBrokerConfig(Static, NoConfigs, NoConfigs);
        var cluster = image.GetBrokerConfigs("");
        var node = image.GetBrokerConfigs(_nodeResource);
        if (ReferenceEquals(current.ClusterDynamic, cluster) && ReferenceEquals(current.NodeDynamic, node)) return current;
        var next = new EffectiveBrokerConfig(Static, cluster, node);
        Volatile.Write(ref _current, next);
        return next;
    }

    /// <summary>A topic's storage options on this node under <paramref name="image"/>.</summary>
    public Storage.LogOptions LogOptionsFor(MetadataImage? image, TopicImage topic) => For(image).LogOptions.For(topic);

    /// <summary>A topic's message.timestamp.type / min.insync.replicas on this node under <paramref name="image"/>.</summary>
    public TopicSettings SettingsFor(MetadataImage? image, TopicImage topic) => TopicSettings.Resolve(topic.Configs, For(image).TopicDefaults);
}

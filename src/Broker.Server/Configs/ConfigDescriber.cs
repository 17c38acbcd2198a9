using Broker.Config;
using Broker.Metadata.Image;
using Broker.Server.Admin;

namespace Broker.Server.Configs;

/// <summary>One described config entry (DescribeConfigs), independent of the wire version.</summary>
public sealed record DescribedConfig(
    string Name,
    string? Value,
    sbyte Source,
    bool ReadOnly,
    ConfigType Type,
    string? Documentation,
    IReadOnlyList<ConfigSynonym> Synonyms);

/// <summary>
/// The entries DescribeConfigs reports, with Kafka's semantics:
/// * a topic: every topic config, its own value (DYNAMIC_TOPIC_CONFIG) or the default it inherits from this node's
///   broker settings (source of that broker key: dynamic per-broker, dynamic cluster default, static, default);
/// * this broker ("N"): every broker key with its effective value; read-only = not changeable at runtime;
/// * the cluster default broker resource (""): only the keys set dynamically for the whole cluster.
/// <paramref name="names"/> (null = all) filters by name; unknown names are simply not reported. Sorted by name.
/// </summary>
public static class ConfigDescriber
{
    public static List<DescribedConfig> Topic(TopicImage topic, EffectiveBrokerConfig broker, IReadOnlyCollection<string>? names)
    {
        var list = new List<DescribedConfig>(TopicConfigCatalog.Keys.Count);
        foreach (string name in TopicConfigCatalog.Keys)
        {
            if (!Wanted(names, name)) continue;
            var key = TopicConfigCatalog.Find(name)!;
            var synonyms = new List<ConfigSynonym>(4);
            string? value;
            sbyte source;
            if (topic.Configs.TryGetValue(name, out var own))
            {
                synonyms.Add(new(name, own, ConfigSources.DynamicTopicConfig));
                (value, source) = (own, ConfigSources.DynamicTopicConfig);
            }
            else
            {
                value = broker.TopicDefault(name);
                source = key.BrokerKey is { } b && broker.Value(b) is not null ? broker.SourceOf(b) : ConfigSources.DefaultConfig;
            }
            if (key.BrokerKey is { } brokerKey) synonyms.AddRange(broker.Synonyms(brokerKey));
            if (key.FixedDefault is { } fixedDefault && (key.BrokerKey is null || broker.Value(key.BrokerKey) is null))
                synonyms.Add(new(name, fixedDefault, ConfigSources.DefaultConfig));
            list.Add(new DescribedConfig(name, value, source, ReadOnly: false, key.Type, key.Doc, synonyms));
        }
        list.Sort(static (a, b) => string.CompareOrdinal(a.Name, b.Name));
        return list;
    }

    public static List<DescribedConfig> Broker(EffectiveBrokerConfig broker, IReadOnlyCollection<string>? names)
    {
        var list = new List<DescribedConfig>(ConfigKeys.All.Count);
        foreach (var row in ConfigKeys.All)
        {
            if (!Wanted(names, row.Name)) continue;
            list.Add(new DescribedConfig(row.Name, broker.Value(row.Name), broker.SourceOf(row.Name), !row.IsDynamic, row.Type,
                Documentation(row), broker.Synonyms(row.Name)));
        }
        list.Sort(static (a, b) => string.CompareOrdinal(a.Name, b.Name));
        return list;
    }

    public static List<DescribedConfig> ClusterDefaults(EffectiveBrokerConfig broker, IReadOnlyCollection<string>? names)
    {
        var list = new List<DescribedConfig>(broker.ClusterDynamic.Count);
        foreach (var (name, value) in broker.ClusterDynamic)
        {
            if (!Wanted(names, name)) continue;
            var row = ConfigKeys.Find(name);
            list.Add(new DescribedConfig(name, value, ConfigSources.DynamicDefaultBrokerConfig, ReadOnly: false,
                row?.Type ?? ConfigType.String, row is null ? null : Documentation(row),
                [new ConfigSynonym(name, value, ConfigSources.DynamicDefaultBrokerConfig)]));
        }
        list.Sort(static (a, b) => string.CompareOrdinal(a.Name, b.Name));
        return list;
    }

    /// <summary>Kafka's DescribeConfigs config_type id of a key type.</summary>
    public static sbyte TypeId(ConfigType type) => type switch
    {
        ConfigType.Boolean => 1,
        ConfigType.String => 2,
        ConfigType.Int => 3,
        ConfigType.Short => 4,
        ConfigType.Long => 5,
        ConfigType.Double => 6,
        ConfigType.List => 7,
        _ => 0,
    };

    private static string Documentation(ConfigKey row) => DynamicBrokerConfigs.EffectOf(row.Name) is { } effect
        ? $"{row.Doc} Dynamic: {effect}."
        : row.Doc;

    private static bool Wanted(IReadOnlyCollection<string>? names, string name)
    {
        if (names is null) return true;
        foreach (string n in names)
            if (n == name) return true;
        return false;
    }
}

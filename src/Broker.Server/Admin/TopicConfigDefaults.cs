using Broker.Config;

namespace Broker.Server.Admin;

/// <summary>Kafka's DescribeConfigs / CreateTopics config source ids.</summary>
public static class ConfigSources
{
    public const sbyte Unknown = 0;
    public const sbyte DynamicTopicConfig = 1;
    public const sbyte DynamicBrokerConfig = 2;
    public const sbyte DynamicDefaultBrokerConfig = 3;
    public const sbyte StaticBrokerConfig = 4;
    public const sbyte DefaultConfig = 5;
}

/// <summary>The value a topic gets for a config key it does not set, and where that value comes from.</summary>
public readonly record struct TopicConfigDefault(string Name, string Value, sbyte Source);

/// <summary>
/// The effective default of every topic config key (<see cref="TopicConfigCatalog"/>), computed once from the
/// broker configuration: CreateTopics v5+ reports each topic's full config set. Source is STATIC_BROKER_CONFIG
/// when the backing broker key was given (file, override, built-in single-node set), DEFAULT_CONFIG otherwise
/// (values derived from another key count as defaults: best effort, clients do not act on it).
/// </summary>
public sealed class TopicConfigDefaults
{
    private readonly TopicConfigDefault[] _entries;

    public TopicConfigDefaults(IEnumerable<TopicConfigDefault> entries)
    {
        var list = new List<TopicConfigDefault>(entries);
        list.Sort(static (a, b) => string.CompareOrdinal(a.Name, b.Name));
        _entries = list.ToArray();
    }

    /// <summary>Sorted by name.</summary>
    public IReadOnlyList<TopicConfigDefault> Entries => _entries;

    public static TopicConfigDefaults FromBrokerConfig(BrokerConfig config)
    {
        var origins = new Dictionary<string, ConfigOriginKind>(StringComparer.Ordinal);
        foreach (var setting in config.Effective) origins[setting.Key] = setting.Origin.Kind;
        var entries = new List<TopicConfigDefault>(TopicConfigCatalog.Keys.Count);
        foreach (string key in TopicConfigCatalog.Keys)
        {
            string value = TopicConfigCatalog.DefaultFor(key, config);
            string? brokerKey = TopicConfigCatalog.Find(key)?.BrokerKey;
            bool given = brokerKey is not null && origins.TryGetValue(brokerKey, out var kind)
                && kind is not (ConfigOriginKind.Default or ConfigOriginKind.Derived);
            entries.Add(new TopicConfigDefault(key, value, given ? ConfigSources.StaticBrokerConfig : ConfigSources.DefaultConfig));
        }
        return new TopicConfigDefaults(entries);
    }
}

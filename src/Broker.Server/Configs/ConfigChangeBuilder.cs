using Broker.Config;
using Broker.Core.Model;
using Broker.Metadata.Controller;
using Broker.Metadata.Image;
using Broker.Metadata.Records;

namespace Broker.Server.Configs;

/// <summary>One IncrementalAlterConfigs entry: key, operation (SET 0, DELETE 1, APPEND 2, SUBTRACT 3) and value.</summary>
public readonly record struct ConfigOperation(string Name, sbyte Op, string? Value)
{
    public const sbyte Set = 0;
    public const sbyte Delete = 1;
    public const sbyte Append = 2;
    public const sbyte Subtract = 3;
}

/// <summary>
/// Turns the two request shapes into set/delete changes of one resource, against this node's image:
/// * AlterConfigs (legacy): the given entries become the resource's whole dynamic set, so every key it holds now
///   and the request does not name is deleted (a null value counts as not named);
/// * IncrementalAlterConfigs: SET and DELETE as given; APPEND / SUBTRACT (list keys only) add missing items to /
///   remove items from the current value, which is the resource's own value or else the value it inherits.
/// A key named twice → INVALID_REQUEST; APPEND/SUBTRACT of a non-list key → INVALID_CONFIG; an unknown operation →
/// INVALID_REQUEST; an unknown topic → UNKNOWN_TOPIC_OR_PARTITION. Everything else is checked by
/// <see cref="ConfigAlterService.Check"/>.
/// </summary>
public static class ConfigChangeBuilder
{
    public static ControllerResult Replace(ConfigResourceType type, string name, IReadOnlyList<KeyValuePair<string, string?>> entries,
        MetadataImage image, out Dictionary<string, string?> changes)
    {
        changes = new Dictionary<string, string?>(StringComparer.Ordinal);
        var current = ConfigAlterService.CurrentConfigs(image, type, name);
        if (type == ConfigResourceType.Topic && current is null)
            return new(ErrorCode.UnknownTopicOrPartition, $"Topic '{name}' does not exist.");
        var named = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (key, value) in entries)
        {
            if (!named.Add(key)) return Duplicate(key);
            if (value is not null) changes[key] = value;
        }
        if (current is not null)
            foreach (var (key, _) in current)
                if (!changes.ContainsKey(key)) changes[key] = null;
        return ControllerResult.Ok;
    }

    public static ControllerResult Incremental(ConfigResourceType type, string name, IReadOnlyList<ConfigOperation> operations,
        MetadataImage image, EffectiveBrokerConfig broker, out Dictionary<string, string?> changes)
    {
        changes = new Dictionary<string, string?>(StringComparer.Ordinal);
        var current = ConfigAlterService.CurrentConfigs(image, type, name);
        if (type == ConfigResourceType.Topic && current is null)
            return new(ErrorCode.UnknownTopicOrPartition, $"Topic '{name}' does not exist.");
        foreach (var op in operations)
        {
            if (changes.ContainsKey(op.Name)) return Duplicate(op.Name);
            switch (op.Op)
            {
                case ConfigOperation.Set:
                    if (op.Value is null) return new(ErrorCode.InvalidRequest, $"The value of config '{op.Name}' must not be null for SET.");
                    changes[op.Name] = op.Value;
                    break;
                case ConfigOperation.Delete:
                    changes[op.Name] = null;
                    break;
                case ConfigOperation.Append:
                case ConfigOperation.Subtract:
                    var listed = ListValue(type, name, op.Name, current, broker, out var refusal);
                    if (listed is null) return refusal;
                    var items = op.Value is null ? [] : ConfigValues.SplitList(op.Value);
                    if (op.Op == ConfigOperation.Append)
                    {
                        foreach (string item in items)
                            if (!listed.Contains(item)) listed.Add(item);
                    }
                    else
                    {
                        listed.RemoveAll(items.Contains);
                    }
                    changes[op.Name] = string.Join(",", listed);
                    break;
                default:
                    return new(ErrorCode.InvalidRequest, $"Unknown config operation {op.Op} for config '{op.Name}' (expected 0 SET, 1 DELETE, 2 APPEND or 3 SUBTRACT).");
            }
        }
        return ControllerResult.Ok;
    }

    /// <summary>The current items of a list key, or null with the refusal (unknown key, not a list).</summary>
    private static List<string>? ListValue(ConfigResourceType type, string resource, string key,
        IReadOnlyDictionary<string, string>? current, EffectiveBrokerConfig broker, out ControllerResult refusal)
    {
        refusal = ControllerResult.Ok;
        ConfigType? keyType = type == ConfigResourceType.Topic ? TopicConfigCatalog.Find(key)?.Type : ConfigKeys.Find(key)?.Type;
        if (keyType is null)
        {
            refusal = new(ErrorCode.InvalidConfig, type == ConfigResourceType.Topic ? $"Unknown topic config name: {key}" : $"Unknown broker config name: {key}");
            return null;
        }
        if (keyType != ConfigType.List)
        {
            refusal = new(ErrorCode.InvalidConfig, $"Config value append or subtract is not allowed for config key {key}: it is not a list.");
            return null;
        }
        string? value = current is not null && current.TryGetValue(key, out var own) ? own
            : type == ConfigResourceType.Topic ? broker.TopicDefault(key)
            : resource.Length == 0 ? broker.ClusterValue(key)
            : broker.Value(key);
        return value is null ? new List<string>() : ConfigValues.SplitList(value);
    }

    private static ControllerResult Duplicate(string key) =>
        new(ErrorCode.InvalidRequest, $"Error due to duplicate config keys: '{key}' is named more than once.");
}

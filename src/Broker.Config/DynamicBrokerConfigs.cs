using Broker.Core.Model;

namespace Broker.Config;

/// <summary>Why a dynamic broker config entry was refused: the Kafka error code and a message naming the key.</summary>
public readonly record struct DynamicConfigRefusal(ErrorCode Error, string Message);

/// <summary>
/// The broker keys that may be changed at runtime (AlterConfigs / IncrementalAlterConfigs on a broker resource, the
/// Admin API's /v1/cluster_config), cluster-wide (resource "") or for one broker (resource "N"). Only keys whose new
/// value really takes effect without a restart are listed, each with the code path that re-reads it; every other
/// known key is read-only (Kafka's "Cannot update these configs dynamically").
/// </summary>
public static class DynamicBrokerConfigs
{
    /// <summary>Dynamic keys → how the change takes effect (shown in docs and DescribeConfigs documentation).</summary>
    private static readonly Dictionary<string, string> s_dynamic = new(StringComparer.Ordinal)
    {
        // Topic defaults re-applied to the open partition logs (segment rolling, retention, cleaner, produce size).
        ["log.segment.bytes"] = "open logs roll at the new size from their next append",
        [ConfigKeys.LogRollMs] = "open logs roll at the new age from their next append",
        [ConfigKeys.LogRetentionMs] = "applied by the next retention pass (log.retention.check.interval.ms)",
        ["log.retention.bytes"] = "applied by the next retention pass (log.retention.check.interval.ms)",
        ["log.cleanup.policy"] = "retention and the log cleaner follow the new policy from their next pass",
        ["log.index.interval.bytes"] = "used by the next appends",
        ["log.cleaner.delete.retention.ms"] = "used by the next compaction",
        ["log.cleaner.min.cleanable.ratio"] = "used by the next log cleaner pass",
        ["log.cleaner.min.compaction.lag.ms"] = "used by the next compaction",
        ["message.max.bytes"] = "checked by the next produce request",
        ["producer.id.expiration.ms"] = "used by the next retention pass to expire idle producers",
        // Data-path topic settings.
        ["min.insync.replicas"] = "checked by the next acks=all produce request",
        ["log.message.timestamp.type"] = "used by the next produce request",
        // Topic creation defaults (the active controller reads them for CreateTopics asking for -1).
        ["num.partitions"] = "used by the next CreateTopics request that leaves the partition count to the broker",
        ["default.replication.factor"] = "used by the next CreateTopics request that leaves the replication factor to the broker",
    };

    private static readonly string[] s_names = SortedNames();

    /// <summary>The dynamic broker keys, sorted.</summary>
    public static IReadOnlyList<string> Names => s_names;

    /// <summary>True when <paramref name="key"/> may be changed at runtime.</summary>
    public static bool IsDynamic(string key) => s_dynamic.ContainsKey(key);

    /// <summary>How a change of a dynamic key takes effect; null for read-only or unknown keys.</summary>
    public static string? EffectOf(string key) => s_dynamic.GetValueOrDefault(key);

    /// <summary>
    /// Checks one dynamic broker config entry (value null = delete): null when acceptable, else INVALID_CONFIG for an
    /// unknown key or a bad value, INVALID_REQUEST for a known read-only key (including Kafka settings this broker
    /// accepts but does not use).
    /// </summary>
    public static DynamicConfigRefusal? Check(string key, string? value)
    {
        if (string.IsNullOrEmpty(key)) return new(ErrorCode.InvalidConfig, "Config names must not be empty.");
        var row = ConfigKeys.Find(key);
        if (row is null)
        {
            return ConfigKeys.IsKafkaSettingNotUsed(key)
                ? new(ErrorCode.InvalidRequest, ReadOnlyMessage([key]))
                : new(ErrorCode.InvalidConfig, $"Unknown broker config name: {key}");
        }
        if (!IsDynamic(key)) return new(ErrorCode.InvalidRequest, ReadOnlyMessage([key]));
        if (value is null) return null;
        string? error = row.Check(value);
        return error is null ? null : new(ErrorCode.InvalidConfig, $"Invalid value '{value}' for broker config {key}: {error}");
    }

    /// <summary>
    /// Checks every entry of one broker resource change: all read-only keys are named in one INVALID_REQUEST (as
    /// Kafka does); otherwise the first unknown key or bad value is the INVALID_CONFIG answer.
    /// </summary>
    public static DynamicConfigRefusal? CheckAll(IEnumerable<KeyValuePair<string, string?>> changes)
    {
        List<string>? readOnly = null;
        DynamicConfigRefusal? first = null;
        foreach (var (key, value) in changes)
        {
            var refusal = Check(key, value);
            if (refusal is null) continue;
            if (refusal.Value.Error == ErrorCode.InvalidRequest) (readOnly ??= new()).Add(key);
            else first ??= refusal;
        }
        if (readOnly is not null) return new(ErrorCode.InvalidRequest, ReadOnlyMessage(readOnly));
        return first;
    }

    /// <summary>Kafka's text for read-only keys, e.g. "Cannot update these configs dynamically: listeners, node.id".</summary>
    public static string ReadOnlyMessage(IReadOnlyList<string> keys) =>
        $"Cannot update these configs dynamically: {string.Join(", ", keys)}";

    private static string[] SortedNames()
    {
        var names = new string[s_dynamic.Count];
        s_dynamic.Keys.CopyTo(names, 0);
        Array.Sort(names, StringComparer.Ordinal);
        return names;
    }
}

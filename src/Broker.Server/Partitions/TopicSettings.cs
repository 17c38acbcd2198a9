using System.Globalization;

namespace Broker.Server.Partitions;

/// <summary>
/// The topic-level settings the Kafka data path needs besides storage options: message.timestamp.type and
/// min.insync.replicas, resolved from a topic's dynamic configs over broker defaults.
/// </summary>
public sealed record TopicSettings(bool LogAppendTime, int MinInsyncReplicas)
{
    public const string TimestampTypeKey = "message.timestamp.type";
    public const string MinInsyncReplicasKey = "min.insync.replicas";

    /// <summary>Kafka's defaults: CreateTime, min.insync.replicas=1.</summary>
    public static TopicSettings Default { get; } = new(LogAppendTime: false, MinInsyncReplicas: 1);

    /// <summary>Broker defaults from log.message.timestamp.type ("CreateTime"/"LogAppendTime") and min.insync.replicas.</summary>
    public static TopicSettings FromBroker(string logMessageTimestampType, int minInsyncReplicas) =>
        new(IsLogAppendTime(logMessageTimestampType, false), Math.Max(1, minInsyncReplicas));

    /// <summary>
    /// Topic configs override <paramref name="defaults"/>. Values were validated when the config was written;
    /// anything unparsable falls back to the default.
    /// </summary>
    public static TopicSettings Resolve(IReadOnlyDictionary<string, string> topicConfigs, TopicSettings defaults)
    {
        if (topicConfigs.Count == 0) return defaults;
        bool logAppendTime = topicConfigs.TryGetValue(TimestampTypeKey, out var type)
            ? IsLogAppendTime(type, defaults.LogAppendTime)
            : defaults.LogAppendTime;
        int minIsr = topicConfigs.TryGetValue(MinInsyncReplicasKey, out var raw)
                     && int.TryParse(raw, NumberStyles.Integer, CultureInfo.InvariantCulture, out int parsed) && parsed >= 1
            ? parsed
            : defaults.MinInsyncReplicas;
        return logAppendTime == defaults.LogAppendTime && minIsr == defaults.MinInsyncReplicas
            ? defaults
            : new TopicSettings(logAppendTime, minIsr);
    }

    private static bool IsLogAppendTime(string value, bool fallback) => value switch
    {
        "LogAppendTime" => true,
        "CreateTime" => false,
        _ => fallback,
    };
}

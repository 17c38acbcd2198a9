using Broker.Core.Model;
using Broker.Metadata.Records;

namespace Broker.Metadata.Controller;

/// <summary>
/// A topic to create. <see cref="NumPartitions"/> and <see cref="ReplicationFactor"/> are -1 for the defaults;
/// <see cref="ManualAssignment"/> (partition id → broker ids, first = preferred leader) excludes both.
/// Config values must not be null.
/// </summary>
public sealed record NewTopicSpec(
    string Name,
    int NumPartitions = -1,
    short ReplicationFactor = -1,
    IReadOnlyDictionary<int, int[]>? ManualAssignment = null,
    IReadOnlyDictionary<string, string?>? Configs = null);

/// <summary>Outcome of one topic of a CreateTopics call; on error the numbers are -1 and the id is empty.</summary>
public sealed record CreateTopicResult(
    string Name,
    ErrorCode Error,
    string? Message,
    Guid TopicId,
    int NumPartitions,
    short ReplicationFactor,
    IReadOnlyDictionary<string, string> Configs)
{
    internal static readonly IReadOnlyDictionary<string, string> NoConfigs = new Dictionary<string, string>();

    internal static CreateTopicResult Failed(string name, ErrorCode error, string? message) =>
        new(name, error, message, Guid.Empty, -1, -1, NoConfigs);
}

/// <summary>A topic named either by name (when <see cref="Name"/> is not null) or by id.</summary>
public readonly record struct TopicReference(string? Name, Guid TopicId)
{
    public static TopicReference ByName(string name) => new(name, Guid.Empty);
    public static TopicReference ById(Guid topicId) => new(null, topicId);
}

public sealed record DeleteTopicResult(string? Name, Guid TopicId, ErrorCode Error, string? Message);

/// <summary>
/// Grow <see cref="Topic"/> to <see cref="TotalCount"/> partitions. <see cref="Assignment"/>, when given, lists the
/// replicas of each new partition (TotalCount - current entries).
/// </summary>
public sealed record NewPartitionsSpec(string Topic, int TotalCount, IReadOnlyList<int[]>? Assignment = null);

public sealed record CreatePartitionsResult(string Topic, ErrorCode Error, string? Message);

/// <summary>Config changes of one resource: value = set, null = delete. Broker resource names are "" or a broker id.</summary>
public sealed record ConfigResourceChange(
    ConfigResourceType ResourceType, string ResourceName, IReadOnlyDictionary<string, string?> Changes);

public sealed record AlterConfigsResult(ConfigResourceType ResourceType, string ResourceName, ErrorCode Error, string? Message);

/// <summary>Outcome of a broker registration; <see cref="BrokerEpoch"/> is -1 on error.</summary>
public readonly record struct BrokerRegistrationResult(ErrorCode Error, string? Message, long BrokerEpoch);

/// <summary>Outcome of a single controller write.</summary>
public readonly record struct ControllerResult(ErrorCode Error, string? Message)
{
    public static readonly ControllerResult Ok = new(ErrorCode.None, null);
    public bool IsSuccess => Error == ErrorCode.None;
}

/// <summary>A block of producer ids [<see cref="FirstProducerId"/>, +<see cref="Size"/>) or an error.</summary>
public readonly record struct ProducerIdBlock(ErrorCode Error, long FirstProducerId, int Size);

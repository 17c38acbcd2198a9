using Broker.Core.Model;
using Broker.Core.Records;

namespace Broker.Client;

// CONTRACT (lead): the public shapes of Broker.Client. The client helpers may add members; do not rename or remove.

/// <summary>Settings of a <see cref="KafkaClient"/>.</summary>
public sealed record KafkaClientOptions
{
    /// <summary>Bootstrap servers as host:port, comma-separated.</summary>
    public required string BootstrapServers { get; init; }
    public string ClientId { get; init; } = "broker-client";
    /// <summary>Timeout of one request (connect included) before it fails with RequestTimedOut.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>How long operations retry retriable errors (leader changes, coordinator moves) before giving up.</summary>
    public TimeSpan RetryBudget { get; init; } = TimeSpan.FromSeconds(30);
}

/// <summary>A Kafka error answered by a broker (or a client-side failure mapped to one).</summary>
public sealed class KafkaException(ErrorCode error, string message, Exception? inner = null) : Exception(message, inner)
{
    public ErrorCode Error { get; } = error;
}

public sealed record BrokerInfo(int NodeId, string Host, int Port, string? Rack);

public sealed record PartitionInfo(int Partition, ErrorCode Error, int Leader, int LeaderEpoch, int[] Replicas, int[] Isr);

public sealed record TopicInfo(string Name, Guid TopicId, ErrorCode Error, bool IsInternal, IReadOnlyList<PartitionInfo> Partitions);

/// <summary>A Metadata answer: brokers, controller (-1 unknown) and the requested topics.</summary>
public sealed record ClusterInfo(string? ClusterId, int ControllerId, IReadOnlyList<BrokerInfo> Brokers, IReadOnlyList<TopicInfo> Topics);

/// <summary>A record to produce. Timestamp -1 = now.</summary>
public sealed record ProducerRecord(byte[]? Key, byte[]? Value, IReadOnlyList<RecordHeader>? Headers = null, long Timestamp = -1);

/// <summary>Outcome of producing one batch to one partition; BaseOffset is the offset of its first record (-1 on error).</summary>
public sealed record ProduceResult(string Topic, int Partition, ErrorCode Error, string? ErrorMessage, long BaseOffset);

/// <summary>A consumed record (decompressed; control batches are never returned).</summary>
public sealed record ConsumedRecord(string Topic, int Partition, long Offset, long Timestamp, byte[]? Key, byte[]? Value,
    IReadOnlyList<RecordHeader> Headers);

/// <summary>One partition's fetch answer; NextOffset is where the next fetch should start.</summary>
public sealed record FetchResult(string Topic, int Partition, ErrorCode Error, long HighWatermark, long LogStartOffset,
    IReadOnlyList<ConsumedRecord> Records, long NextOffset);

/// <summary>A topic to create; -1 = the cluster's default.</summary>
public sealed record NewTopic(string Name, int Partitions = -1, short ReplicationFactor = -1,
    IReadOnlyDictionary<string, string>? Configs = null);

/// <summary>Per-topic outcome of create/delete/create-partitions.</summary>
public sealed record TopicOperationResult(string Name, ErrorCode Error, string? Message);

/// <summary>Config resource types (Kafka ids).</summary>
public enum ConfigResourceKind : byte
{
    Topic = 2,
    Broker = 4,
}

public sealed record ConfigEntry(string Name, string? Value, bool IsReadOnly, bool IsDefault, bool IsSensitive, string Source);

public sealed record ConfigResourceResult(ConfigResourceKind Kind, string Name, ErrorCode Error, string? Message,
    IReadOnlyList<ConfigEntry> Entries);

/// <summary>IncrementalAlterConfigs operations (Kafka ids).</summary>
public enum ConfigAlterOp : byte
{
    Set = 0,
    Delete = 1,
    Append = 2,
    Subtract = 3,
}

public sealed record ConfigAlteration(string Name, ConfigAlterOp Op, string? Value);

public sealed record GroupListing(string GroupId, string ProtocolType, string State);

public sealed record GroupMemberDescription(string MemberId, string? GroupInstanceId, string ClientId, string ClientHost,
    IReadOnlyList<TopicPartition> Assignment);

public sealed record GroupDescription(string GroupId, ErrorCode Error, string State, string ProtocolType, string Protocol,
    IReadOnlyList<GroupMemberDescription> Members);

public sealed record CommittedOffset(string Topic, int Partition, long Offset, string? Metadata, ErrorCode Error);

public sealed record TopicPartitionOffset(string Topic, int Partition, long Offset, string? Metadata = null);

/// <summary>Settings of a <see cref="GroupConsumer"/> (a member of a consumer group, Kafka's classic protocol).</summary>
public sealed class GroupConsumerOptions
{
    public required string GroupId { get; init; }
    public TimeSpan SessionTimeout { get; init; } = TimeSpan.FromSeconds(10);
    public TimeSpan RebalanceTimeout { get; init; } = TimeSpan.FromSeconds(30);
    public TimeSpan HeartbeatInterval { get; init; } = TimeSpan.FromSeconds(3);
    /// <summary>"earliest" or "latest": where to start a partition without a committed offset.</summary>
    public string AutoOffsetReset { get; init; } = "earliest";
    /// <summary>group.instance.id for static membership; null = dynamic member.</summary>
    public string? GroupInstanceId { get; init; }
}

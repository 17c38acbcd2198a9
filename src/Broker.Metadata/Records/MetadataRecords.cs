using Broker.Metadata.Image;

namespace Broker.Metadata.Records;

/// <summary>
/// One decoded metadata record: the value of one record in a __cluster_metadata batch. Subtypes mirror Kafka's
/// KRaft record types (same numbering, same field names), reduced to what this broker uses; every body ends with
/// a tagged-field section, so fields can be added later without a new record version.
/// </summary>
public abstract record MetadataRecord
{
    public abstract MetadataRecordType Type { get; }
}

/// <summary>A broker (re)registered; <see cref="BrokerEpoch"/> is the offset of this record.</summary>
public sealed record RegisterBrokerRecord(
    int BrokerId, Guid IncarnationId, long BrokerEpoch, BrokerEndpoint[] Endpoints, string? Rack, bool Fenced)
    : MetadataRecord
{
    public override MetadataRecordType Type => MetadataRecordType.RegisterBroker;
}

public sealed record UnregisterBrokerRecord(int BrokerId, long BrokerEpoch) : MetadataRecord
{
    public override MetadataRecordType Type => MetadataRecordType.UnregisterBroker;
}

public sealed record TopicRecord(string Name, Guid TopicId) : MetadataRecord
{
    public override MetadataRecordType Type => MetadataRecordType.Topic;
}

/// <summary>Creates or fully replaces one partition of a topic.</summary>
public sealed record PartitionRecord(
    int PartitionId, Guid TopicId, int[] Replicas, int[] Isr, int Leader, int LeaderEpoch, int PartitionEpoch)
    : MetadataRecord
{
    public override MetadataRecordType Type => MetadataRecordType.Partition;
}

/// <summary>Sets (Value not null) or deletes (Value null) one dynamic config of a topic or broker.</summary>
public sealed record ConfigRecord(ConfigResourceType ResourceType, string ResourceName, string Name, string? Value)
    : MetadataRecord
{
    public override MetadataRecordType Type => MetadataRecordType.Config;
}

/// <summary>
/// Incremental partition change. <see cref="Leader"/> is <see cref="MetadataConstants.NoLeaderChange"/> when the
/// leader is unchanged; <see cref="Isr"/> and <see cref="Replicas"/> are null when unchanged.
/// <see cref="LeaderEpoch"/>: <see cref="MetadataConstants.BumpLeaderEpoch"/> (-1) bumps the epoch by one when the
/// leader changes (controller-driven changes); a value &gt;= 0 sets it exactly (a partition's Raft term, reported by
/// its leader). Encoded as tagged field 0, so records written before it existed read as -1.
/// </summary>
public sealed record PartitionChangeRecord(int PartitionId, Guid TopicId, int Leader, int[]? Isr, int[]? Replicas,
    int LeaderEpoch = MetadataConstants.BumpLeaderEpoch)
    : MetadataRecord
{
    public override MetadataRecordType Type => MetadataRecordType.PartitionChange;
}

public sealed record FenceBrokerRecord(int Id, long Epoch) : MetadataRecord
{
    public override MetadataRecordType Type => MetadataRecordType.FenceBroker;
}

public sealed record UnfenceBrokerRecord(int Id, long Epoch) : MetadataRecord
{
    public override MetadataRecordType Type => MetadataRecordType.UnfenceBroker;
}

public sealed record RemoveTopicRecord(Guid TopicId) : MetadataRecord
{
    public override MetadataRecordType Type => MetadataRecordType.RemoveTopic;
}

/// <summary>Finalizes a feature at a level; level 0 removes the feature.</summary>
public sealed record FeatureLevelRecord(string Name, short FeatureLevel) : MetadataRecord
{
    public override MetadataRecordType Type => MetadataRecordType.FeatureLevel;
}

/// <summary>A block of producer ids was handed out: ids below <see cref="NextProducerId"/> are taken.</summary>
public sealed record ProducerIdsRecord(int BrokerId, long BrokerEpoch, long NextProducerId) : MetadataRecord
{
    public override MetadataRecordType Type => MetadataRecordType.ProducerIds;
}

/// <summary>
/// Registration state change. <see cref="Fenced"/>: 1 fence, -1 unfence, 0 unchanged.
/// <see cref="InControlledShutdown"/>: 1 entering controlled shutdown, 0 unchanged.
/// </summary>
public sealed record BrokerRegistrationChangeRecord(int BrokerId, long BrokerEpoch, sbyte Fenced, sbyte InControlledShutdown)
    : MetadataRecord
{
    public override MetadataRecordType Type => MetadataRecordType.BrokerRegistrationChange;
}

/// <summary>
/// A record this node cannot interpret (a type it does not know, or a newer version of a known type).
/// Replay logs a warning and skips it, so newer nodes may write records older nodes ignore.
/// </summary>
public sealed record UnknownMetadataRecord(int TypeId, int Version) : MetadataRecord
{
    public override MetadataRecordType Type => (MetadataRecordType)(short)-1;
}

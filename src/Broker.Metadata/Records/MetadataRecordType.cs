namespace Broker.Metadata.Records;

/// <summary>Metadata record types, numbered as Kafka's KRaft metadata records (the frame's api key).</summary>
public enum MetadataRecordType : short
{
    RegisterBroker = 0,
    UnregisterBroker = 1,
    Topic = 2,
    Partition = 3,
    Config = 4,
    PartitionChange = 5,
    FenceBroker = 7,
    UnfenceBroker = 8,
    RemoveTopic = 9,
    FeatureLevel = 12,
    ProducerIds = 15,
    BrokerRegistrationChange = 17,
}

/// <summary>Resource types of ConfigRecord (Kafka's ConfigResource.Type ids).</summary>
public enum ConfigResourceType : sbyte
{
    Topic = 2,
    Broker = 4,
}

/// <summary>Well-known names and sentinels used by metadata records.</summary>
public static class MetadataConstants
{
    /// <summary>The feature whose level gates the metadata record versions in use.</summary>
    public const string MetadataVersionFeature = "metadata.version";
    /// <summary>Leader value in a PartitionChangeRecord meaning "leader unchanged".</summary>
    public const int NoLeaderChange = -2;
    /// <summary>LeaderEpoch value in a PartitionChangeRecord meaning "bump by one when the leader changes".</summary>
    public const int BumpLeaderEpoch = -1;
    /// <summary>Leader value meaning "no leader" (offline partition).</summary>
    public const int NoLeader = -1;
    /// <summary>The metadata log's partition, like Kafka's __cluster_metadata-0.</summary>
    public const string MetadataTopic = "__cluster_metadata";
}

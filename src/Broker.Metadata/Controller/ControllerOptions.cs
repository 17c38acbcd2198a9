namespace Broker.Metadata.Controller;

/// <summary>Settings of the active controller and of the local metadata node (from server.properties).</summary>
public sealed record ControllerOptions
{
    /// <summary>node.id of this process (broker and controller).</summary>
    public int NodeId { get; init; }
    /// <summary>Cluster id to use when formatting a new metadata dir; null = generate. Must match an existing meta.properties.</summary>
    public string? ClusterId { get; init; }
    /// <summary>num.partitions: used when a CreateTopics request asks for -1.</summary>
    public int NumPartitions { get; init; } = 1;
    /// <summary>default.replication.factor: used when a CreateTopics request asks for -1.</summary>
    public short DefaultReplicationFactor { get; init; } = 1;
    /// <summary>delete.topic.enable.</summary>
    public bool DeleteTopicEnable { get; init; } = true;
    /// <summary>Upper bound on partitions of one topic (protects the controller from absurd requests).</summary>
    public int MaxPartitionsPerTopic { get; init; } = 100_000;
    /// <summary>How long a controller write waits for the metadata log to commit.</summary>
    public TimeSpan CommitTimeout { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>Level written for metadata.version at bootstrap (19 corresponds to Kafka 3.7-IV4).</summary>
    public short MetadataVersion { get; init; } = 19;
    /// <summary>
    /// Unfence a broker as soon as it registers. True for a single node; the cluster issue turns this off and
    /// unfences from heartbeats (<see cref="ClusterController.UnfenceBrokerAsync"/>) once the broker caught up.
    /// </summary>
    public bool UnfenceOnRegistration { get; init; } = true;
    /// <summary>broker.session.timeout.ms: a broker without a heartbeat for this long is fenced (<see cref="BrokerHeartbeatManager"/>).</summary>
    public TimeSpan BrokerSessionTimeout { get; init; } = TimeSpan.FromMilliseconds(9000);
}

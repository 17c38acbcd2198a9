using Broker.Config;

namespace Broker.Server.Admin;

/// <summary>
/// The broker settings the metadata and admin handlers read (a slice of server.properties). The partition and
/// replication defaults only matter for topics created by Metadata requests (auto-creation); -1 leaves the choice
/// to the controller, which applies its own num.partitions / default.replication.factor.
/// </summary>
public sealed record AdminOptions
{
    /// <summary>node.id of this broker.</summary>
    public int NodeId { get; init; }

    /// <summary>auto.create.topics.enable.</summary>
    public bool AutoCreateTopicsEnable { get; init; } = true;

    /// <summary>num.partitions for auto-created topics; -1 = the controller's default.</summary>
    public int DefaultNumPartitions { get; init; } = -1;

    /// <summary>default.replication.factor for auto-created topics; -1 = the controller's default.</summary>
    public short DefaultReplicationFactor { get; init; } = -1;

    public static AdminOptions FromConfig(BrokerConfig config) => new()
    {
        NodeId = config.NodeId,
        AutoCreateTopicsEnable = config.AutoCreateTopicsEnable,
        DefaultNumPartitions = config.NumPartitions,
        DefaultReplicationFactor = config.DefaultReplicationFactor,
    };
}

namespace Broker.Http.Admin;

// JSON bodies of the Admin API, Redpanda's shapes (keys snake_case through AdminJsonContext's naming policy).
// Optional members are null and then left out of the output.

/// <summary>Every error: <c>{"message": "...", "code": &lt;HTTP status&gt;}</c>.</summary>
public sealed record ErrorBody(string Message, int Code);

/// <summary>GET /v1/status/ready: "ready" or "booting".</summary>
public sealed record ReadyStatus(string Status);

/// <summary>GET /v1/cluster/uuid.</summary>
public sealed record ClusterUuidBody(string ClusterUuid);

/// <summary>PUT /v1/cluster_config answer.</summary>
public sealed record ConfigVersionBody(long ConfigVersion);

/// <summary>GET /v1/cluster/health_overview. Every list is always present (empty when nothing applies).</summary>
public sealed class HealthOverview
{
    public bool IsHealthy { get; init; }
    public required List<string> UnhealthyReasons { get; init; }
    public int ControllerId { get; init; }
    public required List<int> AllNodes { get; init; }
    public required List<int> NodesDown { get; init; }
    public List<int> NodesInRecoveryMode { get; init; } = [];
    public required List<string> LeaderlessPartitions { get; init; }
    public int LeaderlessCount { get; init; }
    public required List<string> UnderReplicatedPartitions { get; init; }
    public int UnderReplicatedCount { get; init; }
    public long BytesInCloudStorage { get; init; } = -1;
}

/// <summary>Maintenance (drain) state of a broker: draining while in controlled shutdown.</summary>
public sealed record MaintenanceStatus(bool Draining, bool Finished, bool Errors);

/// <summary>Free and total bytes of a data directory's file system.</summary>
public sealed record DiskSpaceInfo(string Path, long Free, long Total);

/// <summary>An element of GET /v1/brokers, and (without is_alive, version, disk_space) GET /v1/brokers/{id}.</summary>
public sealed class BrokerInfo
{
    public int NodeId { get; init; }
    public int NumCores { get; init; }
    public string? Rack { get; init; }
    public string MembershipStatus { get; init; } = "active";
    public bool? IsAlive { get; init; }
    public string? Version { get; init; }
    public string? InternalRpcAddress { get; init; }
    public int InternalRpcPort { get; init; }
    public bool? RecoveryModeEnabled { get; init; }
    public required MaintenanceStatus MaintenanceStatus { get; init; }
    public List<DiskSpaceInfo>? DiskSpace { get; init; }
}

/// <summary>A replica of a partition (Redpanda also reports the shard, always 0 here).</summary>
public sealed record ReplicaInfo(int NodeId, int Core);

/// <summary>GET /v1/partitions/{ns}/{topic}/{p} (status and raft_group_id) and the elements of /v1/cluster/partitions.</summary>
public sealed class PartitionInfo
{
    public required string Ns { get; init; }
    public required string Topic { get; init; }
    public int PartitionId { get; init; }
    public string? Status { get; init; }
    public int LeaderId { get; init; }
    /// <summary>Only for the controller partition (0); data partitions have no numeric Raft group id here.</summary>
    public long? RaftGroupId { get; init; }
    public required List<ReplicaInfo> Replicas { get; init; }
    public bool Disabled { get; init; }
}

/// <summary>An HTTP listener address in node_config.</summary>
public sealed record AddressInfo(string Address, int Port);

/// <summary>A Kafka listener in node_config.</summary>
public sealed record NamedAddressInfo(string Name, string Address, int Port);

/// <summary>A quorum voter in node_config (Redpanda's seed_servers shape plus the node id).</summary>
public sealed record SeedServerInfo(int NodeId, AddressInfo Host);

/// <summary>GET /v1/node_config: this node's static (node-level) configuration.</summary>
public sealed record NodeConfigInfo
{
    public int NodeId { get; init; }
    public required string DataDirectory { get; init; }
    public string? MetadataDirectory { get; init; }
    public required List<string> ProcessRoles { get; init; }
    public string? Rack { get; init; }
    public List<AddressInfo> Admin { get; init; } = [];
    public required List<NamedAddressInfo> KafkaApi { get; init; }
    public required List<NamedAddressInfo> AdvertisedKafkaApi { get; init; }
    /// <summary>The controller listener (Raft and broker lifecycle), when this node is a voter.</summary>
    public AddressInfo? RpcServer { get; init; }
    public required List<SeedServerInfo> SeedServers { get; init; }
    public required List<AddressInfo> PandaproxyApi { get; init; }
}

using System.Collections.Immutable;
using Broker.Core.Model;

namespace Broker.Http.Admin;

/// <summary>
/// What the Admin API reads from and asks of the node it runs in. Implemented by the host over the node's
/// in-memory state (metadata image, Raft groups, partition manager): every read is local and fast, never a remote
/// call, so the API answers while peers are down. Tests use an in-memory fake.
/// </summary>
public interface IAdminBackend
{
    /// <summary>This node's id.</summary>
    int NodeId { get; }

    /// <summary>True once the node serves: a broker is unfenced; a controller-only node sees a quorum leader.</summary>
    bool IsReady { get; }

    /// <summary>"v0.1.0" or "v0.1.0 - abcdef123456" (the binary's version, Redpanda style).</summary>
    string Version { get; }

    /// <summary>The cluster as this node knows it now.</summary>
    ClusterSnapshot Snapshot();

    /// <summary>This node's static configuration (the Admin API fills in its own bound addresses).</summary>
    NodeConfigInfo NodeConfig();

    /// <summary>Free and total bytes of the data directory's file system; null when unknown.</summary>
    DiskSpaceInfo? LocalDiskSpace();

    /// <summary>False while the cluster-wide dynamic configuration is not available (GET/PUT answer 503).</summary>
    bool ClusterConfigAvailable { get; }

    /// <summary>Cluster-level broker configuration (name → value, null for unset nullable values).</summary>
    IReadOnlyDictionary<string, string?> ClusterConfig(bool includeDefaults);

    /// <summary>Sets and removes cluster-wide configs in one metadata-log write; nothing is written when any key is refused.</summary>
    Task<ClusterConfigWrite> AlterClusterConfigAsync(IReadOnlyDictionary<string, string> upsert, IReadOnlyList<string> remove,
        bool dryRun, CancellationToken cancellationToken);

    /// <summary>
    /// Hands leadership of <paramref name="ns"/>/<paramref name="topic"/>/<paramref name="partition"/> ("kafka" topics, or
    /// redpanda/controller/0 for the metadata quorum) to <paramref name="target"/> (null = any other in-sync replica)
    /// when this node leads it; otherwise says who does.
    /// </summary>
    LeadershipTransfer TransferLeadership(string ns, string topic, int partition, int? target);
}

/// <summary>One partition of a topic in a <see cref="ClusterSnapshot"/> (replicas and ISR as the metadata has them).</summary>
public readonly record struct PartitionSnapshot(int PartitionId, int Leader, ImmutableArray<int> Replicas, ImmutableArray<int> Isr);

/// <summary>A topic in a <see cref="ClusterSnapshot"/>: partitions indexed by partition id.</summary>
public sealed record TopicSnapshot(string Name, IReadOnlyList<PartitionSnapshot> Partitions);

/// <summary>A registered broker: fenced (session expired, or not yet caught up) or not; its inter-broker address.</summary>
public sealed record BrokerSnapshot(int NodeId, bool Fenced, bool InControlledShutdown, string? Rack, string RpcHost, int RpcPort);

/// <summary>
/// The cluster as one node knows it at one moment: metadata quorum (voters, leader = active controller, voters the
/// leader knows to be unreachable), registered brokers and topics. Built per request from in-memory state.
/// </summary>
public sealed class ClusterSnapshot
{
    public required string ClusterId { get; init; }
    /// <summary>The metadata quorum's leader as this node knows it; -1 when there is none.</summary>
    public required int ControllerId { get; init; }
    /// <summary>Voters of the metadata quorum, ascending.</summary>
    public required IReadOnlyList<int> Voters { get; init; }
    /// <summary>Voters this node knows to be unreachable (only the quorum leader can tell; empty elsewhere).</summary>
    public IReadOnlyList<int> UnreachableVoters { get; init; } = [];
    /// <summary>Registered brokers, ascending by id.</summary>
    public required IReadOnlyList<BrokerSnapshot> Brokers { get; init; }
    /// <summary>Kafka topics (namespace "kafka"), ascending by name.</summary>
    public required IReadOnlyList<TopicSnapshot> Topics { get; init; }

    public BrokerSnapshot? FindBroker(int nodeId)
    {
        foreach (var b in Brokers)
            if (b.NodeId == nodeId) return b;
        return null;
    }

    public TopicSnapshot? FindTopic(string name)
    {
        foreach (var t in Topics)
            if (string.Equals(t.Name, name, StringComparison.Ordinal)) return t;
        return null;
    }
}

/// <summary>Outcome of <see cref="IAdminBackend.AlterClusterConfigAsync"/>; ConfigVersion is the metadata offset after the write.</summary>
public readonly record struct ClusterConfigWrite(ErrorCode Error, string? Message, long ConfigVersion);

/// <summary>What a leadership transfer request led to.</summary>
public enum TransferStatus
{
    /// <summary>This node leads and started handing leadership over (200).</summary>
    Started,
    /// <summary>The target already leads (200, nothing to do).</summary>
    AlreadyLeader,
    /// <summary>No such namespace, topic or partition (404).</summary>
    UnknownPartition,
    /// <summary>The target is not an in-sync replica, or not a replica at all (400).</summary>
    InvalidTarget,
    /// <summary>Another node leads: redirect to its Admin API (307).</summary>
    NotLeader,
    /// <summary>No leader known right now, or the transfer was refused (503, retry).</summary>
    Unavailable,
}

/// <summary>Outcome of <see cref="IAdminBackend.TransferLeadership"/>; for <see cref="TransferStatus.NotLeader"/>,
/// LeaderId and LeaderHost (the host its Admin API is assumed to listen on) name the leader.</summary>
public readonly record struct LeadershipTransfer(TransferStatus Status, string Message, int LeaderId = -1, string? LeaderHost = null);

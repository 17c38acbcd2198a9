namespace Broker.Http.Admin;

/// <summary>
/// Pure functions from a <see cref="ClusterSnapshot"/> to the Admin API's bodies: health overview, broker list,
/// partition views. Semantics (docs/admin-api.md): a node is down when it is a registered broker that is fenced or
/// a voter the quorum leader knows to be unreachable; a partition is leaderless when its leader is -1, unregistered
/// or down; under-replicated when its ISR is smaller than its replica set.
/// </summary>
public static class AdminViews
{
    public const string KafkaNamespace = "kafka";
    public const string RedpandaNamespace = "redpanda";
    public const string ControllerTopic = "controller";

    /// <summary>Sorted ids of every registered broker and every voter.</summary>
    public static List<int> AllNodes(ClusterSnapshot s)
    {
        var set = new SortedSet<int>();
        foreach (var b in s.Brokers) set.Add(b.NodeId);
        foreach (int v in s.Voters) set.Add(v);
        return [.. set];
    }

    /// <summary>Sorted ids of the nodes known to be down (fenced brokers, unreachable voters).</summary>
    public static List<int> NodesDown(ClusterSnapshot s)
    {
        var set = new SortedSet<int>();
        foreach (var b in s.Brokers)
            if (b.Fenced) set.Add(b.NodeId);
        foreach (int v in s.UnreachableVoters) set.Add(v);
        return [.. set];
    }

    /// <summary>Builds health_overview; the partition lists hold at most <paramref name="maxListed"/> entries
    /// (the counts are complete).</summary>
    public static HealthOverview Health(ClusterSnapshot s, int maxListed)
    {
        var all = AllNodes(s);
        var down = NodesDown(s);
        var leaderless = new List<string>();
        var underReplicated = new List<string>();
        int leaderlessCount = 0, underReplicatedCount = 0;
        foreach (var topic in s.Topics)
        {
            foreach (var p in topic.Partitions)
            {
                if (!HasLiveLeader(s, down, p.Leader))
                {
                    leaderlessCount++;
                    if (leaderless.Count < maxListed) leaderless.Add(PartitionName(topic.Name, p.PartitionId));
                }
                if (p.Isr.Length < p.Replicas.Length)
                {
                    underReplicatedCount++;
                    if (underReplicated.Count < maxListed) underReplicated.Add(PartitionName(topic.Name, p.PartitionId));
                }
            }
        }
        var reasons = new List<string>();
        if (down.Count > 0) reasons.Add("nodes_down");
        if (leaderlessCount > 0) reasons.Add("leaderless_partitions");
        if (underReplicatedCount > 0) reasons.Add("under_replicated_partitions");
        if (s.ControllerId < 0) reasons.Add("no_elected_controller");
        return new HealthOverview
        {
            IsHealthy = reasons.Count == 0,
            UnhealthyReasons = reasons,
            ControllerId = s.ControllerId < 0 ? -1 : s.ControllerId,
            AllNodes = all,
            NodesDown = down,
            LeaderlessPartitions = leaderless,
            LeaderlessCount = leaderlessCount,
            UnderReplicatedPartitions = underReplicated,
            UnderReplicatedCount = underReplicatedCount,
        };
    }

    private static bool HasLiveLeader(ClusterSnapshot s, List<int> down, int leader) =>
        leader >= 0 && s.FindBroker(leader) is not null && down.BinarySearch(leader) < 0;

    private static string PartitionName(string topic, int partition) => $"{KafkaNamespace}/{topic}/{partition}";

    /// <summary>The element of GET /v1/brokers for <paramref name="b"/>; the local node adds its cores and disk.</summary>
    public static BrokerInfo Broker(BrokerSnapshot b, IAdminBackend backend, bool detail, List<int> down)
    {
        bool local = b.NodeId == backend.NodeId;
        List<DiskSpaceInfo>? disk = null;
        if (local && !detail && backend.LocalDiskSpace() is { } d) disk = [d];
        return new BrokerInfo
        {
            NodeId = b.NodeId,
            // Registrations carry no core count: the local node reports its own, other nodes 0 (unknown).
            NumCores = local ? Environment.ProcessorCount : 0,
            Rack = b.Rack,
            MembershipStatus = "active",
            IsAlive = detail ? null : down.BinarySearch(b.NodeId) < 0,
            Version = detail ? null : backend.Version,
            InternalRpcAddress = b.RpcHost,
            InternalRpcPort = b.RpcPort,
            RecoveryModeEnabled = detail ? null : false,
            MaintenanceStatus = new MaintenanceStatus(b.InControlledShutdown, false, false),
            DiskSpace = disk,
        };
    }

    /// <summary>A kafka partition as GET /v1/partitions (detail: with status) and /v1/cluster/partitions show it.</summary>
    public static PartitionInfo Partition(string topic, PartitionSnapshot p, bool detail) => new()
    {
        Ns = KafkaNamespace,
        Topic = topic,
        PartitionId = p.PartitionId,
        Status = detail ? "done" : null,
        LeaderId = p.Leader < 0 ? -1 : p.Leader,
        Replicas = Replicas(p.Replicas),
    };

    /// <summary>redpanda/controller/0: the metadata quorum; leader = the active controller, replicas = the voters.</summary>
    public static PartitionInfo ControllerPartition(ClusterSnapshot s) => new()
    {
        Ns = RedpandaNamespace,
        Topic = ControllerTopic,
        PartitionId = 0,
        Status = "done",
        LeaderId = s.ControllerId < 0 ? -1 : s.ControllerId,
        RaftGroupId = 0,
        Replicas = Replicas(s.Voters),
    };

    private static List<ReplicaInfo> Replicas(IEnumerable<int> ids)
    {
        var list = new List<ReplicaInfo>();
        foreach (int id in ids) list.Add(new ReplicaInfo(id, 0));
        return list;
    }
}

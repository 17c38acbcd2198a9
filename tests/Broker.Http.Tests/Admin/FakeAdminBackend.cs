using System.Collections.Immutable;
using Broker.Core.Model;
using Broker.Http.Admin;

namespace Broker.Http.Tests.Admin;

/// <summary>An in-memory <see cref="IAdminBackend"/> whose state each test sets; records what the server asked of it.</summary>
internal sealed class FakeAdminBackend : IAdminBackend
{
    public int NodeId { get; set; } = 1;
    public bool IsReady { get; set; } = true;
    public string Version { get; set; } = "v9.9.9 - test";
    public ClusterSnapshot Cluster { get; set; } = ThreeNodes();
    public bool ClusterConfigAvailable { get; set; } = true;
    public Dictionary<string, string?> Defaults { get; } = new(StringComparer.Ordinal)
    {
        ["log.retention.ms"] = "604800000",
        ["auto.create.topics.enable"] = "true",
        ["log.cleaner.min.cleanable.ratio"] = "0.5",
        ["compression.type"] = "producer",
        ["log.cleanup.policy"] = "delete,compact",
        ["log.flush.interval.ms"] = null,
    };
    public Dictionary<string, string?> Set { get; } = new(StringComparer.Ordinal) { ["log.retention.ms"] = "3600000" };
    public ClusterConfigWrite NextWrite { get; set; } = new(ErrorCode.None, null, 42);
    public (IReadOnlyDictionary<string, string> Upsert, IReadOnlyList<string> Remove, bool DryRun)? LastWrite { get; private set; }
    public LeadershipTransfer NextTransfer { get; set; } = new(TransferStatus.Started, "moving");
    public (string Ns, string Topic, int Partition, int? Target)? LastTransfer { get; private set; }

    public ClusterSnapshot Snapshot() => Cluster;

    public NodeConfigInfo NodeConfig() => new()
    {
        NodeId = NodeId,
        DataDirectory = "/data/kafka",
        ProcessRoles = ["broker", "controller"],
        KafkaApi = [new NamedAddressInfo("PLAINTEXT", "127.0.0.1", 9092)],
        AdvertisedKafkaApi = [new NamedAddressInfo("PLAINTEXT", "127.0.0.1", 9092)],
        RpcServer = new AddressInfo("127.0.0.1", 9093),
        SeedServers = [new SeedServerInfo(1, new AddressInfo("127.0.0.1", 9093))],
        PandaproxyApi = [],
    };

    public DiskSpaceInfo? LocalDiskSpace() => new("/data/kafka", 1000, 4000);

    public IReadOnlyDictionary<string, string?> ClusterConfig(bool includeDefaults)
    {
        if (!includeDefaults) return new Dictionary<string, string?>(Set);
        var all = new Dictionary<string, string?>(Defaults);
        foreach (var (k, v) in Set) all[k] = v;
        return all;
    }

    public Task<ClusterConfigWrite> AlterClusterConfigAsync(IReadOnlyDictionary<string, string> upsert, IReadOnlyList<string> remove,
        bool dryRun, CancellationToken cancellationToken)
    {
        LastWrite = (upsert, remove, dryRun);
        return Task.FromResult(NextWrite);
    }

    public LeadershipTransfer TransferLeadership(string ns, string topic, int partition, int? target)
    {
        LastTransfer = (ns, topic, partition, target);
        return NextTransfer;
    }

    /// <summary>Nodes 1-3, all voters and brokers, controller 2; topic "orders" with 2 healthy partitions.</summary>
    public static ClusterSnapshot ThreeNodes(Func<BrokerSnapshot, BrokerSnapshot>? broker = null, PartitionSnapshot[]? partitions = null,
        int controller = 2, IReadOnlyList<int>? unreachable = null)
    {
        var brokers = new List<BrokerSnapshot>();
        for (int id = 1; id <= 3; id++)
        {
            var b = new BrokerSnapshot(id, false, false, null, $"127.0.0.{id}", 9092);
            brokers.Add(broker is null ? b : broker(b));
        }
        return new ClusterSnapshot
        {
            ClusterId = "test-cluster-id",
            ControllerId = controller,
            Voters = [1, 2, 3],
            UnreachableVoters = unreachable ?? [],
            Brokers = brokers,
            Topics = [new TopicSnapshot("orders", partitions ?? [P(0, 1, [1, 2, 3], [1, 2, 3]), P(1, 2, [2, 3, 1], [2, 3, 1])])],
        };
    }

    public static PartitionSnapshot P(int id, int leader, int[] replicas, int[] isr) =>
        new(id, leader, [.. replicas], ImmutableArray.Create(isr));
}

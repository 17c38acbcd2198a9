using Broker.Config;
using Broker.Core.Model;
using Broker.Host.Cli;
using Broker.Http.Admin;
using Broker.Metadata.Image;

namespace Broker.Host.Http;

/// <summary>
/// The Admin API's view of a running <see cref="BrokerNode"/>: snapshots of the metadata image and the metadata
/// quorum's Raft state, node configuration, the cluster-wide dynamic configuration (BrokerNode.DynamicConfigAdmin)
/// and leadership transfers (NodeAdminBackend.Leadership.cs). Reads in-memory state only, so every answer is
/// immediate even while peers are down.
/// </summary>
internal sealed partial class NodeAdminBackend : IAdminBackend
{
    private readonly BrokerNode _node;
    private readonly BrokerConfig _config;

    public NodeAdminBackend(BrokerNode node)
    {
        _node = node;
        _config = node.Config;
        Version = FormatVersion(BrokerVersion.Current);
    }

    public int NodeId => _config.NodeId;
    public bool IsReady => _node.IsServing;
    public string Version { get; }

    /// <summary>Bound HTTP proxy addresses (http://host:port), set by the host once the proxy started.</summary>
    public IReadOnlyList<string> ProxyUrls { get; set; } = [];

    /// <summary>"0.1.0+abcdef123456" → "v0.1.0 - abcdef123456" (Redpanda's "v24.2.7 - sha" shape).</summary>
    internal static string FormatVersion(string version)
    {
        int plus = version.IndexOf('+');
        return plus < 0 ? $"v{version}" : $"v{version[..plus]} - {version[(plus + 1)..]}";
    }

    public ClusterSnapshot Snapshot()
    {
        var image = _node.CurrentImage;
        var voters = new List<int>(_node.VoterIds);
        voters.Sort();
        if (image is null)
            return new ClusterSnapshot { ClusterId = "", ControllerId = _node.MetadataLeaderId, Voters = voters, Brokers = [], Topics = [] };

        var brokerIds = new List<int>(image.Brokers.Keys);
        brokerIds.Sort();
        var brokers = new List<BrokerSnapshot>(brokerIds.Count);
        foreach (int id in brokerIds)
        {
            var b = image.Brokers[id];
            var (host, port) = RpcAddress(b);
            brokers.Add(new BrokerSnapshot(id, b.Fenced, b.InControlledShutdown, b.Rack, host, port));
        }
        var names = new List<string>(image.TopicsByName.Keys);
        names.Sort(StringComparer.Ordinal);
        var topics = new List<TopicSnapshot>(names.Count);
        foreach (string name in names)
        {
            var topic = image.TopicsByName[name];
            var partitions = new PartitionSnapshot[topic.Partitions.Length];
            for (int i = 0; i < partitions.Length; i++)
            {
                var p = topic.Partitions[i];
                partitions[i] = new PartitionSnapshot(p.PartitionId, p.Leader, p.Replicas, p.Isr);
            }
            topics.Add(new TopicSnapshot(name, partitions));
        }
        return new ClusterSnapshot
        {
            ClusterId = image.ClusterId,
            ControllerId = _node.MetadataLeaderId,
            Voters = voters,
            UnreachableVoters = _node.UnreachableVoters(),
            Brokers = brokers,
            Topics = topics,
        };
    }

    /// <summary>The address other nodes reach a broker on: its inter-broker listener, else its first endpoint.</summary>
    private (string Host, int Port) RpcAddress(BrokerRegistration b)
    {
        var endpoint = (_config.InterBrokerListenerName is { } name ? b.FindEndpoint(name) : null)
                       ?? (b.Endpoints.Count > 0 ? b.Endpoints[0] : null);
        if (endpoint is not null) return (endpoint.Host, endpoint.Port);
        return _node.VoterAddress(b.BrokerId) ?? ("", 0);
    }

    public NodeConfigInfo NodeConfig()
    {
        var roles = new List<string>(2);
        if (_config.IsBroker) roles.Add("broker");
        if (_config.IsController) roles.Add("controller");
        var seeds = new List<SeedServerInfo>(_config.QuorumVoters.Count);
        foreach (var v in _config.QuorumVoters) seeds.Add(new SeedServerInfo(v.Id, new AddressInfo(v.Host, v.Port)));
        var proxy = new List<AddressInfo>();
        foreach (string url in ProxyUrls)
            if (Uri.TryCreate(url, UriKind.Absolute, out var uri)) proxy.Add(new AddressInfo(uri.Host.Trim('[', ']'), uri.Port));
        return new NodeConfigInfo
        {
            NodeId = _config.NodeId,
            DataDirectory = Path.GetFullPath(_config.LogDirs[0]),
            MetadataDirectory = Path.GetFullPath(_config.MetadataLogDir),
            ProcessRoles = roles,
            KafkaApi = Named(_config.BrokerListeners),
            AdvertisedKafkaApi = Named(_config.AdvertisedListeners),
            RpcServer = _config.ControllerListeners.Count > 0
                ? new AddressInfo(_config.ControllerListeners[0].Host, _config.ControllerListeners[0].Port) : null,
            SeedServers = seeds,
            PandaproxyApi = proxy,
        };
    }

    private static List<NamedAddressInfo> Named(IReadOnlyList<ListenerEndpoint> listeners)
    {
        var list = new List<NamedAddressInfo>(listeners.Count);
        foreach (var l in listeners) list.Add(new NamedAddressInfo(l.Name, l.Host, l.Port));
        return list;
    }

    public DiskSpaceInfo? LocalDiskSpace()
    {
        try
        {
            string path = Path.GetFullPath(_config.LogDirs[0]);
            var drive = new DriveInfo(path);
            return new DiskSpaceInfo(path, drive.AvailableFreeSpace, drive.TotalSize);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return null;
        }
    }

    public bool ClusterConfigAvailable => _node.DynamicConfigAdmin is not null;

    public IReadOnlyDictionary<string, string?> ClusterConfig(bool includeDefaults) =>
        (_node.DynamicConfigAdmin ?? throw new InvalidOperationException("cluster configuration is not available")).ClusterConfig(includeDefaults);

    public async Task<ClusterConfigWrite> AlterClusterConfigAsync(IReadOnlyDictionary<string, string> upsert, IReadOnlyList<string> remove,
        bool dryRun, CancellationToken cancellationToken)
    {
        var admin = _node.DynamicConfigAdmin;
        if (admin is null) return new ClusterConfigWrite(ErrorCode.NotController, "cluster configuration is not available on this node yet", -1);
        var change = await admin.AlterClusterConfigAsync(upsert, remove, dryRun, cancellationToken).ConfigureAwait(false);
        return new ClusterConfigWrite(change.Error, change.Message, change.ConfigVersion);
    }
}

using System.Net;
using Broker.Config;
using Broker.Consensus;
using Broker.Core.Diagnostics;
using Broker.Core.Model;
using Broker.Metadata;
using Broker.Metadata.Controller;
using Broker.Metadata.Image;
using Broker.Network;
using Broker.Server.Admin;
using Broker.Server.Handlers;
using Broker.Server.Partitions;
using Broker.Server.Pipeline;
using Broker.Storage;

namespace Broker.Host;

/// <summary>
/// The composition root of one node: storage, the metadata log and controller, the local partitions, the Kafka
/// handlers and the listeners, started in dependency order and stopped in reverse.
/// Today a node runs the combined roles with a one-voter quorum; the cluster issue adds Raft behind the same
/// <see cref="IReplicatedLog"/> seam.
/// </summary>
public sealed class BrokerNode : IAsyncDisposable
{
    public static readonly TopicPartition MetadataPartition = new("__cluster_metadata", 0);
    private static readonly Logger Logger = Log.For("node");

    private readonly List<IDisposable> _locks = new();
    private readonly List<KafkaListener> _listeners = new();
    private readonly CancellationTokenSource _stopping = new();
    private LogManager? _logs;
    private LogManager? _metadataLogs;
    private MetadataNode? _metadata;
    private PartitionManager? _partitions;
    private Task _retention = Task.CompletedTask;

    private BrokerNode(BrokerConfig config) => Config = config;

    public BrokerConfig Config { get; }
    public MetadataNode Metadata => _metadata!;
    public PartitionManager Partitions => _partitions!;
    public IReadOnlyList<KafkaListener> Listeners => _listeners;

    public static async Task<BrokerNode> StartAsync(BrokerConfig config, CancellationToken cancellationToken)
    {
        CheckSupportedTopology(config);
        var node = new BrokerNode(config);
        try
        {
            await node.StartCoreAsync(cancellationToken).ConfigureAwait(false);
            return node;
        }
        catch
        {
            await node.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private async Task StartCoreAsync(CancellationToken cancellationToken)
    {
        var clock = SystemClock.Instance;
        string dataDir = Config.LogDirs[0];
        if (Config.LogDirs.Count > 1)
            Logger.Warn($"log.dirs lists {Config.LogDirs.Count} directories; this version stores partitions in the first one ({dataDir})");
        foreach (var dir in new[] { dataDir, Config.MetadataLogDir }.Distinct())
        {
            Directory.CreateDirectory(dir);
            _locks.Add(DataDirectoryLock.Acquire(dir));
        }

        var topicLogOptions = new TopicLogOptions(Config);
        _logs = new LogManager(dataDir, clock);
        bool sharedMetadataDir = Path.GetFullPath(Config.MetadataLogDir) == Path.GetFullPath(dataDir);
        _metadataLogs = sharedMetadataDir ? _logs : new LogManager(Config.MetadataLogDir, clock);
        var recovered = _logs.LoadAll(tp => tp.Topic == MetadataPartition.Topic ? TopicLogOptions.MetadataLog : topicLogOptions.Defaults);
        if (!sharedMetadataDir) _metadataLogs.LoadAll(_ => TopicLogOptions.MetadataLog);
        Logger.Info($"opened {recovered.Count} partition logs in {dataDir}");

        var metadataLog = new LocalReplicatedLog(_metadataLogs.GetOrCreate(MetadataPartition, TopicLogOptions.MetadataLog), leaderEpoch: 1);
        var controllerOptions = new ControllerOptions
        {
            NodeId = Config.NodeId,
            NumPartitions = Config.NumPartitions,
            DefaultReplicationFactor = Config.DefaultReplicationFactor,
            DeleteTopicEnable = Config.DeleteTopicEnable,
        };
        _metadata = new MetadataNode(controllerOptions, Config.MetadataLogDir, metadataLog, AdvertisedEndpoints(Config),
            rack: null, validateTopicConfig: TopicConfigCatalog.Validate, clock: clock);

        var brokerSettings = TopicSettings.FromBroker(Config.LogMessageTimestampType, Config.MinInsyncReplicas);
        _partitions = new PartitionManager(_logs, Config.NodeId, topicLogOptions.For,
            topic => TopicSettings.Resolve(topic.Configs, brokerSettings));
        _metadata.ImageChanged += _partitions.ApplyImage;
        await _metadata.StartAsync(cancellationToken).ConfigureAwait(false);
        _partitions.ApplyImage(_metadata.Current);
        int stray = _partitions.MoveStrayLogsAside();
        if (stray > 0) Logger.Warn($"moved {stray} logs that the metadata does not know aside (suffix {LogManager.StraySuffix})");

        var dispatcher = new KafkaRequestDispatcher(BuildHandlers(clock));
        foreach (var listener in Config.BrokerListeners) StartListener(listener, dispatcher);
        var controllerTable = new HandlerTable();
        controllerTable.Register(new ApiVersionsHandler(controllerTable));
        var controllerDispatcher = new KafkaRequestDispatcher(controllerTable);
        foreach (var listener in Config.ControllerListeners) StartListener(listener, controllerDispatcher);

        _retention = RunRetentionAsync(TimeSpan.FromMilliseconds(Math.Max(1000, Config.LogRetentionCheckIntervalMs)), clock);
    }

    private HandlerTable BuildHandlers(IClock clock)
    {
        var metadata = _metadata!;
        var partitions = _partitions!;
        var admin = new ControllerTopicAdmin(() => metadata.Controller);
        var adminOptions = AdminOptions.FromConfig(Config);
        var table = new HandlerTable();
        return table
            .Register(new ApiVersionsHandler(table))
            .Register(new MetadataHandler(() => metadata.Current, admin, adminOptions))
            .Register(new ProduceHandler(partitions, clock))
            .Register(new FetchHandler(partitions))
            .Register(new ListOffsetsHandler(partitions))
            .Register(new CreateTopicsHandler(admin, TopicConfigDefaults.FromBrokerConfig(Config)))
            .Register(new DeleteTopicsHandler(admin))
            .Register(new CreatePartitionsHandler(admin))
            .Register(new DescribeClusterHandler(() => metadata.Current, adminOptions));
    }

    private void StartListener(ListenerEndpoint endpoint, IConnectionHandler handler)
    {
        var listener = new KafkaListener(new KafkaListenerOptions
        {
            ListenerName = endpoint.Name,
            EndPoint = new IPEndPoint(ResolveBindAddress(endpoint.Host), endpoint.Port),
            MaxRequestBytes = Config.SocketRequestMaxBytes,
        }, handler);
        try
        {
            listener.Start();
        }
        catch (System.Net.Sockets.SocketException ex)
        {
            throw new StartupException($"cannot listen on {endpoint} ({ex.SocketErrorCode}: {ex.Message})", ex);
        }
        _listeners.Add(listener);
        Logger.Info($"listening on {endpoint.Name} {listener.BoundEndPoint}");
    }

    private async Task RunRetentionAsync(TimeSpan interval, IClock clock)
    {
        using var timer = new PeriodicTimer(interval);
        try
        {
            while (await timer.WaitForNextTickAsync(_stopping.Token).ConfigureAwait(false))
            {
                try
                {
                    int deleted = _partitions!.RunRetention(clock.UnixTimeMilliseconds);
                    if (deleted > 0) Logger.Info($"retention deleted {deleted} segments");
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    Logger.Error("retention pass failed", ex);
                }
            }
        }
        catch (OperationCanceledException) { }
    }

    /// <summary>Stops listeners first (no new requests), then flushes and closes storage.</summary>
    public async ValueTask DisposeAsync()
    {
        _stopping.Cancel();
        foreach (var listener in _listeners)
            await listener.StopAsync().ConfigureAwait(false);
        await _retention.ConfigureAwait(false);
        Try("flush partitions", () => _partitions?.FlushAll());
        Try("close partitions", () => _partitions?.Dispose());
        Try("close metadata", () => _metadata?.Dispose());
        if (!ReferenceEquals(_metadataLogs, _logs)) Try("close metadata log", () => _metadataLogs?.Dispose());
        Try("close logs", () => _logs?.Dispose());
        foreach (var l in _locks) l.Dispose();
        _stopping.Dispose();
    }

    private static void Try(string what, Action action)
    {
        try { action(); }
        catch (Exception ex) { Logger.Error($"{what} failed during shutdown", ex); }
    }

    /// <summary>This version runs one combined node; refuse other topologies clearly instead of half-working.</summary>
    private static void CheckSupportedTopology(BrokerConfig config)
    {
        if (!config.IsBroker || !config.IsController)
            throw new StartupException($"process.roles={RolesText(config)} needs the Raft controller quorum, which this version does not have yet; use process.roles=broker,controller");
        if (config.QuorumVoters.Count != 1)
            throw new StartupException($"controller.quorum.voters lists {config.QuorumVoters.Count} voters; this version runs a single-voter quorum (one node)");
        foreach (var l in config.Listeners)
            if (l.Port == 0)
                throw new StartupException($"listener {l}: port 0 is not supported (clients need a fixed advertised port)");
    }

    private static string RolesText(BrokerConfig c) => c.IsBroker ? "broker" : c.IsController ? "controller" : "";

    private static IReadOnlyList<BrokerEndpoint> AdvertisedEndpoints(BrokerConfig config)
    {
        var list = new List<BrokerEndpoint>();
        foreach (var l in config.AdvertisedListeners)
            list.Add(new BrokerEndpoint(l.Name, l.Host, l.Port, (short)l.Protocol));
        return list;
    }

    private static IPAddress ResolveBindAddress(string host)
    {
        if (string.IsNullOrEmpty(host) || host == "0.0.0.0") return IPAddress.Any;
        if (host == "::") return IPAddress.IPv6Any;
        if (IPAddress.TryParse(host, out var ip)) return ip;
        if (host == "localhost") return IPAddress.Loopback;
        var addresses = Dns.GetHostAddresses(host);
        return addresses.Length > 0 ? addresses[0] : throw new StartupException($"cannot resolve listener host '{host}'");
    }
}

using System.Net;
using Broker.Cluster.Transport;
using Broker.Config;
using Broker.Consensus.Raft;
using Broker.Core.Diagnostics;
using Broker.Core.Model;
using Broker.Host.Cluster;
using Broker.Metadata;
using Broker.Metadata.Controller;
using Broker.Network;
using Broker.Server.Lifecycle;
using Broker.Server.Partitions;
using Broker.Storage;

namespace Broker.Host;

/// <summary>
/// The composition root of one node: storage, the Raft transport and ticker, the metadata log (a Raft group whose
/// voters are controller.quorum.voters; pure brokers follow it as learners), the controller duties on voters, the
/// local partition replicas (one Raft group each) and the Kafka listeners with the broker lifecycle on brokers.
/// A single node is a one-voter cluster of the same code. Started in dependency order, stopped in reverse; see
/// the partial files: .Raft (transport, groups), .Controller (controller listener and duties), .Broker (Kafka
/// listeners, lifecycle, leadership reports, controlled shutdown).
/// </summary>
public sealed partial class BrokerNode : IAsyncDisposable
{
    public static readonly TopicPartition MetadataPartition = new("__cluster_metadata", 0);
    private static readonly Logger Logger = Log.For("node");

    private readonly List<IDisposable> _locks = new();
    private readonly List<KafkaListener> _listeners = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly IClock _clock = SystemClock.Instance;
    private LogManager? _logs;
    private LogManager? _metadataLogs;
    private MetadataNode? _metadata;
    private PartitionManager? _partitions;
    private TopicLogOptions? _topicLogOptions;
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
        OpenStorage();
        StartRaft();
        var metadataLog = OpenMetadataGroup();
        var controllerOptions = new ControllerOptions
        {
            NodeId = Config.NodeId,
            ClusterId = ClusterIdentity.For(Config),
            NumPartitions = Config.NumPartitions,
            DefaultReplicationFactor = Config.DefaultReplicationFactor,
            DeleteTopicEnable = Config.DeleteTopicEnable,
            BrokerSessionTimeout = TimeSpan.FromMilliseconds(Config.BrokerSessionTimeoutMs),
        };
        _metadata = new MetadataNode(controllerOptions, Config.MetadataLogDir, metadataLog, BrokerEndpoints(Config),
            rack: null, validateTopicConfig: TopicConfigCatalog.Validate, clock: _clock,
            activeControllerId: () => metadataLog.LeaderId, registerInProcess: false);

        if (Config.IsBroker) CreatePartitionManager();
        ApplyStorageLimits();
        if (Config.IsController) _metadata.ImageChanged += UpdateMetadataLearners;
        await _metadata.StartAsync(cancellationToken).ConfigureAwait(false);

        if (Config.IsBroker)
        {
            _partitions!.ApplyImage(_metadata.Current);
            int stray = _partitions.MoveStrayLogsAside();
            if (stray > 0) Logger.Warn($"moved {stray} logs that the metadata does not know aside (suffix {LogManager.StraySuffix})");
        }
        if (Config.IsController)
        {
            UpdateMetadataLearners(_metadata.Current);
            StartController();
        }
        if (Config.IsBroker)
        {
            StartBroker();
            StartPreferredLeaderRebalance();
            _retention = RunRetentionAsync(TimeSpan.FromMilliseconds(Math.Max(1000, Config.LogRetentionCheckIntervalMs)));
            StartLogCleaner();
            StartLogFlusher();
        }
        StartMetrics();
    }

    private void OpenStorage()
    {
        string dataDir = Config.LogDirs[0];
        if (Config.LogDirs.Count > 1)
            Logger.Warn($"log.dirs lists {Config.LogDirs.Count} directories; this version stores partitions in the first one ({dataDir})");
        foreach (var dir in new[] { dataDir, Config.MetadataLogDir }.Distinct())
        {
            Directory.CreateDirectory(dir);
            _locks.Add(DataDirectoryLock.Acquire(dir));
        }

        var topicLogOptions = new TopicLogOptions(Config);
        _topicLogOptions = topicLogOptions;
        _logs = new LogManager(dataDir, _clock);
        bool sharedMetadataDir = Path.GetFullPath(Config.MetadataLogDir) == Path.GetFullPath(dataDir);
        _metadataLogs = sharedMetadataDir ? _logs : new LogManager(Config.MetadataLogDir, _clock);
        var recovered = _logs.LoadAll(tp => tp.Topic == MetadataPartition.Topic ? TopicLogOptions.MetadataLog : topicLogOptions.Defaults);
        if (!sharedMetadataDir) _metadataLogs.LoadAll(_ => TopicLogOptions.MetadataLog);
        Logger.Info($"opened {recovered.Count} partition logs in {dataDir}");
    }

    private void CreatePartitionManager()
    {
        var brokerSettings = TopicSettings.FromBroker(Config.LogMessageTimestampType, Config.MinInsyncReplicas);
        _partitions = new PartitionManager(_logs!, Config.NodeId, _topicLogOptions!.For,
            topic => TopicSettings.Resolve(topic.Configs, brokerSettings), CreatePartitionReplica);
        _metadata!.ImageChanged += _partitions.ApplyImage;
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

    private async Task RunRetentionAsync(TimeSpan interval)
    {
        using var timer = new PeriodicTimer(interval);
        try
        {
            while (await timer.WaitForNextTickAsync(_stopping.Token).ConfigureAwait(false))
            {
                try
                {
                    int deleted = _partitions!.RunRetention(_clock.UnixTimeMilliseconds);
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

    /// <summary>
    /// Stops in reverse order: background duties and the lifecycle first, then listeners (no new requests), then
    /// the Raft groups and transport, then storage is flushed and closed. Call <see cref="ControlledShutdownAsync"/>
    /// first to hand leadership over.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        _stopping.Cancel();
        await StopBrokerDutiesAsync().ConfigureAwait(false);
        await StopControllerDutiesAsync().ConfigureAwait(false);
        foreach (var listener in _listeners)
            await listener.StopAsync().ConfigureAwait(false);
        await _retention.ConfigureAwait(false);
        await _cleaner.ConfigureAwait(false);
        await _flusher.ConfigureAwait(false);
        await _rebalance.ConfigureAwait(false);
        _ticker?.Dispose();
        Try("flush partitions", () => _partitions?.FlushAll());
        Try("close partition groups", () => _partitions?.CloseReplicas());
        Try("close partitions", () => _partitions?.Dispose());
        Try("close metadata", () => _metadata?.Dispose());
        Try("close metadata group", () => _metadataGroup?.Dispose());
        if (_transport is not null) await _transport.DisposeAsync().ConfigureAwait(false);
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

    private static void CheckSupportedTopology(BrokerConfig config)
    {
        foreach (var l in config.Listeners)
            if (l.Port == 0)
                throw new StartupException($"listener {l}: port 0 is not supported (clients and peers need a fixed port)");
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

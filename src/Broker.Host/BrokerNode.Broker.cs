using Broker.Config;
using Broker.Consensus.Raft;
using Broker.Metadata.Image;
using Broker.Server.Admin;
using Broker.Server.Handlers;
using Broker.Server.Lifecycle;
using Broker.Server.Partitions;
using Broker.Server.Pipeline;

namespace Broker.Host;

// The broker role: Kafka listeners, registration and heartbeats with the active controller, and controlled shutdown.
public sealed partial class BrokerNode
{
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private BrokerLifecycleClient? _lifecycle;

    /// <summary>Completes when the controller unfenced this broker (client requests wait for it).</summary>
    public Task Ready => _ready.Task;

    private void StartBroker()
    {
        var metadata = _metadata!;
        var table = BuildBrokerHandlers();
        table.RegisterInternal(new RaftEnvelopeHandler(_transport!));
        var dispatcher = new KafkaRequestDispatcher(table, _ready.Task);
        foreach (var listener in Config.BrokerListeners) StartListener(listener, dispatcher);

        var controllers = new List<string>(Config.QuorumVoters.Count);
        foreach (var v in Config.QuorumVoters) controllers.Add(Endpoints.FormatHostPort(v.Host, v.Port));
        _lifecycle = new BrokerLifecycleClient(new BrokerLifecycleOptions
        {
            BrokerId = Config.NodeId,
            ClusterId = metadata.ClusterId,
            IncarnationId = metadata.IncarnationId,
            Listeners = BrokerEndpoints(Config),
            ControllerEndpoints = controllers,
            HeartbeatInterval = TimeSpan.FromMilliseconds(Config.BrokerHeartbeatIntervalMs),
        }, () => metadata.Current.LastAppliedOffset);
        _lifecycle.StateChanged += state =>
        {
            if (state == BrokerLifecycleState.Active && _ready.TrySetResult())
                Logger.Info($"broker {Config.NodeId} is unfenced and serving clients");
        };
        _lifecycle.Start();
        StartBrokerExtras();
        StartGroupCoordinator();
    }

    private HandlerTable BuildBrokerHandlers()
    {
        var metadata = _metadata!;
        var partitions = _partitions!;
        var admin = CreateTopicAdmin();
        var adminOptions = AdminOptions.FromConfig(Config);
        var table = new HandlerTable();
        table
            .Register(new ApiVersionsHandler(table))
            .Register(new MetadataHandler(() => metadata.Current, admin, adminOptions))
            .Register(new ProduceHandler(partitions, _clock))
            .Register(new FetchHandler(partitions))
            .Register(new ListOffsetsHandler(partitions))
            .Register(new CreateTopicsHandler(admin, TopicConfigDefaults.FromBrokerConfig(Config)))
            .Register(new DeleteTopicsHandler(admin))
            .Register(new CreatePartitionsHandler(admin))
            .Register(new DescribeClusterHandler(() => metadata.Current, adminOptions));
        RegisterGroupHandlers(table, admin);
        RegisterProducerHandlers(table);
        RegisterAdminApiHandlers(table, admin);
        return table;
    }

    /// <summary>The controller listener of the active controller (the metadata group's leader), when known.</summary>
    private (string Host, int Port)? ActiveControllerEndpoint()
    {
        int leader = _metadataGroup?.LeaderId ?? -1;
        return leader < 0 ? null : _peers!.VoterEndpoint(leader);
    }

    /// <summary>
    /// SIGTERM on a node of a cluster: hand leadership of every locally led partition (and of the metadata log) to
    /// an in-sync follower, then tell the controller (WantShutDown) and wait for its go-ahead, all within
    /// <paramref name="budget"/>. Partitions without another in-sync replica simply stop with the node.
    /// </summary>
    public async Task ControlledShutdownAsync(TimeSpan budget)
    {
        var deadline = _clock.MonotonicMilliseconds + (long)budget.TotalMilliseconds;
        if (_partitions is not null) await MoveLeadershipAwayAsync(deadline - 1000).ConfigureAwait(false);
        if (_metadataGroup is { IsLeader: true } group && _voterIds.Length > 1) TransferToInSyncReplica(group);
        if (_lifecycle is not null)
        {
            long remaining = Math.Max(200, deadline - _clock.MonotonicMilliseconds);
            await _lifecycle.ShutdownAsync(TimeSpan.FromMilliseconds(remaining)).ConfigureAwait(false);
        }
    }

    private async Task MoveLeadershipAwayAsync(long deadline)
    {
        long nextAttempt = 0;
        while (true)
        {
            int led = 0;
            long now = _clock.MonotonicMilliseconds;
            bool attempt = now >= nextAttempt;
            foreach (PartitionState p in _partitions!.Partitions)
            {
                if (p.Replica is not RaftReplicatedLog group || !group.IsLeader) continue;
                if (group.InSyncCount < 2) continue; // nobody to take over
                led++;
                if (attempt) TransferToInSyncReplica(group);
            }
            if (led == 0) return;
            if (attempt) nextAttempt = now + 500;
            if (now >= deadline)
            {
                Logger.Warn($"controlled shutdown: {led} partitions still led here; stopping anyway");
                return;
            }
            await Task.Delay(50).ConfigureAwait(false);
        }
    }

    private async Task StopBrokerDutiesAsync()
    {
        await StopGroupCoordinatorAsync().ConfigureAwait(false);
        await StopBrokerExtrasAsync().ConfigureAwait(false);
        if (_lifecycle is not null) await _lifecycle.DisposeAsync().ConfigureAwait(false);
        _ready.TrySetCanceled();
    }

    private static IReadOnlyList<BrokerEndpoint> BrokerEndpoints(BrokerConfig config)
    {
        var list = new List<BrokerEndpoint>();
        foreach (var l in config.AdvertisedListeners)
            list.Add(new BrokerEndpoint(l.Name, l.Host, l.Port, (short)l.Protocol));
        return list;
    }
}

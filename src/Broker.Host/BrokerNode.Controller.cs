using Broker.Metadata.Controller;
using Broker.Server.Admin;
using Broker.Server.Handlers;
using Broker.Server.Lifecycle;
using Broker.Server.Pipeline;

namespace Broker.Host;

// The controller role: the controller listener (broker lifecycle, Raft, forwarded admin requests) and the duties of
// the active controller (bootstrap a new cluster, broker sessions and fencing).
public sealed partial class BrokerNode
{
    private BrokerHeartbeatManager? _heartbeats;
    private Task _controllerDuties = Task.CompletedTask;

    private void StartController()
    {
        var metadata = _metadata!;
        _heartbeats = new BrokerHeartbeatManager(metadata.Controller, _clock, TimeSpan.FromMilliseconds(Config.BrokerSessionTimeoutMs));
        var lifecycle = new HeartbeatManagerLifecycle(_heartbeats);
        var localAdmin = new ControllerTopicAdmin(() => metadata.Controller);
        var table = new HandlerTable();
        table.Register(new ApiVersionsHandler(table))
            .Register(new BrokerRegistrationHandler(lifecycle))
            .Register(new BrokerHeartbeatHandler(lifecycle))
            .Register(new AllocateProducerIdsHandler(() => metadata.Controller))
            .Register(new CreateTopicsHandler(localAdmin, TopicConfigDefaults.FromBrokerConfig(Config)))
            .Register(new DeleteTopicsHandler(localAdmin))
            .Register(new CreatePartitionsHandler(localAdmin))
            .RegisterInternal(new RaftEnvelopeHandler(_transport!));
        RegisterControllerExtras(table);
        RegisterControllerAdminApiHandlers(table);
        var dispatcher = new KafkaRequestDispatcher(table);
        foreach (var listener in Config.ControllerListeners) StartListener(listener, dispatcher);
        _controllerDuties = RunControllerDutiesAsync(_stopping.Token);
    }

    /// <summary>
    /// Watches the metadata group's leadership. On becoming the active controller: bootstrap a new cluster's
    /// metadata (once) and seed broker sessions, so every broker gets a full session timeout to find us. While
    /// active: fence brokers whose sessions expired. On losing it: forget the sessions.
    /// </summary>
    private async Task RunControllerDutiesAsync(CancellationToken cancellationToken)
    {
        bool active = false;
        long nextSessionCheck = 0;
        var checkEvery = TimeSpan.FromMilliseconds(Math.Max(100, Math.Min(Config.BrokerHeartbeatIntervalMs, 1000)));
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(50));
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                try
                {
                    bool leader = _metadataGroup!.IsLeader;
                    if (leader && !active)
                    {
                        var bootstrap = await _metadata!.Controller.BootstrapAsync(cancellationToken).ConfigureAwait(false);
                        if (!bootstrap.IsSuccess)
                        {
                            Logger.Warn($"active controller: bootstrap not done yet ({bootstrap.Error} {bootstrap.Message}); retrying");
                            continue;
                        }
                        _heartbeats!.SeedFromImage();
                        active = true;
                        Logger.Info($"node {Config.NodeId} is the active controller (metadata term {_metadataGroup.Term})");
                    }
                    else if (!leader && active)
                    {
                        _heartbeats!.Clear();
                        active = false;
                        Logger.Info($"node {Config.NodeId} is no longer the active controller");
                    }
                    long now = _clock.MonotonicMilliseconds;
                    if (active && now >= nextSessionCheck)
                    {
                        nextSessionCheck = now + (long)checkEvery.TotalMilliseconds;
                        await _heartbeats!.CheckSessionsAsync(cancellationToken).ConfigureAwait(false);
                    }
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    Logger.Error("controller duties failed", ex);
                }
            }
        }
        catch (OperationCanceledException) { }
    }

    private async Task StopControllerDutiesAsync()
    {
        try { await _controllerDuties.ConfigureAwait(false); }
        catch (Exception ex) { Logger.Error("controller duties ended with an error", ex); }
        _heartbeats?.Dispose();
    }
}

using Broker.Metadata.Controller;
using Broker.Metadata.Lifecycle;

namespace Broker.Server.Lifecycle;

/// <summary>
/// What the BrokerRegistration (62) and BrokerHeartbeat (63) handlers need from the controller: whether this node
/// is the active controller, and the two lifecycle calls. <see cref="HeartbeatManagerLifecycle"/> implements it
/// over <see cref="BrokerHeartbeatManager"/>; tests substitute their own.
/// </summary>
public interface IControllerLifecycle
{
    /// <summary>True when this node is the active controller; otherwise the handlers answer NOT_CONTROLLER.</summary>
    bool IsActiveController { get; }

    Task<BrokerRegistrationResult> RegisterBrokerAsync(BrokerRegistrationSpec spec, CancellationToken cancellationToken);

    Task<BrokerHeartbeatResult> HeartbeatAsync(BrokerHeartbeat heartbeat, CancellationToken cancellationToken);
}

/// <summary>The production <see cref="IControllerLifecycle"/>: a thin pass-through to the heartbeat manager.</summary>
public sealed class HeartbeatManagerLifecycle(BrokerHeartbeatManager manager) : IControllerLifecycle
{
    public bool IsActiveController => manager.IsActive;

    public Task<BrokerRegistrationResult> RegisterBrokerAsync(BrokerRegistrationSpec spec, CancellationToken cancellationToken) =>
        manager.RegisterAsync(spec, cancellationToken);

    public Task<BrokerHeartbeatResult> HeartbeatAsync(BrokerHeartbeat heartbeat, CancellationToken cancellationToken) =>
        manager.HeartbeatAsync(heartbeat, cancellationToken);
}

using Broker.Core.Model;
using Broker.Metadata.Image;

namespace Broker.Metadata.Lifecycle;

/// <summary>A feature range a registering broker supports (e.g. metadata.version 1..19).</summary>
public readonly record struct BrokerFeatureRange(string Name, short MinSupportedVersion, short MaxSupportedVersion);

/// <summary>
/// What a broker sends when it registers with the active controller (the content of BrokerRegistrationRequest).
/// <see cref="IncarnationId"/> is new per process start.
/// </summary>
public sealed record BrokerRegistrationSpec(
    int BrokerId,
    string ClusterId,
    Guid IncarnationId,
    IReadOnlyList<BrokerEndpoint> Endpoints,
    IReadOnlyList<BrokerFeatureRange> Features,
    string? Rack = null);

/// <summary>One heartbeat of a registered broker (the content of BrokerHeartbeatRequest).</summary>
public readonly record struct BrokerHeartbeat(
    int BrokerId, long BrokerEpoch, long CurrentMetadataOffset, bool WantFence = false, bool WantShutDown = false);

/// <summary>The controller's answer to a heartbeat (the content of BrokerHeartbeatResponse).</summary>
public readonly record struct BrokerHeartbeatResult(
    ErrorCode Error, string? Message, bool IsCaughtUp, bool IsFenced, bool ShouldShutDown)
{
    public static BrokerHeartbeatResult Failed(ErrorCode error, string? message) => new(error, message, false, true, false);
}

/// <summary>Where a broker is in its lifecycle, as the controller sees it (Kafka's BrokerControlState, simplified).</summary>
public enum BrokerSessionState
{
    /// <summary>Registered but fenced: gets no leaderships or new replicas (until caught up, or after session expiry).</summary>
    Fenced,
    /// <summary>Unfenced and serving.</summary>
    Active,
    /// <summary>Asked to shut down; waits until it leads no partitions, then is told ShouldShutDown.</summary>
    ControlledShutdown,
}

/// <summary>A snapshot of one broker's heartbeat session on the active controller.</summary>
public readonly record struct BrokerSessionInfo(
    int BrokerId,
    long BrokerEpoch,
    BrokerSessionState State,
    long LastContactMs,
    long MetadataOffset,
    bool ShutdownApproved);

using Broker.Metadata.Image;

namespace Broker.Server.Lifecycle;

/// <summary>
/// Settings of <see cref="BrokerLifecycleClient"/>. Names in comments are the server.properties keys they mirror.
/// </summary>
public sealed record BrokerLifecycleOptions
{
    /// <summary>node.id of this broker.</summary>
    public required int BrokerId { get; init; }
    /// <summary>The cluster id from meta.properties; the controller rejects a mismatch (INCONSISTENT_CLUSTER_ID).</summary>
    public required string ClusterId { get; init; }
    /// <summary>New per process start (MetadataNode.IncarnationId in a combined node, so both registrations agree).</summary>
    public Guid IncarnationId { get; init; } = Guid.NewGuid();
    /// <summary>The broker's advertised listeners.</summary>
    public required IReadOnlyList<BrokerEndpoint> Listeners { get; init; }
    /// <summary>broker.rack.</summary>
    public string? Rack { get; init; }
    /// <summary>The controller listeners of the voters, "host:port" (from controller.quorum.voters / bootstrap.servers).</summary>
    public required IReadOnlyList<string> ControllerEndpoints { get; init; }
    /// <summary>The metadata.version range this broker supports (sent as the Features of the registration).</summary>
    public short MinMetadataVersion { get; init; } = 1;
    public short MaxMetadataVersion { get; init; } = 19;
    /// <summary>broker.heartbeat.interval.ms.</summary>
    public TimeSpan HeartbeatInterval { get; init; } = TimeSpan.FromMilliseconds(2000);
    /// <summary>Bound on one round trip (controller.quorum.request.timeout.ms).</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromMilliseconds(2000);
    /// <summary>Bound on one TCP connect.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromMilliseconds(2000);
    /// <summary>Pause after every controller endpoint failed (controller.quorum.retry.backoff.ms is 20; we back off more).</summary>
    public TimeSpan RetryBackoff { get; init; } = TimeSpan.FromMilliseconds(200);
    /// <summary>Client id sent in request headers.</summary>
    public string ClientId { get; init; } = "broker-lifecycle";

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        if (BrokerId < 0) throw new ArgumentException($"BrokerId must not be negative, got {BrokerId}.");
        if (string.IsNullOrEmpty(ClusterId)) throw new ArgumentException("ClusterId is required.");
        if (Listeners is null || Listeners.Count == 0) throw new ArgumentException("at least one listener is required.");
        if (ControllerEndpoints is null || ControllerEndpoints.Count == 0) throw new ArgumentException("at least one controller endpoint is required.");
        foreach (var e in ControllerEndpoints)
            if (!TryParseEndpoint(e, out _, out _)) throw new ArgumentException($"controller endpoint '{e}' is not host:port.");
        if (MinMetadataVersion > MaxMetadataVersion) throw new ArgumentException("MinMetadataVersion is above MaxMetadataVersion.");
        if (HeartbeatInterval <= TimeSpan.Zero || RequestTimeout <= TimeSpan.Zero || ConnectTimeout <= TimeSpan.Zero || RetryBackoff < TimeSpan.Zero)
            throw new ArgumentException("heartbeat interval and timeouts must be positive.");
    }

    /// <summary>Splits "host:port" (IPv6 as "[::1]:9093").</summary>
    public static bool TryParseEndpoint(string endpoint, out string host, out int port)
    {
        host = "";
        port = 0;
        if (string.IsNullOrWhiteSpace(endpoint)) return false;
        int colon = endpoint.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(endpoint.AsSpan(colon + 1), out port) || port is < 1 or > 65535) return false;
        host = endpoint[..colon];
        if (host.StartsWith('[') && host.EndsWith(']')) host = host[1..^1];
        return host.Length > 0;
    }
}

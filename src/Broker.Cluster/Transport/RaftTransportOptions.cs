namespace Broker.Cluster.Transport;

/// <summary>Tuning of <see cref="RaftPeerTransport"/>; the defaults suit a LAN cluster.</summary>
public sealed record RaftTransportOptions
{
    /// <summary>Messages queued per destination node; when full the oldest is dropped (Raft retransmits).</summary>
    public int QueueCapacityPerPeer { get; init; } = 4096;

    /// <summary>An envelope is closed once its encoded messages reach this size (a single larger message still
    /// travels alone). Must stay below the peer's socket.request.max.bytes.</summary>
    public int MaxEnvelopeBytes { get; init; } = 1024 * 1024;

    /// <summary>Envelopes written but not yet acknowledged per connection (pipelining depth).</summary>
    public int MaxInFlightEnvelopes { get; init; } = 8;

    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>An envelope not acknowledged within this time breaks the connection (a hung or half-open peer).</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>First delay after a failed connect; doubles per failure up to <see cref="MaxReconnectBackoff"/>.</summary>
    public TimeSpan InitialReconnectBackoff { get; init; } = TimeSpan.FromMilliseconds(50);

    public TimeSpan MaxReconnectBackoff { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        if (QueueCapacityPerPeer < 1) throw new ArgumentException($"QueueCapacityPerPeer must be positive, got {QueueCapacityPerPeer}.");
        if (MaxEnvelopeBytes < 1024) throw new ArgumentException($"MaxEnvelopeBytes must be at least 1024, got {MaxEnvelopeBytes}.");
        if (MaxInFlightEnvelopes < 1) throw new ArgumentException($"MaxInFlightEnvelopes must be positive, got {MaxInFlightEnvelopes}.");
        if (ConnectTimeout <= TimeSpan.Zero) throw new ArgumentException("ConnectTimeout must be positive.");
        if (RequestTimeout <= TimeSpan.Zero) throw new ArgumentException("RequestTimeout must be positive.");
        if (InitialReconnectBackoff <= TimeSpan.Zero || MaxReconnectBackoff < InitialReconnectBackoff)
            throw new ArgumentException("reconnect backoffs must be positive with Max >= Initial.");
    }
}

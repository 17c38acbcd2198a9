namespace Broker.Http.Proxy;

/// <summary>Where the HTTP proxy listens and how it reaches the cluster.</summary>
public sealed class HttpProxyOptions
{
    /// <summary>Addresses to listen on (host, port); port 0 = any free port.</summary>
    public required IReadOnlyList<(string Host, int Port)> Listen { get; init; }
    /// <summary>Kafka bootstrap servers (host:port, comma-separated) the proxy's internal client connects to.</summary>
    public required string BootstrapServers { get; init; }
    /// <summary>Consumer instances idle longer than this are closed (Redpanda: consumer_instance_timeout_ms, 300000).</summary>
    public TimeSpan ConsumerInstanceTimeout { get; init; } = TimeSpan.FromMinutes(5);
    /// <summary>Host name used in consumer base_uri values (null = the request's Host header).</summary>
    public string? AdvertisedHost { get; init; }
}

// CONTRACT (lead): the proxy helper implements this; the admin helper starts it from the host (NodeRunner).
/// <summary>The REST proxy v2 listener (pandaproxy-compatible subset) over an internal Kafka client.</summary>
public sealed partial class HttpProxyServer : IAsyncDisposable
{
    /// <summary>Binds the listeners and starts serving; throws when a port cannot be bound.</summary>
    public static Task<HttpProxyServer> StartAsync(HttpProxyOptions options, CancellationToken cancellationToken) =>
        throw new NotImplementedException();

    /// <summary>The bound addresses as http://host:port.</summary>
    public IReadOnlyList<string> Urls => throw new NotImplementedException();

    public ValueTask DisposeAsync() => throw new NotImplementedException();
}

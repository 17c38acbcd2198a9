using System.Runtime.CompilerServices;
using Broker.Core.Diagnostics;
using Broker.Http.Hosting;
using Microsoft.AspNetCore.Builder;

[assembly: InternalsVisibleTo("Broker.Http.Tests")]

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
    /// <summary>Kestrel limits; produce bodies may be large (default 32 MiB), many clients may poll at once.</summary>
    public HttpServerLimits Limits { get; init; } = new() { MaxRequestBodyBytes = 32 * 1024 * 1024, MaxConcurrentConnections = 1024 };
}

// CONTRACT (lead): the proxy helper implements this; the admin helper starts it from the host (NodeRunner).
/// <summary>The REST proxy v2 listener (pandaproxy-compatible subset) over an internal Kafka client.</summary>
public sealed partial class HttpProxyServer : IAsyncDisposable
{
    private static readonly Logger Logger = Log.For("http-proxy");

    private readonly WebApplication _app;
    private readonly IProxyBackend _backend;
    private readonly ConsumerRegistry _consumers;
    private readonly IReadOnlyList<string> _urls;
    private int _disposed;

    private HttpProxyServer(WebApplication app, IProxyBackend backend, ConsumerRegistry consumers, IReadOnlyList<string> urls)
    {
        _app = app;
        _backend = backend;
        _consumers = consumers;
        _urls = urls;
    }

    /// <summary>Binds the listeners and starts serving; throws when a port cannot be bound.</summary>
    public static Task<HttpProxyServer> StartAsync(HttpProxyOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        var backend = new KafkaProxyBackend(options.BootstrapServers);
        return StartAsync(options, backend, SystemClock.Instance, SweepInterval(options.ConsumerInstanceTimeout), cancellationToken);
    }

    /// <summary>Starts over any backend (tests: an in-memory cluster); the server owns and disposes <paramref name="backend"/>.</summary>
    internal static async Task<HttpProxyServer> StartAsync(HttpProxyOptions options, IProxyBackend backend, IClock clock,
        TimeSpan? sweepInterval, CancellationToken cancellationToken)
    {
        ConsumerRegistry? consumers = null;
        WebApplication? app = null;
        try
        {
            if (options.Listen.Count == 0) throw new ArgumentException("the HTTP proxy needs at least one listen address", nameof(options));
            consumers = new ConsumerRegistry(backend, clock, options.ConsumerInstanceTimeout, sweepInterval);
            app = HttpHost.CreateBuilder("http-proxy", options.Listen, options.Limits).Build();
            new ProxyEndpoints(backend, consumers, options).Map(app);
            var urls = await HttpHost.StartAsync(app, cancellationToken).ConfigureAwait(false);
            Logger.Info($"HTTP proxy listening on {string.Join(", ", urls)} (Kafka {options.BootstrapServers}, " +
                       $"consumer instances expire after {options.ConsumerInstanceTimeout.TotalMilliseconds:F0} ms idle)");
            return new HttpProxyServer(app, backend, consumers, urls);
        }
        catch
        {
            if (app is not null) await app.DisposeAsync().ConfigureAwait(false);
            if (consumers is not null) await consumers.DisposeAsync().ConfigureAwait(false);
            await backend.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Expiry is checked a few times per timeout, between 50 ms and 5 s apart.</summary>
    internal static TimeSpan SweepInterval(TimeSpan timeout) =>
        TimeSpan.FromMilliseconds(Math.Clamp(timeout.TotalMilliseconds / 4, 50, 5000));

    /// <summary>The bound addresses as http://host:port.</summary>
    public IReadOnlyList<string> Urls => _urls;

    /// <summary>The live consumer instances (tests sweep them with a fake clock).</summary>
    internal ConsumerRegistry Consumers => _consumers;

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        try
        {
            await HttpHost.StopAsync(_app, TimeSpan.FromSeconds(1)).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            Logger.Warn($"HTTP proxy stop: {ex.Message}");
        }
        await _consumers.DisposeAsync().ConfigureAwait(false);
        await _backend.DisposeAsync().ConfigureAwait(false);
        Logger.Info("HTTP proxy stopped");
    }
}

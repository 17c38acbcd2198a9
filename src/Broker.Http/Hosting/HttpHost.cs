using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Broker.Http.Hosting;

/// <summary>Kestrel limits of one HTTP server (defaults suit the Admin API: small bodies, few clients).</summary>
public sealed class HttpServerLimits
{
    public long MaxRequestBodyBytes { get; init; } = 1024 * 1024;
    public int MaxRequestHeadersTotalBytes { get; init; } = 32 * 1024;
    public int MaxRequestHeaderCount { get; init; } = 64;
    public int MaxRequestLineBytes { get; init; } = 8 * 1024;
    public long MaxConcurrentConnections { get; init; } = 256;
    public TimeSpan RequestHeadersTimeout { get; init; } = TimeSpan.FromSeconds(15);
    public TimeSpan KeepAliveTimeout { get; init; } = TimeSpan.FromSeconds(120);
}

/// <summary>
/// Builds and runs the broker's embedded HTTP servers on ASP.NET Core under NativeAOT: an empty WebApplication
/// builder (no configuration files, environment variables or command-line arguments are read), Kestrel core only
/// with explicit listen addresses and limits, core routing, logging routed into the broker's log, and a host
/// lifetime that ignores process signals (the broker's NodeRunner decides when servers stop).
/// </summary>
public static class HttpHost
{
    /// <summary>A builder for a server named <paramref name="component"/> (log component) listening on <paramref name="listen"/>.</summary>
    public static WebApplicationBuilder CreateBuilder(string component, IReadOnlyList<(string Host, int Port)> listen, HttpServerLimits limits)
    {
        if (listen.Count == 0) throw new ArgumentException("no listen address given", nameof(listen));
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { Args = [], ApplicationName = "broker" });
        builder.WebHost.UseKestrelCore();
        builder.WebHost.ConfigureKestrel(options =>
        {
            options.AddServerHeader = false;
            options.Limits.MaxRequestBodySize = limits.MaxRequestBodyBytes;
            options.Limits.MaxRequestHeadersTotalSize = limits.MaxRequestHeadersTotalBytes;
            options.Limits.MaxRequestHeaderCount = limits.MaxRequestHeaderCount;
            options.Limits.MaxRequestLineSize = limits.MaxRequestLineBytes;
            options.Limits.MaxConcurrentConnections = limits.MaxConcurrentConnections;
            options.Limits.RequestHeadersTimeout = limits.RequestHeadersTimeout;
            options.Limits.KeepAliveTimeout = limits.KeepAliveTimeout;
            foreach (var (host, port) in listen) Listen(options, host, port);
        });
        builder.Services.AddRoutingCore();
        builder.Services.AddSingleton<IHostLifetime, ManualLifetime>();
        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(Microsoft.Extensions.Logging.LogLevel.Debug);
        builder.Logging.AddProvider(new LogBridgeProvider(component));
        return builder;
    }

    private static void Listen(KestrelServerOptions options, string host, int port)
    {
        if (port is < 0 or > 65535) throw new ArgumentOutOfRangeException(nameof(port), $"port {port} of {host} is out of range");
        if (string.IsNullOrEmpty(host) || host == "0.0.0.0") options.Listen(IPAddress.Any, port);
        else if (host is "::" or "[::]") options.Listen(IPAddress.IPv6Any, port);
        else if (host == "localhost") options.Listen(IPAddress.Loopback, port);
        else if (IPAddress.TryParse(host.Trim('[', ']'), out var ip)) options.Listen(ip, port);
        else
        {
            var addresses = Dns.GetHostAddresses(host);
            if (addresses.Length == 0) throw new IOException($"cannot resolve HTTP listener host '{host}'");
            options.Listen(addresses[0], port);
        }
    }

    /// <summary>
    /// Starts <paramref name="app"/> and returns its bound addresses (http://host:port, actual ports for port 0).
    /// A listener that cannot bind fails with an <see cref="IOException"/> naming the address (Kestrel's message, e.g.
    /// "address already in use").
    /// </summary>
    public static async Task<IReadOnlyList<string>> StartAsync(WebApplication app, CancellationToken cancellationToken)
    {
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        var addresses = app.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>()
            .Features.Get<IServerAddressesFeature>()?.Addresses;
        return addresses is null ? [] : [.. addresses];
    }

    /// <summary>Stops accepting, lets requests in flight finish within <paramref name="grace"/>, then releases the server.</summary>
    public static async Task StopAsync(WebApplication app, TimeSpan grace)
    {
        using var cts = new CancellationTokenSource(grace);
        try
        {
            await app.StopAsync(cts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) { }
        await app.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>The request body size limit of the current request (for error messages).</summary>
    public static long? MaxBodySize(Microsoft.AspNetCore.Http.HttpContext context) =>
        context.Features.Get<IHttpMaxRequestBodySizeFeature>()?.MaxRequestBodySize;

    /// <summary>Signals do not stop the servers: the node's runner stops them, first, on shutdown.</summary>
    private sealed class ManualLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;
        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}

using System.Text.Json.Serialization.Metadata;
using Broker.Core.Diagnostics;
using Broker.Core.Metrics;
using Broker.Http.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Broker.Http.Admin;

/// <summary>Where the Admin API listens and how it behaves.</summary>
public sealed class AdminApiOptions
{
    /// <summary>Addresses to listen on (host, port); port 0 = any free port.</summary>
    public required IReadOnlyList<(string Host, int Port)> Listen { get; init; }
    public HttpServerLimits Limits { get; init; } = new();
    /// <summary>Renders /metrics and /public_metrics (default: the process's Prometheus exposition).</summary>
    public Func<MetricsScope, string> RenderMetrics { get; init; } = PrometheusExposition.Render;
    /// <summary>health_overview lists at most this many partitions per list (the counts are complete).</summary>
    public int MaxListedPartitions { get; init; } = 128;
    /// <summary>Bound on a PUT /v1/cluster_config (the metadata-log write and its commit).</summary>
    public TimeSpan ConfigWriteTimeout { get; init; } = TimeSpan.FromSeconds(10);
}

/// <summary>
/// The Redpanda-compatible Admin API (default port 9644): status, cluster health, brokers, partitions, cluster and
/// node configuration, leadership transfer and Prometheus metrics, over the node's in-memory state
/// (<see cref="IAdminBackend"/>). Every error is <c>{"message", "code"}</c> with the matching status: unknown path
/// 404, wrong method 405, bad input 400, unsupported content type 415, body too large 413, unavailable 503.
/// Routes: AdminApiServer.Routes.cs (cluster, brokers, partitions), AdminApiServer.Config.cs (configuration).
/// </summary>
public sealed partial class AdminApiServer : IAsyncDisposable
{
    private static readonly Logger Logger = Log.For("admin-http");
    private readonly WebApplication _app;
    private readonly IAdminBackend _backend;
    private readonly AdminApiOptions _options;
    private int _disposed;

    private AdminApiServer(WebApplication app, IAdminBackend backend, AdminApiOptions options)
    {
        _app = app;
        _backend = backend;
        _options = options;
    }

    /// <summary>The bound addresses as http://host:port.</summary>
    public IReadOnlyList<string> Urls { get; private set; } = [];

    /// <summary>Binds every listener and starts serving; throws (IOException naming the address) when a port cannot be bound.</summary>
    public static async Task<AdminApiServer> StartAsync(AdminApiOptions options, IAdminBackend backend, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(backend);
        long started = Environment.TickCount64;
        var app = HttpHost.CreateBuilder("admin-http", options.Listen, options.Limits).Build();
        long built = Environment.TickCount64;
        var server = new AdminApiServer(app, backend, options);
        try
        {
            app.UseRouting();
            app.Use(server.GuardAsync);
            server.MapRoutes();
            server.Urls = await HttpHost.StartAsync(app, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await app.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        long now = Environment.TickCount64;
        Logger.Info($"Admin API listening on {string.Join(", ", server.Urls)} (built in {built - started} ms, started in {now - built} ms)");
        return server;
    }

    /// <summary>Runs after routing: unknown paths, wrong methods, unreadable requests and failures become JSON errors.</summary>
    private async Task GuardAsync(HttpContext context, RequestDelegate next)
    {
        if (context.GetEndpoint() is null)
        {
            await ErrorAsync(context, StatusCodes.Status404NotFound, $"no such endpoint: {context.Request.Path}").ConfigureAwait(false);
            return;
        }
        try
        {
            await next(context).ConfigureAwait(false);
        }
        catch (BadHttpRequestException ex) when (!context.Response.HasStarted)
        {
            string message = ex.StatusCode == StatusCodes.Status413PayloadTooLarge
                ? $"request body is larger than {HttpHost.MaxBodySize(context)} bytes"
                : ex.Message;
            await ErrorAsync(context, ex.StatusCode, message).ConfigureAwait(false);
            return;
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            return; // the client went away
        }
        catch (Exception ex) when (!context.Response.HasStarted)
        {
            Logger.Error($"{context.Request.Method} {context.Request.Path} failed", ex);
            await ErrorAsync(context, StatusCodes.Status500InternalServerError, $"internal error: {ex.Message}").ConfigureAwait(false);
            return;
        }
        if (context.Response.StatusCode == StatusCodes.Status405MethodNotAllowed && !context.Response.HasStarted)
        {
            string allowed = context.Response.Headers.Allow.ToString();
            await ErrorAsync(context, StatusCodes.Status405MethodNotAllowed,
                $"method {context.Request.Method} is not allowed on {context.Request.Path}{(allowed.Length > 0 ? $" (allowed: {allowed})" : "")}").ConfigureAwait(false);
        }
    }

    private static Task ErrorAsync(HttpContext context, int status, string message) =>
        JsonAsync(context, status, new ErrorBody(message, status), AdminJsonContext.Default.ErrorBody);

    private static Task JsonAsync<T>(HttpContext context, int status, T value, JsonTypeInfo<T> typeInfo)
    {
        context.Response.StatusCode = status;
        context.Response.Headers.CacheControl = "no-store";
        return context.Response.WriteAsJsonAsync(value, typeInfo, contentType: null, context.RequestAborted);
    }

    private static Task OkAsync<T>(HttpContext context, T value, JsonTypeInfo<T> typeInfo) =>
        JsonAsync(context, StatusCodes.Status200OK, value, typeInfo);

    /// <summary>Stops accepting, gives requests in flight a moment, releases the ports. Idempotent.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        await HttpHost.StopAsync(_app, TimeSpan.FromSeconds(1)).ConfigureAwait(false);
    }
}

using Broker.Client;
using Broker.Compression;
using Broker.Core.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Broker.Http.Proxy;

/// <summary>
/// The REST proxy v2 routes (pandaproxy subset) and their handlers: cluster (/, /brokers, /topics, /status/ready),
/// records (produce, partition fetch) and consumer instances. Every handler answers errors as
/// <c>{"error_code","message"}</c>; unknown paths are 404 and wrong methods 405, also as JSON.
/// </summary>
internal sealed partial class ProxyEndpoints(IProxyBackend backend, ConsumerRegistry consumers, HttpProxyOptions options)
{
    private static readonly Logger Logger = Log.For("http-proxy");
    private static readonly byte[] EmptyObject = "{}"u8.ToArray();

    private const string InstancePath = "/consumers/{group}/instances/{instance}";

    public void Map(WebApplication app)
    {
        app.Use((Func<HttpContext, RequestDelegate, Task>)UnmatchedAsJsonAsync);
        app.MapGet("/", Wrap(GetRootAsync));
        app.MapGet("/brokers", Wrap(GetBrokersAsync));
        app.MapGet("/topics", Wrap(GetTopicsAsync));
        app.MapGet("/status/ready", Wrap(GetReadyAsync));
        app.MapPost("/topics/{topic}", Wrap(ProduceAsync));
        app.MapGet("/topics/{topic}/partitions/{partition}/records", Wrap(FetchAsync));
        app.MapPost("/consumers/{group}", Wrap(CreateConsumerAsync));
        app.MapDelete(InstancePath, Wrap(DeleteConsumerAsync));
        app.MapPost(InstancePath + "/subscription", Wrap(SubscribeAsync));
        app.MapGet(InstancePath + "/records", Wrap(ConsumerRecordsAsync));
        app.MapGet(InstancePath + "/offsets", Wrap(GetOffsetsAsync));
        app.MapPost(InstancePath + "/offsets", Wrap(CommitOffsetsAsync));
    }

    /// <summary>Turns a handler's exceptions into REST proxy error bodies.</summary>
    private static RequestDelegate Wrap(Func<HttpContext, Task> handler) => async context =>
    {
        try
        {
            await handler(context).ConfigureAwait(false);
        }
        catch (ProxyException ex)
        {
            await ProxyHttp.WriteErrorAsync(context, ex.ErrorCode, ex.Message).ConfigureAwait(false);
        }
        catch (KafkaException ex)
        {
            await ProxyHttp.WriteErrorAsync(context, ProxyErrorCodes.FromKafka(ex.Error), ex.Message).ConfigureAwait(false);
        }
        catch (CompressionException ex)
        {
            await ProxyHttp.WriteErrorAsync(context, ProxyErrorCodes.KafkaError, $"cannot decompress records: {ex.Message}")
                .ConfigureAwait(false);
        }
        catch (BadHttpRequestException ex)
        {
            await ProxyHttp.WriteErrorAsync(context, ex.StatusCode, ex.Message).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client went away; nobody to answer.
        }
        catch (Exception ex)
        {
            Logger.Error($"{context.Request.Method} {context.Request.Path} failed", ex);
            await ProxyHttp.WriteErrorAsync(context, ProxyErrorCodes.InternalError, $"internal error: {ex.Message}")
                .ConfigureAwait(false);
        }
    };

    /// <summary>
    /// Routing leaves an unknown path as an empty 404 and a known path with the wrong method as an empty 405; both
    /// get a JSON error body here (handler errors have already written theirs).
    /// </summary>
    private static async Task UnmatchedAsJsonAsync(HttpContext context, RequestDelegate next)
    {
        await next(context).ConfigureAwait(false);
        var response = context.Response;
        if (response.HasStarted) return;
        if (response.StatusCode == StatusCodes.Status404NotFound)
        {
            await ProxyHttp.WriteErrorAsync(context, ProxyErrorCodes.NotFound,
                $"HTTP 404 Not Found: {context.Request.Method} {context.Request.Path}").ConfigureAwait(false);
        }
        else if (response.StatusCode == StatusCodes.Status405MethodNotAllowed)
        {
            await ProxyHttp.WriteErrorAsync(context, ProxyErrorCodes.MethodNotAllowed,
                $"HTTP 405 Method Not Allowed: {context.Request.Method} {context.Request.Path}").ConfigureAwait(false);
        }
    }

    /// <summary>GET /: always 200 (liveness probes, e.g. Morio's watcher).</summary>
    private static Task GetRootAsync(HttpContext context) =>
        ProxyHttp.WriteBytesAsync(context, StatusCodes.Status200OK, EmptyObject, ProxyFormat.V2);

    private async Task GetBrokersAsync(HttpContext context)
    {
        var format = ProxyHttp.Accept(context.Request, [ProxyFormat.V2], allowNone: true);
        var cluster = await backend.GetMetadataAsync([], false, context.RequestAborted).ConfigureAwait(false);
        var ids = new int[cluster.Brokers.Count];
        for (int i = 0; i < ids.Length; i++) ids[i] = cluster.Brokers[i].NodeId;
        Array.Sort(ids);
        await ProxyHttp.WriteJsonAsync(context, 200, new BrokersBody { Brokers = ids }, ProxyJsonContext.Default.BrokersBody, format)
            .ConfigureAwait(false);
    }

    /// <summary>GET /topics: the names of every topic that is not internal.</summary>
    private async Task GetTopicsAsync(HttpContext context)
    {
        var format = ProxyHttp.Accept(context.Request, [ProxyFormat.V2], allowNone: true);
        var cluster = await backend.GetMetadataAsync(null, false, context.RequestAborted).ConfigureAwait(false);
        var names = new List<string>(cluster.Topics.Count);
        foreach (var topic in cluster.Topics)
        {
            if (!topic.IsInternal && !IsInternalName(topic.Name)) names.Add(topic.Name);
        }
        names.Sort(StringComparer.Ordinal);
        await ProxyHttp.WriteJsonAsync(context, 200, names.ToArray(), ProxyJsonContext.Default.StringArray, format)
            .ConfigureAwait(false);
    }

    /// <summary>Kafka's own internal topics, hidden even if a broker forgot to flag them.</summary>
    private static bool IsInternalName(string name) => name is "__consumer_offsets" or "__transaction_state" or "__cluster_metadata";

    /// <summary>GET /status/ready: 200 once a Metadata request to the cluster succeeds, else 503.</summary>
    private async Task GetReadyAsync(HttpContext context)
    {
        try
        {
            await backend.GetMetadataAsync([], false, context.RequestAborted).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            throw new ProxyException(ProxyErrorCodes.BrokerNotAvailable, $"the cluster is not reachable: {ex.Message}", ex);
        }
        await ProxyHttp.WriteJsonAsync(context, 200, new ReadyBody { Status = "ready" }, ProxyJsonContext.Default.ReadyBody)
            .ConfigureAwait(false);
    }

    /// <summary>The base_uri of a consumer instance: scheme, advertised host (or the request's Host), path.</summary>
    private string BaseUri(HttpContext context, string group, string name)
    {
        var request = context.Request;
        string authority;
        if (options.AdvertisedHost is { Length: > 0 } advertised)
            authority = $"{advertised}:{request.Host.Port ?? context.Connection.LocalPort}";
        else if (request.Host.HasValue)
            authority = request.Host.Value!;
        else if (context.Connection.LocalIpAddress is { AddressFamily: System.Net.Sockets.AddressFamily.InterNetworkV6 } v6)
            authority = $"[{v6}]:{context.Connection.LocalPort}";
        else
            authority = $"{context.Connection.LocalIpAddress}:{context.Connection.LocalPort}";
        return $"{request.Scheme}://{authority}/consumers/{Uri.EscapeDataString(group)}/instances/{Uri.EscapeDataString(name)}";
    }
}

using System.Globalization;
using Broker.Core.Metrics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Broker.Http.Admin;

// Route table, and the cluster, broker, partition, leadership and metrics endpoints.
public sealed partial class AdminApiServer
{
    private void MapRoutes()
    {
        _app.MapGet("/v1/status/ready", new RequestDelegate(ReadyAsync));
        _app.MapGet("/status", new RequestDelegate(ReadyAsync)); // Morio's watcher probes /status (not a Redpanda route)
        _app.MapGet("/v1/cluster/health_overview", new RequestDelegate(HealthOverviewAsync));
        _app.MapGet("/v1/cluster/uuid", new RequestDelegate(ClusterUuidAsync));
        _app.MapGet("/v1/brokers", new RequestDelegate(BrokersAsync));
        _app.MapGet("/v1/brokers/{id}", new RequestDelegate(BrokerAsync));
        _app.MapGet("/v1/partitions/{ns}/{topic}", new RequestDelegate(TopicPartitionsAsync));
        _app.MapGet("/v1/partitions/{ns}/{topic}/{partition}", new RequestDelegate(PartitionAsync));
        _app.MapPost("/v1/partitions/{ns}/{topic}/{partition}/transfer_leadership", new RequestDelegate(TransferLeadershipAsync));
        _app.MapGet("/v1/cluster/partitions", new RequestDelegate(ClusterPartitionsAsync));
        _app.MapGet("/v1/cluster/partitions/{ns}/{topic}", new RequestDelegate(ClusterPartitionsAsync));
        _app.MapGet("/v1/cluster_config", new RequestDelegate(GetClusterConfigAsync));
        _app.MapPut("/v1/cluster_config", new RequestDelegate(PutClusterConfigAsync));
        _app.MapGet("/v1/node_config", new RequestDelegate(NodeConfigAsync));
        _app.MapGet("/metrics", new RequestDelegate(context => MetricsAsync(context, MetricsScope.All)));
        _app.MapGet("/public_metrics", new RequestDelegate(context => MetricsAsync(context, MetricsScope.Public)));
    }

    private Task ReadyAsync(HttpContext context) =>
        OkAsync(context, new ReadyStatus(_backend.IsReady ? "ready" : "booting"), AdminJsonContext.Default.ReadyStatus);

    private Task HealthOverviewAsync(HttpContext context) =>
        OkAsync(context, AdminViews.Health(_backend.Snapshot(), _options.MaxListedPartitions), AdminJsonContext.Default.HealthOverview);

    private Task ClusterUuidAsync(HttpContext context) =>
        OkAsync(context, new ClusterUuidBody(_backend.Snapshot().ClusterId), AdminJsonContext.Default.ClusterUuidBody);

    private Task BrokersAsync(HttpContext context)
    {
        var snapshot = _backend.Snapshot();
        var down = AdminViews.NodesDown(snapshot);
        var list = new List<BrokerInfo>(snapshot.Brokers.Count);
        foreach (var b in snapshot.Brokers) list.Add(AdminViews.Broker(b, _backend, detail: false, down));
        return OkAsync(context, list, AdminJsonContext.Default.ListBrokerInfo);
    }

    private Task BrokerAsync(HttpContext context)
    {
        if (!TryRouteInt(context, "id", "broker id", out int id, out var error)) return error;
        var snapshot = _backend.Snapshot();
        var broker = snapshot.FindBroker(id);
        if (broker is null) return ErrorAsync(context, StatusCodes.Status404NotFound, $"broker {id} not found");
        return OkAsync(context, AdminViews.Broker(broker, _backend, detail: true, AdminViews.NodesDown(snapshot)),
            AdminJsonContext.Default.BrokerInfo);
    }

    private Task TopicPartitionsAsync(HttpContext context)
    {
        string ns = Route(context, "ns"), topic = Route(context, "topic");
        var snapshot = _backend.Snapshot();
        var list = new List<PartitionInfo>();
        if (IsController(ns, topic)) list.Add(AdminViews.ControllerPartition(snapshot));
        else if (ns == AdminViews.KafkaNamespace && snapshot.FindTopic(topic) is { } t)
            foreach (var p in t.Partitions) list.Add(AdminViews.Partition(t.Name, p, detail: true));
        else return ErrorAsync(context, StatusCodes.Status404NotFound, $"topic {ns}/{topic} not found");
        return OkAsync(context, list, AdminJsonContext.Default.ListPartitionInfo);
    }

    private Task PartitionAsync(HttpContext context)
    {
        string ns = Route(context, "ns"), topic = Route(context, "topic");
        if (!TryRouteInt(context, "partition", "partition id", out int partition, out var error)) return error;
        var snapshot = _backend.Snapshot();
        if (IsController(ns, topic))
        {
            return partition == 0
                ? OkAsync(context, AdminViews.ControllerPartition(snapshot), AdminJsonContext.Default.PartitionInfo)
                : ErrorAsync(context, StatusCodes.Status404NotFound, $"partition {ns}/{topic}/{partition} not found");
        }
        if (ns != AdminViews.KafkaNamespace || snapshot.FindTopic(topic) is not { } t)
            return ErrorAsync(context, StatusCodes.Status404NotFound, $"topic {ns}/{topic} not found");
        if ((uint)partition >= (uint)t.Partitions.Count)
            return ErrorAsync(context, StatusCodes.Status404NotFound, $"partition {ns}/{topic}/{partition} not found");
        return OkAsync(context, AdminViews.Partition(t.Name, t.Partitions[partition], detail: true), AdminJsonContext.Default.PartitionInfo);
    }

    private Task ClusterPartitionsAsync(HttpContext context)
    {
        string? ns = context.Request.RouteValues["ns"] as string, topic = context.Request.RouteValues["topic"] as string;
        var snapshot = _backend.Snapshot();
        var list = new List<PartitionInfo>();
        if (ns is not null && ns != AdminViews.KafkaNamespace)
            return ErrorAsync(context, StatusCodes.Status404NotFound, $"namespace {ns} has no topics listed here");
        foreach (var t in snapshot.Topics)
        {
            if (topic is not null && !string.Equals(t.Name, topic, StringComparison.Ordinal)) continue;
            foreach (var p in t.Partitions) list.Add(AdminViews.Partition(t.Name, p, detail: false));
        }
        if (topic is not null && list.Count == 0 && snapshot.FindTopic(topic) is null)
            return ErrorAsync(context, StatusCodes.Status404NotFound, $"topic {ns}/{topic} not found");
        return OkAsync(context, list, AdminJsonContext.Default.ListPartitionInfo);
    }

    /// <summary>
    /// POST .../transfer_leadership?target=N: this node leads → it starts the Raft leadership transfer (200); another
    /// node leads → 307 to that node's Admin API, assumed to listen on the same port as this one on the leader's host
    /// (the host of its registered inter-broker listener, or its controller-quorum address); a request that was
    /// already redirected (redirect=N in the query) is not redirected again (503, retry).
    /// </summary>
    private Task TransferLeadershipAsync(HttpContext context)
    {
        string ns = Route(context, "ns"), topic = Route(context, "topic");
        if (!TryRouteInt(context, "partition", "partition id", out int partition, out var error)) return error;
        int? target = null;
        string? targetText = context.Request.Query["target"];
        if (!string.IsNullOrEmpty(targetText))
        {
            if (!int.TryParse(targetText, NumberStyles.None, CultureInfo.InvariantCulture, out int t))
                return ErrorAsync(context, StatusCodes.Status400BadRequest, $"target must be a node id, got '{targetText}'");
            target = t;
        }
        var outcome = _backend.TransferLeadership(ns, topic, partition, target);
        switch (outcome.Status)
        {
            case TransferStatus.Started or TransferStatus.AlreadyLeader:
                context.Response.StatusCode = StatusCodes.Status200OK;
                return Task.CompletedTask;
            case TransferStatus.UnknownPartition:
                return ErrorAsync(context, StatusCodes.Status404NotFound, outcome.Message);
            case TransferStatus.InvalidTarget:
                return ErrorAsync(context, StatusCodes.Status400BadRequest, outcome.Message);
            case TransferStatus.NotLeader when outcome.LeaderHost is not null && !context.Request.Query.ContainsKey("redirect"):
                string host = outcome.LeaderHost.Contains(':') ? $"[{outcome.LeaderHost}]" : outcome.LeaderHost;
                string query = context.Request.QueryString.Add("redirect", outcome.LeaderId.ToString(CultureInfo.InvariantCulture)).Value ?? "";
                context.Response.Headers.Location = $"http://{host}:{context.Connection.LocalPort}{context.Request.PathBase}{context.Request.Path}{query}";
                return ErrorAsync(context, StatusCodes.Status307TemporaryRedirect, outcome.Message);
            default:
                return ErrorAsync(context, StatusCodes.Status503ServiceUnavailable, outcome.Message);
        }
    }

    private Task MetricsAsync(HttpContext context, MetricsScope scope)
    {
        string text;
        try
        {
            text = _options.RenderMetrics(scope);
        }
        catch (NotImplementedException)
        {
            return ErrorAsync(context, StatusCodes.Status503ServiceUnavailable, "metrics are not available in this build");
        }
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = PrometheusExposition.ContentType;
        context.Response.Headers.CacheControl = "no-store";
        return context.Response.WriteAsync(text, context.RequestAborted);
    }

    private static bool IsController(string ns, string topic) =>
        ns == AdminViews.RedpandaNamespace && topic == AdminViews.ControllerTopic;

    private static string Route(HttpContext context, string name) => context.Request.RouteValues[name] as string ?? "";

    private static bool TryRouteInt(HttpContext context, string name, string what, out int value, out Task error)
    {
        string text = Route(context, name);
        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value))
        {
            error = Task.CompletedTask;
            return true;
        }
        error = ErrorAsync(context, StatusCodes.Status400BadRequest, $"{what} must be a non-negative integer, got '{text}'");
        return false;
    }
}

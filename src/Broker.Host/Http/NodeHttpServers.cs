using Broker.Config;
using Broker.Core.Diagnostics;
using Broker.Http.Admin;
using Broker.Http.Proxy;

namespace Broker.Host.Http;

/// <summary>
/// A node's HTTP servers: the Admin API (admin.listeners) and the HTTP proxy (http.proxy.listeners; broker nodes
/// only, its internal Kafka client bootstraps from this node's own advertised listener). Started by NodeRunner after
/// the node, stopped before it. A listener that cannot bind is a <see cref="StartupException"/>.
/// </summary>
internal sealed class NodeHttpServers : IAsyncDisposable
{
    private static readonly Logger Logger = Log.For("host");
    private static readonly TimeSpan StopBudget = TimeSpan.FromSeconds(2);

    private AdminApiServer? _admin;
    private HttpProxyServer? _proxy;

    private NodeHttpServers() { }

    public IReadOnlyList<string> AdminUrls => _admin?.Urls ?? [];
    public IReadOnlyList<string> ProxyUrls => _proxy?.Urls ?? [];

    public static async Task<NodeHttpServers> StartAsync(BrokerNode node, CancellationToken cancellationToken)
    {
        var config = node.Config;
        var servers = new NodeHttpServers();
        var backend = new NodeAdminBackend(node);
        try
        {
            if (config.AdminListeners.Count > 0)
                servers._admin = await Start("Admin API", config.AdminListeners, listen =>
                    AdminApiServer.StartAsync(new AdminApiOptions { Listen = listen }, backend, cancellationToken)).ConfigureAwait(false);
            else
                Logger.Info("Admin API off (admin.listeners is empty)");

            if (config.HttpProxyListeners.Count == 0)
                Logger.Info("HTTP proxy off (http.proxy.listeners is empty)");
            else if (!config.IsBroker || config.AdvertisedListeners.Count == 0)
                Logger.Info("HTTP proxy not started: a controller-only node serves no Kafka clients");
            else
            {
                var advertised = config.AdvertisedListeners[0];
                string bootstrap = Endpoints.FormatHostPort(advertised.Host, advertised.Port);
                var idleTimeout = TimeSpan.FromMilliseconds(config.HttpProxyConsumerInstanceTimeoutMs);
                servers._proxy = await Start("HTTP proxy", config.HttpProxyListeners, listen =>
                    HttpProxyServer.StartAsync(new HttpProxyOptions
                    {
                        Listen = listen,
                        BootstrapServers = bootstrap,
                        ConsumerInstanceTimeout = idleTimeout,
                    }, cancellationToken)).ConfigureAwait(false);
                backend.ProxyUrls = servers._proxy.Urls;
            }
            return servers;
        }
        catch
        {
            await servers.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Starts one server; any failure other than cancellation becomes a start-up failure naming the addresses.</summary>
    private static async Task<T> Start<T>(string what, IReadOnlyList<HttpEndpoint> endpoints,
        Func<IReadOnlyList<(string Host, int Port)>, Task<T>> start)
    {
        var listen = new List<(string Host, int Port)>(endpoints.Count);
        foreach (var e in endpoints) listen.Add((e.Host, e.Port));
        try
        {
            return await start(listen).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            throw new StartupException($"cannot start the {what} on {string.Join(", ", endpoints)}: {Describe(ex)}", ex);
        }
    }

    private static string Describe(Exception ex)
    {
        string message = ex.Message;
        for (var inner = ex.InnerException; inner is not null; inner = inner.InnerException)
            if (!message.Contains(inner.Message, StringComparison.Ordinal)) message += $" ({inner.Message})";
        return message;
    }

    /// <summary>Stops the proxy and the Admin API, each bounded; never throws.</summary>
    public async ValueTask DisposeAsync()
    {
        var proxy = Interlocked.Exchange(ref _proxy, null);
        var admin = Interlocked.Exchange(ref _admin, null);
        if (proxy is not null) await StopBounded("HTTP proxy", proxy.DisposeAsync().AsTask()).ConfigureAwait(false);
        if (admin is not null) await StopBounded("Admin API", admin.DisposeAsync().AsTask()).ConfigureAwait(false);
    }

    private static async Task StopBounded(string what, Task stopping)
    {
        try
        {
            if (await Task.WhenAny(stopping, Task.Delay(StopBudget)).ConfigureAwait(false) != stopping)
                Logger.Warn($"the {what} did not stop within {StopBudget.TotalSeconds:0} s; going on");
            else await stopping.ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            Logger.Error($"stopping the {what} failed", ex);
        }
    }
}

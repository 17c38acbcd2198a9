using System.Globalization;
using Broker.Client.Connections;
using Broker.Core.Model;

namespace Broker.Client;

// The connection pool: one connection per broker endpoint, opened on demand and replaced when it closes.
public sealed partial class KafkaClient
{
    private readonly (string Host, int Port)[] _bootstrap;
    private readonly object _connectionsLock = new();
    private readonly Dictionary<string, Task<BrokerConnection>> _connections = new(StringComparer.Ordinal);
    private int _anyBrokerCursor;

    /// <summary>
    /// The connection to broker <paramref name="brokerId"/> (its endpoint from the metadata, refreshed once when the id
    /// is unknown), or for -1 any reachable broker: an open connection first, then known brokers, then bootstrap servers.
    /// </summary>
    internal async Task<BrokerConnection> ConnectionForAsync(int brokerId, CancellationToken cancellationToken)
    {
        ThrowIfDisposed();
        if (brokerId >= 0)
        {
            var broker = FindBroker(brokerId);
            if (broker is null)
            {
                await RefreshMetadataAsync(null, cancellationToken).ConfigureAwait(false);
                broker = FindBroker(brokerId)
                    ?? throw new KafkaException(ErrorCode.BrokerNotAvailable, $"broker {brokerId} is not in the cluster metadata");
            }
            return await ConnectAsync(broker.Host, broker.Port, cancellationToken).ConfigureAwait(false);
        }

        var open = AnyOpenConnection();
        if (open is not null) return open;
        var failures = new List<string>();
        var error = ErrorCode.NetworkException;
        foreach (var (host, port) in CandidateEndpoints())
        {
            try
            {
                return await ConnectAsync(host, port, cancellationToken).ConfigureAwait(false);
            }
            catch (KafkaException ex) when (ex.Error is ErrorCode.NetworkException or ErrorCode.RequestTimedOut)
            {
                failures.Add(ex.Message);
                error = ex.Error; // the last failure's kind: all timeouts stay a timeout
            }
        }
        throw new KafkaException(error, failures.Count == 1 ? failures[0] : $"no broker reachable ({string.Join("; ", failures)})");
    }

    /// <summary>The shared connection to host:port, connecting (once, for all callers) when there is none open.</summary>
    internal Task<BrokerConnection> ConnectAsync(string host, int port, CancellationToken cancellationToken)
    {
        string key = $"{host}:{port}";
        Task<BrokerConnection> task;
        lock (_connectionsLock)
        {
            ThrowIfDisposed();
            if (!_connections.TryGetValue(key, out task!) || IsDead(task))
            {
                task = BrokerConnection.ConnectAsync(host, port, _options.ClientId, _options.RequestTimeout, _disposeCts.Token);
                _connections[key] = task;
            }
        }
        return task.WaitAsync(cancellationToken);
    }

    private static bool IsDead(Task<BrokerConnection> task) =>
        task.IsFaulted || task.IsCanceled || (task.IsCompletedSuccessfully && task.Result.IsClosed);

    private BrokerConnection? AnyOpenConnection()
    {
        lock (_connectionsLock)
        {
            foreach (var task in _connections.Values)
                if (task.IsCompletedSuccessfully && !task.Result.IsClosed) return task.Result;
        }
        return null;
    }

    /// <summary>Known brokers (rotating start, so failures spread) followed by the bootstrap servers.</summary>
    private List<(string Host, int Port)> CandidateEndpoints()
    {
        var result = new List<(string, int)>();
        var brokers = _metadata.BrokerList;
        int start = brokers.Count == 0 ? 0 : (int)((uint)Interlocked.Increment(ref _anyBrokerCursor) % (uint)brokers.Count);
        for (int i = 0; i < brokers.Count; i++)
        {
            var b = brokers[(start + i) % brokers.Count];
            result.Add((b.Host, b.Port));
        }
        foreach (var endpoint in _bootstrap)
            if (!result.Contains(endpoint)) result.Add(endpoint);
        return result;
    }

    /// <summary>Parses "host:port[,host:port...]" (IPv6 as [addr]:port); throws <see cref="ArgumentException"/> on bad input.</summary>
    internal static (string Host, int Port)[] ParseBootstrap(string servers)
    {
        if (string.IsNullOrWhiteSpace(servers)) throw new ArgumentException("BootstrapServers is empty", nameof(servers));
        var result = new List<(string, int)>();
        foreach (var raw in servers.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int colon = raw.LastIndexOf(':');
            if (colon <= 0 || colon == raw.Length - 1)
                throw new ArgumentException($"bootstrap server '{raw}' is not host:port", nameof(servers));
            string host = raw[..colon];
            if (host.StartsWith('[') && host.EndsWith(']')) host = host[1..^1];
            if (!int.TryParse(raw.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int port) || port is < 1 or > 65535)
                throw new ArgumentException($"bootstrap server '{raw}' has an invalid port", nameof(servers));
            if (host.Length == 0) throw new ArgumentException($"bootstrap server '{raw}' has no host", nameof(servers));
            result.Add((host, port));
        }
        if (result.Count == 0) throw new ArgumentException("BootstrapServers lists no server", nameof(servers));
        return result.ToArray();
    }
}

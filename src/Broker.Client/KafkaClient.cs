using Broker.Client.Connections;
using Broker.Core.Model;
using Broker.Protocol.Codec;

namespace Broker.Client;

/// <summary>Reads a generated response message (e.g. <c>JoinGroupResponse.Read</c>).</summary>
public delegate T KafkaMessageReader<out T>(ref KafkaReader reader, short version);

// CONTRACT (lead): signatures used by the HTTP proxy and the CLI. The client-core helper implements this file (and
// may split it into partial files); the client-groups helper implements KafkaClient.Groups.cs and GroupConsumer.
/// <summary>
/// A Kafka client: one connection per broker (ApiVersions negotiated on connect, versions chosen as the highest both
/// sides support), metadata cached and refreshed on NOT_LEADER/UNKNOWN_TOPIC errors, requests routed to partition
/// leaders, retriable errors retried within <see cref="KafkaClientOptions.RetryBudget"/>. Thread-safe.
/// Split by concern: .Connections (pool, routing), .Metadata, .Produce, .Fetch, .Admin, .Groups.
/// </summary>
public sealed partial class KafkaClient : IAsyncDisposable
{
    private readonly KafkaClientOptions _options;
    private readonly CancellationTokenSource _disposeCts = new();
    private int _disposed;

    public KafkaClient(KafkaClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.RequestTimeout <= TimeSpan.Zero)
            throw new ArgumentException("RequestTimeout must be positive", nameof(options));
        if (options.RetryBudget < TimeSpan.Zero)
            throw new ArgumentException("RetryBudget must not be negative", nameof(options));
        _options = options;
        _bootstrap = ParseBootstrap(options.BootstrapServers);
    }

    public KafkaClientOptions Options => _options;

    /// <summary>
    /// Low level: sends one request to broker <paramref name="brokerId"/> (-1 = any bootstrap/known broker) at the highest
    /// version both sides support within [<paramref name="minVersion"/>, <paramref name="maxVersion"/>] and reads the
    /// response with <paramref name="read"/>. Throws <see cref="KafkaException"/> on connection failure or timeout.
    /// </summary>
    public async Task<T> SendAsync<T>(int brokerId, short apiKey, short minVersion, short maxVersion, Func<short, IKafkaMessage> request,
        KafkaMessageReader<T> read, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(read);
        var connection = await ConnectionForAsync(brokerId, cancellationToken).ConfigureAwait(false);
        return await SendOnAsync(connection, apiKey, minVersion, maxVersion, request, read, _options.RequestTimeout, cancellationToken)
            .ConfigureAwait(false);
    }

    /// <summary>The API version <see cref="SendAsync{T}"/> would use with broker <paramref name="brokerId"/>, -1 if none fits.</summary>
    public async Task<short> NegotiatedVersionAsync(int brokerId, short apiKey, short minVersion, short maxVersion,
        CancellationToken cancellationToken = default)
    {
        var connection = await ConnectionForAsync(brokerId, cancellationToken).ConfigureAwait(false);
        return connection.ChooseVersion(apiKey, minVersion, maxVersion);
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _disposeCts.Cancel();
        List<Task<BrokerConnection>> connections;
        lock (_connectionsLock)
        {
            connections = new List<Task<BrokerConnection>>(_connections.Values);
            _connections.Clear();
        }
        foreach (var task in connections)
        {
            try
            {
                var connection = await task.ConfigureAwait(false);
                await connection.DisposeAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is KafkaException or OperationCanceledException)
            {
                // never connected: nothing to close
            }
        }
        _disposeCts.Dispose();
    }

    /// <summary>Sends on a given connection (version negotiated against it) and parses the response.</summary>
    internal async Task<T> SendOnAsync<T>(BrokerConnection connection, short apiKey, short minVersion, short maxVersion,
        Func<short, IKafkaMessage> request, KafkaMessageReader<T> read, TimeSpan timeout, CancellationToken cancellationToken)
    {
        short version = RequireVersion(connection, apiKey, minVersion, maxVersion);
        var frame = await connection.SendAsync(apiKey, version, request(version), expectResponse: true, timeout, cancellationToken)
            .ConfigureAwait(false);
        return Parse(connection, apiKey, version, frame, read);
    }

    internal static short RequireVersion(BrokerConnection connection, short apiKey, short minVersion, short maxVersion)
    {
        short version = connection.ChooseVersion(apiKey, minVersion, maxVersion);
        if (version >= 0) return version;
        string brokerRange = connection.ApiVersions.TryGetValue(apiKey, out var r) ? $"v{r.Min}-v{r.Max}" : "none";
        throw new KafkaException(ErrorCode.UnsupportedVersion,
            $"{BrokerConnection.ApiName(apiKey)}: {connection.Endpoint} supports {brokerRange}, this client needs v{minVersion}-v{maxVersion}");
    }

    private static T Parse<T>(BrokerConnection connection, short apiKey, short version, ResponseFrame frame, KafkaMessageReader<T> read)
    {
        var reader = new KafkaReader(frame.Body);
        try
        {
            return read(ref reader, version);
        }
        catch (KafkaProtocolException ex)
        {
            throw new KafkaException(ErrorCode.CorruptMessage,
                $"malformed {BrokerConnection.ApiName(apiKey)} v{version} response from {connection.Endpoint}: {ex.Message}");
        }
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);

    private static long NowMs() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
}

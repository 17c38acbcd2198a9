using System.Diagnostics;
using Broker.Core.Buffers;
using Broker.Core.Diagnostics;
using Broker.Core.Metrics;
using Broker.Network;
using Broker.Protocol.Codec;
using Broker.Protocol.Messages;
using Broker.Server.Handlers;

namespace Broker.Server.Pipeline;

/// <summary>
/// Turns request frames into responses: parses the header, finds the handler, checks the version, runs the
/// handler and writes the response header and body. Malformed requests, unknown API keys and unsupported
/// versions close the connection (Kafka's behaviour) except ApiVersions, which answers an unsupported version
/// with a v0 UNSUPPORTED_VERSION response listing what is supported (KIP-511).
/// Readiness: until the optional <c>ready</c> task completes (the broker registered and was unfenced by the
/// controller), client requests other than ApiVersions wait for it, at most <see cref="MaxReadinessWait"/>; private
/// node-to-node APIs are never held back (a broker catches up with the metadata log through them). Kafka clients
/// send nothing but ApiVersions and Metadata before their first Metadata answer, so the wait keeps request order.
/// Metrics (per API, cached tags, no allocation): broker_kafka_requests_total for every frame,
/// broker_kafka_request_errors_total for requests that fail as a whole (the connection closes), and
/// broker_kafka_request_duration_seconds from the frame's dispatch (readiness wait included) to its response.
/// </summary>
public sealed class KafkaRequestDispatcher : IConnectionHandler
{
    private static readonly Logger Logger = Log.For("kafka");
    public static readonly TimeSpan MaxReadinessWait = TimeSpan.FromSeconds(30);

    /// <summary>The api="..." metric tag per API key (0-127); "Unknown" for keys without a codec.</summary>
    private static readonly KeyValuePair<string, object?>[] ApiTags = CreateApiTags();
    private static readonly KeyValuePair<string, object?> UnknownApiTag = BrokerMeters.Tag("api", "Unknown");

    private readonly HandlerTable _handlers;
    private readonly Task? _ready;

    public KafkaRequestDispatcher(HandlerTable handlers, Task? ready = null)
    {
        _handlers = handlers;
        _ready = ready;
    }

    public ValueTask<ChunkedBufferWriter?> HandleAsync(ConnectionContext connection, ReadOnlyMemory<byte> frame)
    {
        long started = Stopwatch.GetTimestamp();
        var reader = new KafkaReader(frame);
        RequestHeader header;
        try
        {
            header = RequestHeader.Read(ref reader);
        }
        catch (KafkaProtocolException ex)
        {
            CountFailed(UnknownApiTag);
            throw new ProtocolViolationException($"malformed request header: {ex.Message}");
        }

        var apiTag = ApiTag(header.ApiKey);
        BrokerMeters.KafkaRequests.Add(1, apiTag);
        var handler = _handlers.Get(header.ApiKey);
        if (handler is null)
        {
            BrokerMeters.KafkaRequestErrors.Add(1, apiTag);
            throw new ProtocolViolationException($"unsupported API key {header.ApiKey} (client {header.ClientId})");
        }
        if (header.ApiVersion < handler.MinVersion || header.ApiVersion > handler.MaxVersion)
        {
            if (handler is ApiVersionsHandler apiVersions)
                return new(WriteResponse(new RequestContext(connection, header with { ApiVersion = 0 }), apiVersions.UnsupportedVersionResponse(), started));
            BrokerMeters.KafkaRequestErrors.Add(1, apiTag);
            throw new ProtocolViolationException(
                $"unsupported version {header.ApiVersion} of {handler.Key} (supported {handler.MinVersion}-{handler.MaxVersion}, client {header.ClientId})");
        }

        if (_ready is { IsCompleted: false } && handler is not ApiVersionsHandler && !_handlers.IsInternal(header.ApiKey))
            return HandleWhenReadyAsync(connection, frame, started);
        return Dispatch(connection, header, handler, ref reader, started);
    }

    private async ValueTask<ChunkedBufferWriter?> HandleWhenReadyAsync(ConnectionContext connection, ReadOnlyMemory<byte> frame, long started)
    {
        try { await _ready!.WaitAsync(MaxReadinessWait).ConfigureAwait(false); }
        catch (TimeoutException) { Logger.Warn($"serving a request before this broker is ready (waited {MaxReadinessWait.TotalSeconds:0} s)"); }
        catch (Exception) { /* a failed start closes the listener anyway; answer with what we have */ }
        return await DispatchAgain(connection, frame, started).ConfigureAwait(false);
    }

    /// <summary>Dispatches a frame whose header was already checked (and counted) by <see cref="HandleAsync"/>.</summary>
    private ValueTask<ChunkedBufferWriter?> DispatchAgain(ConnectionContext connection, ReadOnlyMemory<byte> frame, long started)
    {
        var reader = new KafkaReader(frame);
        var header = RequestHeader.Read(ref reader);
        return Dispatch(connection, header, _handlers.Get(header.ApiKey)!, ref reader, started);
    }

    private ValueTask<ChunkedBufferWriter?> Dispatch(ConnectionContext connection, RequestHeader header, IKafkaHandler handler, ref KafkaReader reader, long started)
    {
        var context = new RequestContext(connection, header);
        ValueTask<IKafkaMessage?> pending;
        try
        {
            pending = handler.Handle(context, ref reader);
        }
        catch (KafkaProtocolException ex)
        {
            BrokerMeters.KafkaRequestErrors.Add(1, ApiTag(header.ApiKey));
            context.TakeResponseWriter()?.Dispose();
            throw new ProtocolViolationException($"malformed {handler.Key} v{header.ApiVersion} request: {ex.Message}");
        }
        catch
        {
            BrokerMeters.KafkaRequestErrors.Add(1, ApiTag(header.ApiKey));
            throw;
        }
        if (pending.IsCompletedSuccessfully) return new(WriteResponse(context, pending.Result, started));
        return CompleteAsync(context, pending, started);
    }

    public void OnConnectionClosed(ConnectionContext connection) { }

    private static async ValueTask<ChunkedBufferWriter?> CompleteAsync(RequestContext context, ValueTask<IKafkaMessage?> pending, long started)
    {
        IKafkaMessage? response;
        try
        {
            response = await pending.ConfigureAwait(false);
        }
        catch
        {
            BrokerMeters.KafkaRequestErrors.Add(1, ApiTag(context.Header.ApiKey));
            context.TakeResponseWriter()?.Dispose();
            throw;
        }
        return WriteResponse(context, response, started);
    }

    private static KeyValuePair<string, object?> ApiTag(short apiKey) =>
        (uint)apiKey < (uint)ApiTags.Length ? ApiTags[apiKey] : UnknownApiTag;

    private static void CountFailed(KeyValuePair<string, object?> apiTag)
    {
        BrokerMeters.KafkaRequests.Add(1, apiTag);
        BrokerMeters.KafkaRequestErrors.Add(1, apiTag);
    }

    private static KeyValuePair<string, object?>[] CreateApiTags()
    {
        var tags = new KeyValuePair<string, object?>[128];
        Array.Fill(tags, BrokerMeters.Tag("api", "Unknown"));
        foreach (var entry in ApiMessages.All)
            if ((uint)(short)entry.Key < (uint)tags.Length) tags[(short)entry.Key] = BrokerMeters.Tag("api", entry.Name);
        return tags;
    }

    private static ChunkedBufferWriter? WriteResponse(RequestContext context, IKafkaMessage? response, long started)
    {
        BrokerMeters.KafkaRequestDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, ApiTag(context.Header.ApiKey));
        if (response is null)
        {
            context.TakeResponseWriter()?.Dispose();
            return null;
        }
        var output = context.ResponseWriter;
        var writer = new KafkaWriter(output);
        context.Header.WriteResponseHeader(ref writer);
        response.Write(ref writer, context.ApiVersion);
        if (Logger.IsDebugEnabled)
            Logger.Debug($"{(ApiKey)context.Header.ApiKey} v{context.ApiVersion} corr={context.Header.CorrelationId} -> {output.Length} bytes");
        return context.TakeResponseWriter();
    }
}

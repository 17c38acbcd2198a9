using Broker.Core.Buffers;
using Broker.Core.Diagnostics;
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
/// </summary>
public sealed class KafkaRequestDispatcher : IConnectionHandler
{
    private static readonly Logger Logger = Log.For("kafka");
    private readonly HandlerTable _handlers;

    public KafkaRequestDispatcher(HandlerTable handlers) => _handlers = handlers;

    public ValueTask<ChunkedBufferWriter?> HandleAsync(ConnectionContext connection, ReadOnlyMemory<byte> frame)
    {
        var reader = new KafkaReader(frame);
        RequestHeader header;
        try
        {
            header = RequestHeader.Read(ref reader);
        }
        catch (KafkaProtocolException ex)
        {
            throw new ProtocolViolationException($"malformed request header: {ex.Message}");
        }

        var handler = _handlers.Get(header.ApiKey);
        if (handler is null)
            throw new ProtocolViolationException($"unsupported API key {header.ApiKey} (client {header.ClientId})");
        if (header.ApiVersion < handler.MinVersion || header.ApiVersion > handler.MaxVersion)
        {
            if (handler is ApiVersionsHandler apiVersions)
                return new(WriteResponse(new RequestContext(connection, header with { ApiVersion = 0 }), apiVersions.UnsupportedVersionResponse()));
            throw new ProtocolViolationException(
                $"unsupported version {header.ApiVersion} of {handler.Key} (supported {handler.MinVersion}-{handler.MaxVersion}, client {header.ClientId})");
        }

        var context = new RequestContext(connection, header);
        ValueTask<IKafkaMessage?> pending;
        try
        {
            pending = handler.Handle(context, ref reader);
        }
        catch (KafkaProtocolException ex)
        {
            context.TakeResponseWriter()?.Dispose();
            throw new ProtocolViolationException($"malformed {handler.Key} v{header.ApiVersion} request: {ex.Message}");
        }
        if (pending.IsCompletedSuccessfully) return new(WriteResponse(context, pending.Result));
        return CompleteAsync(context, pending);
    }

    public void OnConnectionClosed(ConnectionContext connection) { }

    private static async ValueTask<ChunkedBufferWriter?> CompleteAsync(RequestContext context, ValueTask<IKafkaMessage?> pending)
    {
        IKafkaMessage? response;
        try
        {
            response = await pending.ConfigureAwait(false);
        }
        catch
        {
            context.TakeResponseWriter()?.Dispose();
            throw;
        }
        return WriteResponse(context, response);
    }

    private static ChunkedBufferWriter? WriteResponse(RequestContext context, IKafkaMessage? response)
    {
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

using Broker.Core.Buffers;
using Broker.Network;
using Broker.Protocol.Codec;

namespace Broker.Server.Pipeline;

/// <summary>Everything a handler knows about the request it is serving.</summary>
public sealed class RequestContext
{
    private ChunkedBufferWriter? _response;

    public RequestContext(ConnectionContext connection, RequestHeader header)
    {
        Connection = connection;
        Header = header;
    }

    public ConnectionContext Connection { get; }
    public RequestHeader Header { get; }
    public short ApiVersion => Header.ApiVersion;
    public string? ClientId => Header.ClientId;

    /// <summary>
    /// Keeps memory referenced by the response (mapped log segments) alive until the response has been sent.
    /// </summary>
    public void AddResponseLease(IDisposable lease) => ResponseWriter.AddLease(lease);

    internal ChunkedBufferWriter ResponseWriter => _response ??= new ChunkedBufferWriter();

    internal ChunkedBufferWriter? TakeResponseWriter()
    {
        var w = _response;
        _response = null;
        return w;
    }
}

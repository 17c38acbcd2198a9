using System.Net;
using Broker.Core.Buffers;

namespace Broker.Network;

/// <summary>
/// What a listener hands complete request frames to (Kestrel's ConnectionHandler idea, narrowed to Kafka framing).
/// The transport owns sockets, the 4-byte size framing, limits and per-connection response ordering; the
/// handler owns the protocol.
/// </summary>
public interface IConnectionHandler
{
    /// <summary>
    /// Handles one request frame (the bytes after the 4-byte size prefix). Calls for one connection are made one
    /// at a time in arrival order, and the next call starts as soon as the previous call *returns* its task, so
    /// order-sensitive work (appends) must happen in the synchronous part before the first await (two-phase:
    /// dispatch in order, complete later). <paramref name="frame"/> stays valid until the returned task completes.
    /// The task's result is the response (the transport writes its size prefix, sends its chunks in request order
    /// and disposes it) or null when no response is due (Produce with acks=0).
    /// Throwing <see cref="ProtocolViolationException"/> closes the connection with a log line.
    /// </summary>
    ValueTask<ChunkedBufferWriter?> HandleAsync(ConnectionContext connection, ReadOnlyMemory<byte> frame);

    /// <summary>Called once when a connection closes, for per-connection cleanup.</summary>
    void OnConnectionClosed(ConnectionContext connection) { }
}

/// <summary>Per-connection facts a handler may need.</summary>
public sealed class ConnectionContext(long id, string listenerName, EndPoint? remote, EndPoint? local)
{
    public long Id { get; } = id;
    public string ListenerName { get; } = listenerName;
    public EndPoint? RemoteEndPoint { get; } = remote;
    public EndPoint? LocalEndPoint { get; } = local;
    /// <summary>Cancelled when the connection closes (long polls stop waiting).</summary>
    public CancellationToken Closed { get; init; }
}

/// <summary>A malformed request: the connection is closed and nothing else is affected.</summary>
public sealed class ProtocolViolationException(string message) : Exception(message);

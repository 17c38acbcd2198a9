using System.Buffers;
using System.Net;

namespace Broker.Network;

/// <summary>
/// Settings of one <see cref="KafkaListener"/>. Names in comments are the Kafka server.properties keys they mirror.
/// </summary>
public sealed record KafkaListenerOptions
{
    /// <summary>Kafka's socket.request.max.bytes default (100 MiB).</summary>
    public const int DefaultMaxRequestBytes = 104_857_600;

    /// <summary>The listener name from <c>listeners</c> (e.g. PLAINTEXT); handed to handlers in the context.</summary>
    public required string ListenerName { get; init; }

    /// <summary>Address and port to bind. Port 0 picks a free port; read it from <see cref="KafkaListener.BoundEndPoint"/>.</summary>
    public required IPEndPoint EndPoint { get; init; }

    /// <summary>socket.request.max.bytes: a size prefix above this (or negative) closes the connection.</summary>
    public int MaxRequestBytes { get; init; } = DefaultMaxRequestBytes;

    /// <summary>
    /// Requests dispatched but not yet answered (response not yet written) per connection. At the limit the
    /// connection stops reading from its socket until a response has been sent (backpressure).
    /// </summary>
    public int MaxInFlightRequestsPerConnection { get; init; } = 100;

    /// <summary>socket.send.buffer.bytes (SO_SNDBUF); -1 or 0 keeps the OS default.</summary>
    public int SocketSendBufferBytes { get; init; } = -1;

    /// <summary>socket.receive.buffer.bytes (SO_RCVBUF); -1 or 0 keeps the OS default.</summary>
    public int SocketReceiveBufferBytes { get; init; } = -1;

    /// <summary>TCP_NODELAY on accepted sockets (Kafka always sets it).</summary>
    public bool NoDelay { get; init; } = true;

    /// <summary>
    /// Send record bytes that are regions of segment files with sendfile(2) instead of from the mapped pages (Linux,
    /// plaintext; see KafkaConnection.Send.cs). Off = always send from memory. Default: on, unless the environment
    /// variable BROKER_SENDFILE is "0" (an escape hatch and the switch perf measurements use).
    /// </summary>
    public bool SendFile { get; init; } = Environment.GetEnvironmentVariable("BROKER_SENDFILE") != "0";

    /// <summary>socket.listen.backlog.size.</summary>
    public int ListenBacklog { get; init; } = 50;

    /// <summary>
    /// Size of the per-connection read-ahead buffer (rented only while data is arriving). Frames up to this size
    /// are assembled in it and copied out; larger frames are received straight into their own pooled buffer.
    /// </summary>
    public int ReceiveBufferBytes { get; init; } = 16 * 1024;

    /// <summary>How long <see cref="KafkaListener.StopAsync"/> waits for connections to finish.</summary>
    public TimeSpan ShutdownTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Pool for receive and frame buffers (tests inject a counting pool). Default: ArrayPool.Shared.</summary>
    public ArrayPool<byte>? BufferPool { get; init; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(ListenerName)) throw new ArgumentException("ListenerName must not be empty.");
        if (EndPoint is null) throw new ArgumentException("EndPoint is required.");
        if (MaxRequestBytes <= 0)
            throw new ArgumentException($"MaxRequestBytes (socket.request.max.bytes) must be positive, got {MaxRequestBytes}.");
        if (MaxInFlightRequestsPerConnection <= 0)
            throw new ArgumentException(
                $"MaxInFlightRequestsPerConnection must be positive, got {MaxInFlightRequestsPerConnection}.");
        if (ListenBacklog <= 0) throw new ArgumentException($"ListenBacklog must be positive, got {ListenBacklog}.");
        if (ReceiveBufferBytes < 64)
            throw new ArgumentException($"ReceiveBufferBytes must be at least 64, got {ReceiveBufferBytes}.");
        if (ShutdownTimeout < TimeSpan.Zero) throw new ArgumentException("ShutdownTimeout must not be negative.");
    }
}

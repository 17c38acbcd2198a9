using System.Buffers.Binary;
using System.Net.Sockets;
using Broker.Core.Buffers;
using Broker.Protocol.Codec;
using Broker.Protocol.Messages;

namespace Broker.Server.Lifecycle;

/// <summary>
/// One plain TCP connection from a broker to a controller listener, speaking Kafka framing (4-byte big-endian size
/// prefix) with our codec, one request at a time. Every connect and round trip is bounded by a timeout; any
/// failure (timeout, reset, malformed or mismatched response) throws <see cref="ControllerChannelException"/> and
/// leaves the channel unusable, so the caller drops it and connects anew.
/// </summary>
internal sealed class ControllerChannel : IDisposable
{
    /// <summary>Lifecycle responses are tiny; anything larger is a protocol error, not something to allocate.</summary>
    public const int DefaultMaxResponseBytes = 1024 * 1024;

    private readonly Socket _socket;
    private readonly string _clientId;
    private readonly int _maxResponseBytes;
    private int _correlationId;
    private bool _broken;

    private ControllerChannel(Socket socket, string endpoint, string clientId, int maxResponseBytes)
    {
        _socket = socket;
        Endpoint = endpoint;
        _clientId = clientId;
        _maxResponseBytes = maxResponseBytes;
    }

    public string Endpoint { get; }

    public delegate T ResponseReader<T>(ref KafkaReader reader, short version);

    /// <param name="maxResponseBytes">Largest response frame accepted (admin responses forwarded for many topics
    /// are bigger than lifecycle ones); a larger size is treated as a protocol error.</param>
    public static async Task<ControllerChannel> ConnectAsync(string host, int port, string clientId, TimeSpan timeout, CancellationToken cancellationToken,
        int maxResponseBytes = DefaultMaxResponseBytes)
    {
        string endpoint = $"{host}:{port}";
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        try
        {
            await socket.ConnectAsync(host, port, cts.Token).ConfigureAwait(false);
            return new ControllerChannel(socket, endpoint, clientId, maxResponseBytes);
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            socket.Dispose();
            throw new ControllerChannelException(ex is OperationCanceledException
                ? $"connecting to {endpoint} timed out after {timeout.TotalMilliseconds:0} ms"
                : $"connecting to {endpoint} failed: {ex.Message}", ex);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Sends <paramref name="request"/> and reads its response, all within <paramref name="timeout"/>.</summary>
    public async Task<T> SendAsync<T>(ApiKey apiKey, short version, IKafkaMessage request, ResponseReader<T> read,
        TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (_broken) throw new ControllerChannelException($"the connection to {Endpoint} is broken");
        int correlationId = ++_correlationId;
        byte[] frame = Encode((short)apiKey, version, correlationId, _clientId, request);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        try
        {
            await _socket.SendAsync(frame, SocketFlags.None, cts.Token).ConfigureAwait(false);
            var sizeBytes = new byte[4];
            await ReceiveExactlyAsync(sizeBytes, cts.Token).ConfigureAwait(false);
            int size = BinaryPrimitives.ReadInt32BigEndian(sizeBytes);
            if (size < 4 || size > _maxResponseBytes)
                throw new ControllerChannelException($"{Endpoint} sent a response of invalid size {size}");
            var body = new byte[size];
            await ReceiveExactlyAsync(body, cts.Token).ConfigureAwait(false);
            return Decode(body, (short)apiKey, version, correlationId, read);
        }
        catch (Exception ex) when (ex is SocketException or IOException or KafkaProtocolException or ObjectDisposedException
                                   || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            _broken = true;
            throw new ControllerChannelException(ex is OperationCanceledException
                ? $"{apiKey} to {Endpoint} timed out after {timeout.TotalMilliseconds:0} ms"
                : $"{apiKey} to {Endpoint} failed: {ex.Message}", ex);
        }
        catch
        {
            _broken = true;
            throw;
        }
    }

    private async Task ReceiveExactlyAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        while (buffer.Length > 0)
        {
            int n = await _socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken).ConfigureAwait(false);
            if (n == 0) throw new ControllerChannelException($"{Endpoint} closed the connection");
            buffer = buffer[n..];
        }
    }

    private static byte[] Encode(short apiKey, short version, int correlationId, string clientId, IKafkaMessage request)
    {
        using var output = new ChunkedBufferWriter(1024);
        var writer = new KafkaWriter(output);
        new RequestHeader(apiKey, version, correlationId, clientId).Write(ref writer);
        request.Write(ref writer, version);
        output.WriteSizePrefix();
        return output.ToArray();
    }

    private T Decode<T>(byte[] body, short apiKey, short version, int correlationId, ResponseReader<T> read)
    {
        var reader = new KafkaReader(body);
        int got = RequestHeader.ReadResponseHeader(ref reader, apiKey, version);
        if (got != correlationId)
            throw new ControllerChannelException($"{Endpoint} answered correlation id {got}, expected {correlationId}");
        return read(ref reader, version);
    }

    public void Dispose()
    {
        _broken = true;
        try { _socket.Shutdown(SocketShutdown.Both); }
        catch (SocketException) { }
        catch (ObjectDisposedException) { }
        _socket.Dispose();
    }
}

/// <summary>A controller connection failed (connect, send, receive, timeout or a malformed response).</summary>
public sealed class ControllerChannelException(string message, Exception? inner = null) : Exception(message, inner);

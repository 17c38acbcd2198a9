using System.Buffers.Binary;
using System.Net.Sockets;
using Broker.Core.Buffers;
using Broker.Core.Model;
using Broker.Protocol.Codec;
using Broker.Protocol.Messages;

namespace Broker.Client.Connections;

/// <summary>
/// One TCP connection to one broker: requests are framed (size prefix, request header v1/v2) and written one after
/// another; a background loop reads responses and completes them by correlation id, so any number of requests can
/// be in flight. ApiVersions is negotiated right after connecting. A request that times out closes the connection
/// (its framing can no longer be trusted to line up), and so does any network or framing error: every pending
/// request then fails with a <see cref="KafkaException"/> and the owner opens a new connection.
/// </summary>
internal sealed partial class BrokerConnection : IAsyncDisposable
{
    /// <summary>The largest response frame accepted (a fetch of many partitions can be large, but not this large).</summary>
    public const int MaxResponseBytes = 256 * 1024 * 1024;

    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private readonly string _clientId;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly Dictionary<int, PendingRequest> _pending = new();
    private readonly CancellationTokenSource _closeCts = new();
    private readonly TaskCompletionSource _closedTcs = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private KafkaException? _closedReason;
    private int _nextCorrelationId;
    private Task _readLoop = Task.CompletedTask;

    private BrokerConnection(Socket socket, string host, int port, string clientId)
    {
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: true);
        _clientId = clientId;
        Host = host;
        Port = port;
    }

    public string Host { get; }
    public int Port { get; }
    public string Endpoint => $"{Host}:{Port}";
    public bool IsClosed => Volatile.Read(ref _closedReason) is not null;
    /// <summary>Completes when the connection closes, for whatever reason.</summary>
    public Task Closed => _closedTcs.Task;

    /// <summary>Opens a connection and negotiates API versions within <paramref name="timeout"/>.</summary>
    public static async Task<BrokerConnection> ConnectAsync(string host, int port, string clientId, TimeSpan timeout,
        CancellationToken cancellationToken)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        using (var timeoutCts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            timeoutCts.CancelAfter(timeout);
            try
            {
                await socket.ConnectAsync(host, port, timeoutCts.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                socket.Dispose();
                throw new KafkaException(ErrorCode.RequestTimedOut, $"connecting to {host}:{port} timed out after {timeout.TotalMilliseconds:F0} ms");
            }
            catch (Exception ex) when (ex is SocketException or IOException)
            {
                socket.Dispose();
                throw new KafkaException(ErrorCode.NetworkException, $"cannot connect to {host}:{port}: {ex.Message}", ex);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }

        var connection = new BrokerConnection(socket, host, port, clientId);
        connection._readLoop = Task.Run(connection.ReadLoopAsync, CancellationToken.None);
        try
        {
            await connection.NegotiateVersionsAsync(timeout, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        return connection;
    }

    /// <summary>
    /// Sends <paramref name="body"/> as <paramref name="apiKey"/> v<paramref name="version"/> and waits for the response
    /// (unless <paramref name="expectResponse"/> is false: Produce with acks=0). Throws <see cref="KafkaException"/>
    /// (RequestTimedOut, NetworkException) on failure; <see cref="OperationCanceledException"/> when cancelled.
    /// </summary>
    public async Task<ResponseFrame> SendAsync(short apiKey, short version, IKafkaMessage body, bool expectResponse,
        TimeSpan timeout, CancellationToken cancellationToken)
    {
        ThrowIfClosed();
        int correlationId = Interlocked.Increment(ref _nextCorrelationId);
        PendingRequest? pending = null;
        if (expectResponse)
        {
            pending = new PendingRequest(apiKey, version);
            lock (_pending)
            {
                ThrowIfClosed();
                _pending.Add(correlationId, pending);
            }
        }

        using var timeoutCts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _closeCts.Token);
        timeoutCts.CancelAfter(timeout);
        try
        {
            await WriteRequestAsync(apiKey, version, correlationId, body, timeoutCts.Token).ConfigureAwait(false);
            if (pending is null) return default;
            return await pending.Task.WaitAsync(timeoutCts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            if (_closedReason is { } closed) throw Rethrowable(closed);
            var timedOut = new KafkaException(ErrorCode.RequestTimedOut,
                $"{ApiName(apiKey)} v{version} to {Endpoint} timed out after {timeout.TotalMilliseconds:F0} ms");
            Close(timedOut);
            throw timedOut;
        }
        finally
        {
            // Answered requests are gone already; a failed or cancelled one must not linger (its late answer is dropped).
            if (pending is not null) Forget(correlationId);
        }
    }

    public async ValueTask DisposeAsync()
    {
        Close(new KafkaException(ErrorCode.NetworkException, $"connection to {Endpoint} closed by the client"));
        try { await _readLoop.ConfigureAwait(false); } catch (Exception) { /* the loop reports through Close */ }
        // _writeLock and _closeCts are left to the GC (no timers or wait handles): a racing SendAsync may still touch them.
    }

    /// <summary>Closes the connection and fails every pending request with <paramref name="reason"/> (first reason wins).</summary>
    public void Close(KafkaException reason)
    {
        if (Interlocked.CompareExchange(ref _closedReason, reason, null) is not null) return;
        try { _closeCts.Cancel(); } catch (ObjectDisposedException) { }
        try { _socket.Shutdown(SocketShutdown.Both); } catch (Exception ex) when (ex is SocketException or ObjectDisposedException) { }
        _stream.Dispose();
        PendingRequest[] failed;
        lock (_pending)
        {
            failed = new PendingRequest[_pending.Count];
            _pending.Values.CopyTo(failed, 0);
            _pending.Clear();
        }
        foreach (var p in failed) p.TrySetException(Rethrowable(reason));
        _closedTcs.TrySetResult();
    }

    private async Task WriteRequestAsync(short apiKey, short version, int correlationId, IKafkaMessage body, CancellationToken token)
    {
        using var frame = Encode(apiKey, version, correlationId, _clientId, body);
        await _writeLock.WaitAsync(token).ConfigureAwait(false);
        try
        {
            ThrowIfClosed();
            try
            {
                foreach (var chunk in frame.GetChunks()) await _stream.WriteAsync(chunk, token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
            {
                // A partly written frame ruins the stream for every later request.
                var reason = ex is OperationCanceledException
                    ? new KafkaException(ErrorCode.RequestTimedOut, $"writing {ApiName(apiKey)} to {Endpoint} did not finish in time")
                    : new KafkaException(ErrorCode.NetworkException, $"connection to {Endpoint} failed while sending: {ex.Message}", ex);
                Close(reason);
                if (ex is OperationCanceledException) throw;
                throw Rethrowable(_closedReason ?? reason);
            }
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>Encodes size prefix + request header + body into pooled chunks.</summary>
    internal static ChunkedBufferWriter Encode(short apiKey, short version, int correlationId, string clientId, IKafkaMessage body)
    {
        var output = new ChunkedBufferWriter();
        try
        {
            var writer = new KafkaWriter(output);
            new RequestHeader(apiKey, version, correlationId, clientId).Write(ref writer);
            body.Write(ref writer, version);
            output.WriteSizePrefix();
            return output;
        }
        catch
        {
            output.Dispose();
            throw;
        }
    }

    private async Task ReadLoopAsync()
    {
        var sizeBuffer = new byte[4];
        var token = _closeCts.Token;
        try
        {
            while (true)
            {
                await _stream.ReadExactlyAsync(sizeBuffer, token).ConfigureAwait(false);
                int size = BinaryPrimitives.ReadInt32BigEndian(sizeBuffer);
                if (size < 4 || size > MaxResponseBytes)
                    throw new KafkaException(ErrorCode.CorruptMessage, $"{Endpoint} sent a response frame of {size} bytes");
                var frame = new byte[size];
                await _stream.ReadExactlyAsync(frame, token).ConfigureAwait(false);
                Dispatch(frame);
            }
        }
        catch (KafkaException ex)
        {
            Close(ex);
        }
        catch (OperationCanceledException)
        {
            Close(new KafkaException(ErrorCode.NetworkException, $"connection to {Endpoint} closed"));
        }
        catch (EndOfStreamException)
        {
            Close(new KafkaException(ErrorCode.NetworkException, $"connection to {Endpoint} closed by the broker"));
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException)
        {
            Close(new KafkaException(ErrorCode.NetworkException, $"connection to {Endpoint} failed: {ex.Message}", ex));
        }
    }

    private void Dispatch(byte[] frame)
    {
        int correlationId = BinaryPrimitives.ReadInt32BigEndian(frame);
        PendingRequest? pending;
        lock (_pending) _pending.Remove(correlationId, out pending);
        if (pending is null) return; // the caller gave up on it (cancelled); nothing waits for it
        int bodyOffset = 4;
        if (pending.ApiKey != (short)ApiKey.ApiVersions && RequestHeader.IsFlexible(pending.ApiKey, pending.Version))
        {
            var reader = new KafkaReader(frame.AsMemory(4));
            try
            {
                reader.SkipTaggedFields();
            }
            catch (KafkaProtocolException ex)
            {
                pending.TrySetException(new KafkaException(ErrorCode.CorruptMessage,
                    $"malformed {ApiName(pending.ApiKey)} response header from {Endpoint}: {ex.Message}"));
                return;
            }
            bodyOffset += reader.Position;
        }
        pending.TrySetResult(new ResponseFrame(frame, bodyOffset));
    }

    private void Forget(int correlationId)
    {
        lock (_pending) _pending.Remove(correlationId);
    }

    private void ThrowIfClosed()
    {
        if (Volatile.Read(ref _closedReason) is { } reason) throw Rethrowable(reason);
    }

    /// <summary>A fresh exception carrying the close reason (one exception object must not be thrown from many tasks).</summary>
    private static KafkaException Rethrowable(KafkaException reason) => new(reason.Error, reason.Message, reason.InnerException);

    internal static string ApiName(short apiKey) =>
        ApiMessages.TryGet(apiKey, out var entry) ? entry.Name : $"api {apiKey}";

    private sealed class PendingRequest(short apiKey, short version)
        : TaskCompletionSource<ResponseFrame>(TaskCreationOptions.RunContinuationsAsynchronously)
    {
        public short ApiKey { get; } = apiKey;
        public short Version { get; } = version;
    }
}

/// <summary>A response frame (correlation id first) and where its body starts, after the response header.</summary>
internal readonly record struct ResponseFrame(byte[] Frame, int BodyOffset)
{
    public ReadOnlyMemory<byte> Body => Frame.AsMemory(BodyOffset);
}

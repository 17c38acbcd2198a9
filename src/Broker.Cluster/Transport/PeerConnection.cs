using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net.Sockets;
using Broker.Core.Buffers;
using Broker.Core.Diagnostics;
using Broker.Protocol.Codec;
using Broker.Protocol.Messages;

namespace Broker.Cluster.Transport;

/// <summary>
/// One outbound TCP connection to a peer's controller listener. The owning <see cref="PeerSender"/> writes
/// envelopes (one writer at a time); an ack loop reads the responses, which must come back in request order, and
/// frees an in-flight slot per ack. Any failure — reset, EOF, timeout, an out-of-order or malformed response —
/// breaks the connection for good; the sender then connects anew.
/// </summary>
internal sealed class PeerConnection : IDisposable
{
    private static readonly Logger Logger = Log.For("raft-transport");
    /// <summary>Acks are a few bytes; anything larger is a protocol error, not something to allocate.</summary>
    private const int MaxResponseBytes = 64 * 1024;

    private readonly RaftPeerTransport _owner;
    private readonly Socket _socket;
    private readonly string _clientId;
    private readonly CancellationTokenSource _cts;
    private readonly SemaphoreSlim _slots;
    private readonly ConcurrentQueue<InFlight> _inFlight = new();
    private readonly TimeSpan _requestTimeout;
    private Task _ackLoop = Task.CompletedTask;
    private int _correlationId;
    private int _broken;

    private PeerConnection(RaftPeerTransport owner, int nodeId, PeerAddress address, Socket socket, string clientId, CancellationToken stopping)
    {
        _owner = owner;
        NodeId = nodeId;
        Address = address;
        _socket = socket;
        _clientId = clientId;
        _cts = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        _slots = new SemaphoreSlim(owner.Options.MaxInFlightEnvelopes, owner.Options.MaxInFlightEnvelopes);
        _requestTimeout = owner.Options.RequestTimeout;
    }

    public int NodeId { get; }
    public PeerAddress Address { get; }
    public bool IsBroken => Volatile.Read(ref _broken) != 0;

    public static async Task<PeerConnection> ConnectAsync(RaftPeerTransport owner, int nodeId, PeerAddress address, string clientId,
        CancellationToken stopping)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        cts.CancelAfter(owner.Options.ConnectTimeout);
        try
        {
            await socket.ConnectAsync(address.Host, address.Port, cts.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException && !stopping.IsCancellationRequested)
        {
            socket.Dispose();
            throw new PeerConnectionException(ex is OperationCanceledException
                ? $"connecting to node {nodeId} at {address} timed out after {owner.Options.ConnectTimeout.TotalMilliseconds:0} ms"
                : $"connecting to node {nodeId} at {address} failed: {ex.Message}");
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        var connection = new PeerConnection(owner, nodeId, address, socket, clientId, stopping);
        connection._ackLoop = Task.Run(connection.AckLoopAsync);
        return connection;
    }

    /// <summary>Waits for an in-flight slot; false when the connection broke (or an ack is overdue, which breaks it).</summary>
    public async ValueTask<bool> WaitForSlotAsync()
    {
        if (IsBroken) return false;
        if (_inFlight.TryPeek(out InFlight oldest) && Environment.TickCount64 - oldest.SentAtMs > (long)_requestTimeout.TotalMilliseconds)
        {
            Break($"no ack from node {NodeId} within {_requestTimeout.TotalMilliseconds:0} ms");
            return false;
        }
        try
        {
            if (await _slots.WaitAsync(_requestTimeout, _cts.Token).ConfigureAwait(false)) return true;
            Break($"no ack from node {NodeId} within {_requestTimeout.TotalMilliseconds:0} ms");
        }
        catch (OperationCanceledException)
        {
        }
        catch (ObjectDisposedException)
        {
        }
        return false;
    }

    public void ReleaseSlot()
    {
        try { _slots.Release(); }
        catch (SemaphoreFullException) { }
        catch (ObjectDisposedException) { }
    }

    /// <summary>Writes one envelope holding <paramref name="batch"/> (a slot must be held). False when the
    /// connection broke before the whole envelope was written.</summary>
    public async ValueTask<bool> SendEnvelopeAsync(List<OutboundMessage> batch)
    {
        int correlationId = ++_correlationId;
        using ChunkedBufferWriter output = RaftEnvelopeEncoder.Encode(_owner.LocalNodeId, correlationId, _clientId, batch);
        _inFlight.Enqueue(new InFlight(correlationId, Environment.TickCount64));
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_cts.Token);
        timeout.CancelAfter(_requestTimeout);
        try
        {
            IReadOnlyList<ReadOnlyMemory<byte>> chunks = output.GetChunks();
            for (int i = 0; i < chunks.Count; i++)
            {
                ReadOnlyMemory<byte> chunk = chunks[i];
                while (chunk.Length > 0)
                {
                    int n = await _socket.SendAsync(chunk, SocketFlags.None, timeout.Token).ConfigureAwait(false);
                    chunk = chunk[n..];
                }
            }
            return true;
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or OperationCanceledException)
        {
            Break(ex is OperationCanceledException
                ? (_cts.IsCancellationRequested ? null : $"writing to node {NodeId} timed out")
                : $"writing to node {NodeId} failed: {ex.Message}");
            return false;
        }
    }

    private async Task AckLoopAsync()
    {
        CancellationToken token = _cts.Token;
        byte[] sizeBytes = new byte[4];
        byte[] small = new byte[256];
        try
        {
            while (true)
            {
                if (!await ReceiveExactlyAsync(sizeBytes, token).ConfigureAwait(false))
                {
                    Break($"node {NodeId} closed the connection");
                    return;
                }
                int size = BinaryPrimitives.ReadInt32BigEndian(sizeBytes);
                if (size < 4 || size > MaxResponseBytes)
                {
                    Break($"node {NodeId} sent a response of invalid size {size}");
                    return;
                }
                byte[] body = size <= small.Length ? small : new byte[size];
                if (!await ReceiveExactlyAsync(body.AsMemory(0, size), token).ConfigureAwait(false))
                {
                    Break($"node {NodeId} closed the connection mid-response");
                    return;
                }
                if (!OnResponse(body.AsMemory(0, size))) return;
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or OperationCanceledException)
        {
            Break(token.IsCancellationRequested ? null : $"reading from node {NodeId} failed: {ex.Message}");
        }
    }

    private bool OnResponse(ReadOnlyMemory<byte> body)
    {
        int correlationId;
        RaftEnvelopeResponse response;
        try
        {
            var reader = new KafkaReader(body);
            correlationId = RequestHeader.ReadResponseHeader(ref reader, RaftEnvelopeRequest.ApiKey, 0);
            response = RaftEnvelopeResponse.Read(ref reader, 0);
        }
        catch (KafkaProtocolException ex)
        {
            Break($"node {NodeId} sent a malformed RaftEnvelope response: {ex.Message}");
            return false;
        }
        if (!_inFlight.TryDequeue(out InFlight head))
        {
            Break($"node {NodeId} sent an unsolicited response (correlation id {correlationId})");
            return false;
        }
        if (head.CorrelationId != correlationId)
        {
            Break($"node {NodeId} answered correlation id {correlationId}, expected {head.CorrelationId}");
            return false;
        }
        ReleaseSlot();
        _owner.CountAck(response.ErrorCode);
        if (response.ErrorCode != 0)
            Logger.Warn($"node {NodeId} rejected RaftEnvelope {correlationId} from node {_owner.LocalNodeId} with error {response.ErrorCode}");
        return true;
    }

    private async ValueTask<bool> ReceiveExactlyAsync(Memory<byte> buffer, CancellationToken token)
    {
        while (buffer.Length > 0)
        {
            int n = await _socket.ReceiveAsync(buffer, SocketFlags.None, token).ConfigureAwait(false);
            if (n == 0) return false;
            buffer = buffer[n..];
        }
        return true;
    }

    /// <summary>Marks the connection broken and aborts its I/O; <paramref name="reason"/> null means a normal close.</summary>
    public void Break(string? reason)
    {
        if (Interlocked.Exchange(ref _broken, 1) != 0) return;
        if (reason is not null)
        {
            _owner.CountConnectionLost();
            Logger.Warn($"node {_owner.LocalNodeId}: connection to node {NodeId} at {Address} lost: {reason}");
        }
        try { _cts.Cancel(); }
        catch (ObjectDisposedException) { }
        try { _socket.Shutdown(SocketShutdown.Both); }
        catch (SocketException) { }
        catch (ObjectDisposedException) { }
        _socket.Dispose();
    }

    public void Dispose()
    {
        Break(null);
        // The ack loop ends promptly once the socket is disposed; the semaphore and CTS are left to the GC because
        // the loop may still touch them while unwinding.
    }

    private readonly record struct InFlight(int CorrelationId, long SentAtMs);
}

/// <summary>Connecting to a peer failed or timed out.</summary>
internal sealed class PeerConnectionException(string message) : Exception(message);

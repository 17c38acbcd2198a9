// KafkaListener: a TCP listener for Kafka's size-prefixed framing, handing frames to an IConnectionHandler.
//
// Design note — how buffers flow (per connection; everything below is per request unless noted):
//
//   socket ──ReceiveAsync──▶ read-ahead buffer (ReceiveBufferBytes, pooled, rented only while data flows:
//                            an idle connection parks in a zero-byte ReceiveAsync holding no buffer)
//          └─ 4-byte big-endian size, validated: < 0 or > MaxRequestBytes → Warn + close this connection only
//          └─ frame buffer = pool.Rent(size)        ← the only per-request allocation, and it is pooled
//               small frame (≤ read-ahead size): assembled in the read-ahead buffer, then one memcpy out
//                 (one receive can bring many pipelined frames: fewer syscalls, small copy)
//               large frame: buffered prefix copied, the rest received straight into the frame (no double copy)
//          └─ handler.HandleAsync(ctx, frame) — sequential per connection: the next frame is dispatched as soon
//               as the previous call *returned* its ValueTask (two-phase: ordered dispatch, out-of-order completion)
//          └─ PendingResponseQueue.Enqueue((valueTask, frame))  — a ring buffer, no allocation per entry
//
//   send loop: head entry ──await (strict request order)──▶ pool.Return(frame)  (the frame lives exactly until
//              its task completed) ──▶ writer.WriteSizePrefix() ──▶ writer.GetChunks():
//                 chunk ≤ 8 KiB  → memcpy into a 32 KiB staging buffer (gathers small chunks of one response and
//                                  of consecutive ready responses into one send)
//                 chunk > 8 KiB  → flush staging, Socket.SendAsync(chunk) in place (external memory such as
//                                  mmapped record batches is never copied); a chunk that is a region of a segment
//                                  file goes by sendfile(2) instead (KafkaConnection.Send.cs, SendFile option)
//              ──▶ writer.Dispose() (returns its segments, releases external leases) ──▶ queue.RemoveHead()
//              Staging is flushed whenever the loop would wait (next response not ready, queue empty).
//              A null response (acks=0) sends nothing but is still consumed in order.
//
//   Backpressure: an entry leaves the queue only after its response was written, so queue count = requests in
//   flight; at MaxInFlightRequestsPerConnection the receive loop stops reading the socket (TCP pushes back).
//
//   Steady-state allocations per request: the handler's own, plus none here (socket ValueTask awaits reuse the
//   socket's cached event args; the loops are single long-lived async state machines; signals are reusable
//   IValueTaskSources). Benchmark hooks: BufferPool (inject a counting pool), ReceiveBufferBytes, and the
//   GatherThreshold/StagingBytes constants in KafkaConnection.Send.cs.
//
//   Closing: Close() cancels ConnectionContext.Closed and disposes the socket (aborting pending I/O); the send
//   loop then drains — awaiting every dispatched task without sending, disposing writers, returning frames —
//   and OnConnectionClosed runs once after all of the connection's tasks completed.

using System.Buffers;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Broker.Core.Diagnostics;
using Broker.Core.Metrics;

namespace Broker.Network;

/// <summary>
/// Accepts TCP connections on one endpoint and runs a <see cref="KafkaConnection"/> per socket, handing complete
/// request frames to an <see cref="IConnectionHandler"/>. See the design note at the top of this file.
/// Metrics, labelled listener=name: broker_connections_accepted_total, broker_connections_closed_total (counted when
/// a connection has fully drained) and broker_connections_active.
/// </summary>
public sealed class KafkaListener : IAsyncDisposable
{
    private static long s_nextConnectionId;

    private readonly KafkaListenerOptions _options;
    private readonly IConnectionHandler _handler;
    private readonly ArrayPool<byte> _pool;
    private readonly Logger _log;
    private readonly KeyValuePair<string, object?> _metricTag;
    private readonly ConcurrentDictionary<long, KafkaConnection> _connections = new();
    private readonly CancellationTokenSource _stopCts = new();
    private readonly object _stateLock = new();
    private Socket? _listenSocket;
    private Task _acceptLoop = Task.CompletedTask;
    private Task? _stopTask;
    private bool _started;
    private long _accepted;

    public KafkaListener(KafkaListenerOptions options, IConnectionHandler handler)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(handler);
        options.Validate();
        _options = options;
        _handler = handler;
        _pool = options.BufferPool ?? ArrayPool<byte>.Shared;
        _log = Log.For("network");
        _metricTag = BrokerMeters.Tag("listener", options.ListenerName);
    }

    public string ListenerName => _options.ListenerName;

    /// <summary>The bound address (with the real port when the options said port 0); null before <see cref="Start"/>.</summary>
    public IPEndPoint? BoundEndPoint { get; private set; }

    /// <summary>Open connections (including ones still draining after close).</summary>
    public int ConnectionCount => _connections.Count;

    /// <summary>Connections accepted since start.</summary>
    public long TotalAccepted => Interlocked.Read(ref _accepted);

    /// <summary>Binds, listens and starts the accept loop. Throws <see cref="SocketException"/> if binding fails.</summary>
    public void Start()
    {
        lock (_stateLock)
        {
            if (_started) throw new InvalidOperationException($"Listener {ListenerName} was already started.");
            _started = true;
        }
        IPEndPoint endPoint = _options.EndPoint;
        var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (endPoint.AddressFamily == AddressFamily.InterNetworkV6 && endPoint.Address.Equals(IPAddress.IPv6Any))
                socket.DualMode = true; // "listen on all interfaces" also accepts IPv4
            // Set before listen so accepted sockets inherit it (the TCP window scale is negotiated in the handshake).
            if (_options.SocketReceiveBufferBytes > 0) socket.ReceiveBufferSize = _options.SocketReceiveBufferBytes;
            socket.Bind(endPoint);
            socket.Listen(_options.ListenBacklog);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        _listenSocket = socket;
        BoundEndPoint = (IPEndPoint)socket.LocalEndPoint!;
        _log.Info($"Listener {ListenerName} listening on {BoundEndPoint}");
        _acceptLoop = Task.Run(AcceptLoopAsync);
    }

    /// <summary>
    /// Stops accepting, closes every connection and waits up to <see cref="KafkaListenerOptions.ShutdownTimeout"/>
    /// for them to finish (handler tasks that ignore <see cref="ConnectionContext.Closed"/> can hold a connection
    /// open). Idempotent; concurrent calls share one stop.
    /// </summary>
    public Task StopAsync()
    {
        lock (_stateLock)
        {
            _started = true; // a stopped listener cannot be started
            return _stopTask ??= StopCoreAsync();
        }
    }

    public async ValueTask DisposeAsync() => await StopAsync().ConfigureAwait(false);

    private async Task StopCoreAsync()
    {
        _stopCts.Cancel();
        _listenSocket?.Dispose();
        try
        {
            await _acceptLoop.ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            _log.Error($"Listener {ListenerName}: accept loop failed", ex);
        }

        int count = 0;
        foreach (KeyValuePair<long, KafkaConnection> entry in _connections)
        {
            entry.Value.Close();
            count++;
        }
        var tasks = new List<Task>(count);
        foreach (KeyValuePair<long, KafkaConnection> entry in _connections) tasks.Add(entry.Value.Completion);
        try
        {
            await Task.WhenAll(tasks).WaitAsync(_options.ShutdownTimeout).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            _log.Warn($"Listener {ListenerName}: {_connections.Count} connection(s) still finishing after " +
                      $"{_options.ShutdownTimeout.TotalMilliseconds:0} ms (handler tasks not completing)");
        }
        if (BoundEndPoint is not null) _log.Info($"Listener {ListenerName} on {BoundEndPoint} stopped");
    }

    private async Task AcceptLoopAsync()
    {
        Socket listenSocket = _listenSocket!;
        CancellationToken stopping = _stopCts.Token;
        while (!stopping.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await listenSocket.AcceptAsync(stopping).ConfigureAwait(false);
            }
            catch (Exception ex) when (stopping.IsCancellationRequested &&
                                       ex is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }
            catch (SocketException ex)
            {
                // e.g. too many open files or a connection reset before accept: keep listening, without spinning.
                _log.Error($"Listener {ListenerName}: accept failed ({ex.SocketErrorCode}): {ex.Message}");
                try
                {
                    await Task.Delay(50, stopping).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                continue;
            }

            if (stopping.IsCancellationRequested)
            {
                socket.Dispose();
                return;
            }
            try
            {
                Configure(socket);
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                _log.Warn($"Listener {ListenerName}: dropping a connection that failed setup: {ex.Message}");
                socket.Dispose();
                continue;
            }

            long id = Interlocked.Increment(ref s_nextConnectionId);
            var connection = new KafkaConnection(id, socket, _handler, _options, _pool, _log);
            Interlocked.Increment(ref _accepted);
            BrokerMeters.ConnectionsAccepted.Add(1, _metricTag);
            BrokerMeters.ConnectionsActive.Add(1, _metricTag);
            _connections[id] = connection;
            connection.Completion = Task.Run(() => RunConnectionAsync(connection));
            if (_log.IsDebugEnabled)
                _log.Debug($"Listener {ListenerName}: connection {id} from {connection.Context.RemoteEndPoint}");
        }
    }

    private async Task RunConnectionAsync(KafkaConnection connection)
    {
        try
        {
            await connection.RunAsync().ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            _log.Error($"Listener {ListenerName}: connection {connection.Id} failed", ex);
        }
        finally
        {
            _connections.TryRemove(connection.Id, out _);
            BrokerMeters.ConnectionsClosed.Add(1, _metricTag);
            BrokerMeters.ConnectionsActive.Add(-1, _metricTag);
        }
    }

    private void Configure(Socket socket)
    {
        socket.NoDelay = _options.NoDelay;
        if (_options.SocketSendBufferBytes > 0) socket.SendBufferSize = _options.SocketSendBufferBytes;
        if (_options.SocketReceiveBufferBytes > 0) socket.ReceiveBufferSize = _options.SocketReceiveBufferBytes;
    }
}

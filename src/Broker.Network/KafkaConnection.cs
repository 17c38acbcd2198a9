using System.Buffers;
using System.Net;
using System.Net.Sockets;
using Broker.Core.Diagnostics;

namespace Broker.Network;

/// <summary>
/// One accepted TCP connection: a receive loop (KafkaConnection.Receive.cs) that frames requests and dispatches
/// them to the handler one at a time, and a send loop (KafkaConnection.Send.cs) that writes the responses in
/// request order. Lifecycle: <see cref="RunAsync"/> runs both loops; <see cref="Close"/> (idempotent, any thread)
/// cancels <see cref="ConnectionContext.Closed"/> and closes the socket; the loops then drain and the handler's
/// <see cref="IConnectionHandler.OnConnectionClosed"/> is called once, after every dispatched task completed.
/// </summary>
internal sealed partial class KafkaConnection
{
    private readonly Socket _socket;
    private readonly IConnectionHandler _handler;
    private readonly KafkaListenerOptions _options;
    private readonly ArrayPool<byte> _pool;
    private readonly Logger _log;
    private readonly CancellationTokenSource _closedCts = new();
    private readonly PendingResponseQueue _pending;
    private readonly string _remoteText;
    private int _closing;
    /// <summary>Large file-backed chunks go out with sendfile (send loop only; turned off when unsupported).</summary>
    private bool _sendFile;
    private bool _nonBlockingChecked;
    private SafeSocketHandle? _socketHandle;

    public KafkaConnection(long id, Socket socket, IConnectionHandler handler, KafkaListenerOptions options,
        ArrayPool<byte> pool, Logger log)
    {
        _socket = socket;
        _handler = handler;
        _options = options;
        _pool = pool;
        _log = log;
        _pending = new PendingResponseQueue(options.MaxInFlightRequestsPerConnection);
        _sendFile = options.SendFile && LinuxSendFile.IsSupported;
        EndPoint? remote = TryGetEndPoint(socket, remoteSide: true);
        _remoteText = remote?.ToString() ?? "unknown";
        Context = new ConnectionContext(id, options.ListenerName, remote, TryGetEndPoint(socket, remoteSide: false))
        {
            Closed = _closedCts.Token,
        };
    }

    public ConnectionContext Context { get; }

    public long Id => Context.Id;

    /// <summary>Requests dispatched whose response has not been written yet.</summary>
    public int InFlight => _pending.Count;

    /// <summary>Set by the listener once the connection runs; completes when it is fully closed.</summary>
    public Task Completion { get; set; } = Task.CompletedTask;

    public bool IsClosing => Volatile.Read(ref _closing) != 0;

    /// <summary>Runs the connection until it closes; never throws.</summary>
    public async Task RunAsync()
    {
        Task sendLoop = SendLoopAsync();
        try
        {
            await ReceiveLoopAsync().ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            _log.Error($"Connection {Id} from {_remoteText}: receive loop failed", ex);
        }
        finally
        {
            // Whatever ended the receive loop (EOF, bad frame, handler error, Close) ends the connection:
            // pending responses are not sent, but their tasks are still awaited by the send loop.
            Close();
            _pending.CompleteAdding();
        }
        try
        {
            await sendLoop.ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            _log.Error($"Connection {Id} from {_remoteText}: send loop failed", ex);
        }
        try
        {
            _handler.OnConnectionClosed(Context);
        }
        catch (Exception ex)
        {
            _log.Error($"Connection {Id} from {_remoteText}: OnConnectionClosed threw", ex);
        }
        if (_log.IsDebugEnabled) _log.Debug($"Connection {Id} from {_remoteText} closed");
    }

    /// <summary>
    /// Starts closing: cancels <see cref="ConnectionContext.Closed"/>, wakes the receive loop and closes the socket
    /// (which aborts pending socket operations). Idempotent and safe from any thread.
    /// </summary>
    public void Close()
    {
        if (Interlocked.Exchange(ref _closing, 1) != 0) return;
        try
        {
            _closedCts.Cancel();
        }
        catch (AggregateException ex)
        {
            _log.Error($"Connection {Id} from {_remoteText}: a Closed callback threw", ex);
        }
        _pending.SpaceFreed.Set();
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (SocketException)
        {
            // Already reset by the peer.
        }
        catch (ObjectDisposedException)
        {
        }
        _socket.Dispose();
        // The CancellationTokenSource is deliberately not disposed: handlers may still hold and register on its token.
    }

    private void CloseWithWarning(string message)
    {
        if (!IsClosing) _log.Warn($"Closing connection {Id} from {_remoteText} on listener {_options.ListenerName}: {message}");
        Close();
    }

    private void CloseWithError(string message, Exception ex)
    {
        if (!IsClosing) _log.Error($"Closing connection {Id} from {_remoteText} on listener {_options.ListenerName}: {message}", ex);
        Close();
    }

    private static EndPoint? TryGetEndPoint(Socket socket, bool remoteSide)
    {
        try
        {
            return remoteSide ? socket.RemoteEndPoint : socket.LocalEndPoint;
        }
        catch (SocketException)
        {
            return null;
        }
        catch (ObjectDisposedException)
        {
            return null;
        }
    }

    private static bool IsConnectionError(Exception ex) =>
        ex is SocketException or ObjectDisposedException or IOException or OperationCanceledException;
}

using System.Net.Sockets;
using System.Threading.Tasks.Sources;

namespace Broker.Benchmarks.ZeroCopy;

/// <summary>
/// A reusable SocketAsyncEventArgs for Socket.SendPacketsAsync that can be awaited as a ValueTask without allocating
/// (one operation at a time).
/// </summary>
internal sealed class SendPacketsArgs : SocketAsyncEventArgs, IValueTaskSource
{
    private ManualResetValueTaskSourceCore<bool> _core = new() { RunContinuationsAsynchronously = false };

    /// <summary>Starts sending the current <see cref="SocketAsyncEventArgs.SendPacketsElements"/>.</summary>
    public ValueTask SendAsync(Socket socket)
    {
        _core.Reset();
        if (!socket.SendPacketsAsync(this)) Finish();
        return new ValueTask(this, _core.Version);
    }

    protected override void OnCompleted(SocketAsyncEventArgs e) => Finish();

    private void Finish()
    {
        if (SocketError == SocketError.Success) _core.SetResult(true);
        else _core.SetException(new SocketException((int)SocketError));
    }

    void IValueTaskSource.GetResult(short token) => _core.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource.GetStatus(short token) => _core.GetStatus(token);

    void IValueTaskSource.OnCompleted(Action<object?> continuation, object? state, short token,
        ValueTaskSourceOnCompletedFlags flags) => _core.OnCompleted(continuation, state, token, flags);
}

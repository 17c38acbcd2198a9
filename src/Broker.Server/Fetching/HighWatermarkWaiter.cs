using Broker.Consensus;

namespace Broker.Server.Fetching;

/// <summary>Why a <see cref="HighWatermarkWaiter"/> wait ended.</summary>
public enum WakeReason
{
    /// <summary>A watched log's high watermark advanced (or had already advanced since the last rearm).</summary>
    Advanced,
    TimedOut,
    /// <summary>The cancellation token (the connection's Closed) fired.</summary>
    Cancelled,
}

/// <summary>
/// The long-poll primitive of Fetch: waits, without blocking a thread, until one of a set of replicated logs
/// raises <see cref="IReplicatedLog.HighWatermarkAdvanced"/>, a timeout elapses, or a token is cancelled.
/// Subscribe with <see cref="Watch"/> *before* reading, so an advance between the read and the wait is not lost;
/// after an <see cref="WakeReason.Advanced"/> wake call <see cref="Rearm"/> before reading again. Dispose
/// unsubscribes from every log (always dispose: the logs outlive the request). One waiter per request; not
/// thread-safe except for the event callback.
/// </summary>
public sealed class HighWatermarkWaiter : IDisposable
{
    private readonly Action<IReplicatedLog> _onAdvanced;
    private readonly List<IReplicatedLog> _watched = new();
    private TaskCompletionSource<WakeReason> _signal = NewSignal();
    private bool _disposed;

    public HighWatermarkWaiter() => _onAdvanced = OnAdvanced;

    /// <summary>Number of logs this waiter is subscribed to.</summary>
    public int WatchedCount => _watched.Count;

    /// <summary>Subscribes to <paramref name="log"/> (once, however often it is passed).</summary>
    public void Watch(IReplicatedLog log)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        foreach (var w in _watched)
            if (ReferenceEquals(w, log)) return;
        _watched.Add(log);
        log.HighWatermarkAdvanced += _onAdvanced;
    }

    /// <summary>Forgets an advance seen so far; the next wait blocks until a new one (or timeout/cancel).</summary>
    public void Rearm()
    {
        if (Volatile.Read(ref _signal).Task.IsCompleted) Volatile.Write(ref _signal, NewSignal());
    }

    /// <summary>
    /// Completes with <see cref="WakeReason.Advanced"/> as soon as a watched log advanced since the last
    /// <see cref="Rearm"/> (at once if that already happened), else on timeout or cancellation.
    /// </summary>
    public async ValueTask<WakeReason> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var signal = Volatile.Read(ref _signal);
        if (signal.Task.IsCompleted) return await signal.Task.ConfigureAwait(false);
        if (cancellationToken.IsCancellationRequested) return WakeReason.Cancelled;
        if (timeout <= TimeSpan.Zero) return WakeReason.TimedOut;

        using var timer = new CancellationTokenSource(timeout);
        using var onTimeout = timer.Token.UnsafeRegister(
            static s => ((TaskCompletionSource<WakeReason>)s!).TrySetResult(WakeReason.TimedOut), signal);
        using var onCancel = cancellationToken.UnsafeRegister(
            static s => ((TaskCompletionSource<WakeReason>)s!).TrySetResult(WakeReason.Cancelled), signal);
        return await signal.Task.ConfigureAwait(false);
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (var log in _watched) log.HighWatermarkAdvanced -= _onAdvanced;
        _watched.Clear();
    }

    private void OnAdvanced(IReplicatedLog log) => Volatile.Read(ref _signal).TrySetResult(WakeReason.Advanced);

    private static TaskCompletionSource<WakeReason> NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}

using System.Threading.Tasks.Sources;

namespace Broker.Network;

/// <summary>
/// A reusable, allocation-free auto-reset signal for exactly one waiter at a time (the connection's receive or
/// send loop). <see cref="Set"/> is sticky: a set with no waiter makes the next <see cref="WaitAsync"/> return at
/// once, so a check-then-wait race loses no wake-up (waiters re-check their condition in a loop).
/// With <c>runContinuationsAsynchronously: false</c> the waiter resumes inline on the setter's thread (no thread
/// hop, no work-item allocation); the setter must then call <see cref="Set"/> outside its own locks.
/// </summary>
internal sealed class AsyncSignal(bool runContinuationsAsynchronously) : IValueTaskSource
{
    private readonly object _gate = new();
    private ManualResetValueTaskSourceCore<bool> _core = new() { RunContinuationsAsynchronously = runContinuationsAsynchronously };
    private bool _set;
    private bool _waiting;

    /// <summary>Completes when <see cref="Set"/> was called since the previous wait returned.</summary>
    public ValueTask WaitAsync()
    {
        lock (_gate)
        {
            if (_set)
            {
                _set = false;
                return default;
            }
            if (_waiting) throw new InvalidOperationException("AsyncSignal supports a single waiter.");
            _core.Reset();
            _waiting = true;
            return new ValueTask(this, _core.Version);
        }
    }

    public void Set()
    {
        lock (_gate)
        {
            if (!_waiting)
            {
                _set = true;
                return;
            }
            _waiting = false;
        }
        _core.SetResult(true);
    }

    void IValueTaskSource.GetResult(short token) => _core.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource.GetStatus(short token) => _core.GetStatus(token);

    void IValueTaskSource.OnCompleted(Action<object?> continuation, object? state, short token,
        ValueTaskSourceOnCompletedFlags flags) => _core.OnCompleted(continuation, state, token, flags);
}

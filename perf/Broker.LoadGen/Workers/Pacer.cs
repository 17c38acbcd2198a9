using System.Diagnostics;

namespace Broker.LoadGen.Workers;

/// <summary>
/// Precise waits for rate-limited producers. Task.Delay's timer can fire several milliseconds late (about 4 ms for a
/// 1 ms delay on the benchmark machine), which would show up as client-side latency; this pacer uses one background
/// thread that sleeps in ~1 ms steps (Monitor.Wait, about 1.07 ms) and completes waiters whose time has come.
/// </summary>
public sealed class Pacer : IDisposable
{
    private readonly PriorityQueue<TaskCompletionSource, long> _waiters = new();
    private readonly object _lock = new();
    private readonly Thread _thread;
    private bool _stopped;

    public Pacer()
    {
        _thread = new Thread(Loop) { IsBackground = true, Name = "loadgen-pacer" };
        _thread.Start();
    }

    /// <summary>Completes at (or up to about a millisecond after) Stopwatch time <paramref name="ticks"/>.</summary>
    public Task WaitUntilAsync(long ticks, CancellationToken ct)
    {
        if (Stopwatch.GetTimestamp() >= ticks) return Task.CompletedTask;
        var tcs = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_lock)
        {
            _waiters.Enqueue(tcs, ticks);
            Monitor.Pulse(_lock);
        }
        return ct.CanBeCanceled ? tcs.Task.WaitAsync(ct) : tcs.Task;
    }

    private void Loop()
    {
        lock (_lock)
        {
            while (!_stopped)
            {
                long now = Stopwatch.GetTimestamp();
                while (_waiters.TryPeek(out var tcs, out long due) && due <= now)
                {
                    _waiters.Dequeue();
                    tcs.TrySetResult();
                }
                if (_waiters.TryPeek(out _, out long next))
                {
                    double ms = (next - now) * 1000.0 / Stopwatch.Frequency;
                    Monitor.Wait(_lock, Math.Max(1, (int)ms));
                }
                else Monitor.Wait(_lock, 100);
            }
            while (_waiters.TryDequeue(out var tcs, out _)) tcs.TrySetResult();
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _stopped = true;
            Monitor.Pulse(_lock);
        }
        _thread.Join();
    }
}

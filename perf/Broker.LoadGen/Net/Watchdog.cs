using System.Diagnostics;

namespace Broker.LoadGen.Net;

/// <summary>
/// Checks every registered connection a few times per second and aborts those whose oldest request (or send) has
/// waited longer than the request timeout. This is what turns a broker that stops answering into an error.
/// </summary>
public sealed class Watchdog : IAsyncDisposable
{
    private readonly List<KafkaConnection> _connections = new();
    private readonly long _timeoutTicks;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    public Watchdog(int timeoutMs)
    {
        _timeoutTicks = timeoutMs * Stopwatch.Frequency / 1000;
        _loop = Task.Run(LoopAsync);
    }

    public void Register(KafkaConnection connection)
    {
        lock (_connections) _connections.Add(connection);
    }

    /// <summary>Aborts every registered connection (hard stop at the end of a run).</summary>
    public void AbortAll(string reason)
    {
        lock (_connections)
            foreach (var c in _connections) c.Abort(reason);
    }

    private async Task LoopAsync()
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(200));
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false))
            {
                long now = Stopwatch.GetTimestamp();
                lock (_connections)
                    foreach (var c in _connections) c.CheckTimeout(now, _timeoutTicks);
            }
        }
        catch (OperationCanceledException) { }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        await _loop.ConfigureAwait(false);
        _stop.Dispose();
    }
}

using Broker.Core.Diagnostics;

namespace Broker.Http.Proxy;

/// <summary>
/// The live consumer instances by (group, name): creation (409/40902 on a duplicate name), serialized use
/// (404/40403 for unknown or closed instances), deletion, and expiry of instances idle for longer than the timeout
/// (closing one leaves its group). Expiry runs on a background timer; <see cref="SweepAsync"/> is also callable
/// directly, which tests do with a fake <see cref="IClock"/>.
/// </summary>
internal sealed class ConsumerRegistry : IAsyncDisposable
{
    private static readonly Logger Logger = Log.For("http-proxy");

    private readonly IProxyBackend _backend;
    private readonly IClock _clock;
    private readonly long _timeoutMs;
    private readonly Dictionary<(string Group, string Name), ConsumerInstance> _instances = new();
    private readonly object _lock = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _sweeper;

    /// <param name="sweepInterval">How often expiry is checked; null = never in the background (tests sweep by hand).</param>
    public ConsumerRegistry(IProxyBackend backend, IClock clock, TimeSpan timeout, TimeSpan? sweepInterval)
    {
        if (timeout <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(timeout), timeout, "must be positive");
        _backend = backend;
        _clock = clock;
        _timeoutMs = (long)timeout.TotalMilliseconds;
        _sweeper = sweepInterval is { } interval ? SweepLoopAsync(interval) : Task.CompletedTask;
    }

    public int Count
    {
        get { lock (_lock) return _instances.Count; }
    }

    /// <summary>Creates an instance; <paramref name="name"/> null or empty = a generated one.</summary>
    public ConsumerInstance Create(string groupId, string? name, ProxyFormat format, TimeSpan requestTimeout)
    {
        if (string.IsNullOrEmpty(name)) name = "rest-consumer-" + Guid.NewGuid().ToString("N");
        lock (_lock)
        {
            if (_stop.IsCancellationRequested) throw new ProxyException(ProxyErrorCodes.KafkaRetriableError, "the proxy is shutting down");
            if (_instances.ContainsKey((groupId, name)))
            {
                throw new ProxyException(ProxyErrorCodes.ConsumerAlreadyExists,
                    $"Consumer '{name}' already exists in group '{groupId}'");
            }
            var instance = new ConsumerInstance(groupId, name, format, requestTimeout, _backend.CreateConsumer(groupId),
                _clock.MonotonicMilliseconds);
            _instances.Add((groupId, name), instance);
            Logger.Info($"consumer instance {groupId}/{name} created ({_instances.Count} live)");
            return instance;
        }
    }

    /// <summary>Runs <paramref name="action"/> on the instance, alone; its idle time restarts when the action ends.</summary>
    public async Task<T> UseAsync<T>(string groupId, string name, Func<ConsumerInstance, Task<T>> action,
        CancellationToken cancellationToken)
    {
        var instance = Find(groupId, name);
        await instance.Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (instance.Closed) throw NotFound(groupId, name);
            instance.LastUsedMs = _clock.MonotonicMilliseconds;
            return await action(instance).ConfigureAwait(false);
        }
        finally
        {
            instance.LastUsedMs = _clock.MonotonicMilliseconds;
            instance.Gate.Release();
        }
    }

    /// <summary>Deletes the instance (after any request in progress on it) and leaves its group.</summary>
    public async Task RemoveAsync(string groupId, string name, CancellationToken cancellationToken)
    {
        var instance = Find(groupId, name);
        await instance.Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (instance.Closed) throw NotFound(groupId, name);
            Detach(instance);
        }
        finally
        {
            instance.Gate.Release();
        }
        Logger.Info($"consumer instance {groupId}/{name} deleted");
        await CloseQuietlyAsync(instance).ConfigureAwait(false);
    }

    /// <summary>Closes every instance idle for at least the timeout; returns how many. Instances busy right now are kept.</summary>
    public async Task<int> SweepAsync()
    {
        long now = _clock.MonotonicMilliseconds;
        List<ConsumerInstance> idle;
        lock (_lock)
        {
            idle = new List<ConsumerInstance>();
            foreach (var instance in _instances.Values)
            {
                if (now - instance.LastUsedMs >= _timeoutMs) idle.Add(instance);
            }
        }
        var expired = new List<ConsumerInstance>();
        foreach (var instance in idle)
        {
            if (!instance.Gate.Wait(0)) continue; // a request is using it right now
            try
            {
                if (instance.Closed || _clock.MonotonicMilliseconds - instance.LastUsedMs < _timeoutMs) continue;
                Detach(instance);
                expired.Add(instance);
            }
            finally
            {
                instance.Gate.Release();
            }
        }
        foreach (var instance in expired)
        {
            Logger.Info($"consumer instance {instance.GroupId}/{instance.Name} expired after {_timeoutMs} ms without requests");
        }
        await Task.WhenAll(expired.Select(CloseQuietlyAsync)).ConfigureAwait(false);
        return expired.Count;
    }

    private ConsumerInstance Find(string groupId, string name)
    {
        lock (_lock)
        {
            return _instances.TryGetValue((groupId, name), out var instance) ? instance : throw NotFound(groupId, name);
        }
    }

    private static ProxyException NotFound(string groupId, string name) =>
        new(ProxyErrorCodes.ConsumerInstanceNotFound, $"Consumer instance '{name}' not found in group '{groupId}'");

    /// <summary>Marks the instance closed and forgets it; the caller holds its gate.</summary>
    private void Detach(ConsumerInstance instance)
    {
        instance.Closed = true;
        lock (_lock) _instances.Remove((instance.GroupId, instance.Name));
    }

    private async Task CloseQuietlyAsync(ConsumerInstance instance)
    {
        try
        {
            await instance.Consumer.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            Logger.Warn($"closing consumer instance {instance.GroupId}/{instance.Name} failed: {ex.Message}");
        }
    }

    private async Task SweepLoopAsync(TimeSpan interval)
    {
        using var timer = new PeriodicTimer(interval);
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false))
            {
                try
                {
                    await SweepAsync().ConfigureAwait(false);
                }
                catch (Exception ex)
                {
                    Logger.Warn($"consumer instance expiry failed: {ex.Message}");
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Stops expiry and closes every instance (each leaves its group), waiting at most about two seconds.</summary>
    public async ValueTask DisposeAsync()
    {
        List<ConsumerInstance> all;
        lock (_lock)
        {
            if (_stop.IsCancellationRequested) return;
            _stop.Cancel();
            all = new List<ConsumerInstance>(_instances.Values);
        }
        await _sweeper.ConfigureAwait(false);
        var closing = new List<Task>();
        foreach (var instance in all)
        {
            // Wait for a request in progress on the instance, but not forever: the listener is already stopped.
            if (await instance.Gate.WaitAsync(TimeSpan.FromMilliseconds(500)).ConfigureAwait(false))
            {
                try
                {
                    if (instance.Closed) continue;
                    Detach(instance);
                }
                finally
                {
                    instance.Gate.Release();
                }
            }
            else
            {
                Detach(instance);
            }
            closing.Add(CloseQuietlyAsync(instance));
        }
        try
        {
            await Task.WhenAll(closing).WaitAsync(TimeSpan.FromSeconds(1.5)).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            Logger.Warn($"{closing.Count} consumer instances did not leave their groups within 1.5 s of shutdown");
        }
        _stop.Dispose();
    }
}

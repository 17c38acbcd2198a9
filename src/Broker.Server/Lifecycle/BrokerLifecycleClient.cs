using Broker.Core.Diagnostics;
using Broker.Core.Model;
using Broker.Protocol.Messages;

namespace Broker.Server.Lifecycle;

/// <summary>Where this broker is in its lifecycle, as the active controller last answered.</summary>
public enum BrokerLifecycleState
{
    /// <summary>Not (or no longer) registered: registering with the active controller.</summary>
    NotRegistered,
    /// <summary>Registered and fenced: catching up with the metadata log, or fenced after a lost session.</summary>
    Fenced,
    /// <summary>Unfenced: may lead partitions and take new replicas.</summary>
    Active,
    /// <summary>Asked to shut down; the controller is moving leadership away.</summary>
    ControlledShutdown,
    /// <summary>The controller agreed: the process may stop now. Heartbeats have stopped.</summary>
    ShouldShutDown,
    /// <summary>The client was stopped without (or before finishing) a controlled shutdown.</summary>
    Stopped,
}

/// <summary>
/// The broker side of the lifecycle (Kafka's BrokerLifecycleManager): on <see cref="Start"/> a background loop
/// connects to the controller listener of a voter (trying each of <see cref="BrokerLifecycleOptions.ControllerEndpoints"/>
/// in turn, moving on after a connection failure, timeout or NOT_CONTROLLER), sends BrokerRegistration, then a
/// BrokerHeartbeat every heartbeat interval carrying the broker's current metadata offset. It re-registers after
/// STALE_BROKER_EPOCH or BROKER_ID_NOT_REGISTERED. <see cref="ShutdownAsync"/> sends WantShutDown and waits,
/// bounded, for ShouldShutDown. State changes are published through <see cref="StateChanged"/>.
/// </summary>
public sealed partial class BrokerLifecycleClient : IAsyncDisposable
{
    private const short RegistrationVersion = 3;
    private const short HeartbeatVersion = 1;

    private readonly BrokerLifecycleOptions _options;
    private readonly Func<long> _metadataOffset;
    private readonly Func<bool> _readyToUnfence;
    private readonly Logger _logger;
    private readonly SemaphoreSlim _wake = new(0, 1);
    private readonly CancellationTokenSource _stop = new();
    private readonly object _stateLock = new();
    private (string Host, int Port)[] _endpoints = [];
    private Task? _loop;
    private ControllerChannel? _channel;
    private int _endpointIndex;
    private int _failuresInRound;
    private volatile bool _shutdownRequested;
    private BrokerLifecycleState _state = BrokerLifecycleState.NotRegistered;
    private long _brokerEpoch = -1;

    /// <param name="currentMetadataOffset">The highest metadata offset this broker has applied (sent in each heartbeat).</param>
    /// <param name="readyToUnfence">False while the broker is not ready to serve (sent as WantFence); default always ready.</param>
    public BrokerLifecycleClient(BrokerLifecycleOptions options, Func<long> currentMetadataOffset, Func<bool>? readyToUnfence = null, Logger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _metadataOffset = currentMetadataOffset;
        _readyToUnfence = readyToUnfence ?? (static () => true);
        _logger = logger ?? Log.For("broker-lifecycle");
        _endpoints = new (string, int)[options.ControllerEndpoints.Count];
        for (int i = 0; i < _endpoints.Length; i++)
        {
            BrokerLifecycleOptions.TryParseEndpoint(options.ControllerEndpoints[i], out var host, out var port);
            _endpoints[i] = (host, port);
        }
    }

    public BrokerLifecycleOptions Options => _options;

    public BrokerLifecycleState State { get { lock (_stateLock) return _state; } }

    /// <summary>The epoch from the last successful registration; -1 when not registered.</summary>
    public long BrokerEpoch => Interlocked.Read(ref _brokerEpoch);

    /// <summary>IsCaughtUp from the last heartbeat response.</summary>
    public bool IsCaughtUp { get; private set; }

    /// <summary>The endpoint ("host:port") of the controller that answered last, or null.</summary>
    public string? ControllerEndpoint { get; private set; }

    /// <summary>The last error a controller answered (registration or heartbeat); None after a success.</summary>
    public ErrorCode LastError { get; private set; }

    /// <summary>Raised on the client's loop after each state change; handlers must not block.</summary>
    public event Action<BrokerLifecycleState>? StateChanged;

    /// <summary>Starts registering and heartbeating in the background. Call once.</summary>
    public void Start()
    {
        if (_loop is not null) throw new InvalidOperationException("the lifecycle client was already started");
        _loop = Task.Run(() => RunAsync(_stop.Token));
    }

    /// <summary>Waits until the state satisfies <paramref name="condition"/>; false on timeout.</summary>
    public async Task<bool> WaitForAsync(Func<BrokerLifecycleState, bool> condition, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnChange(BrokerLifecycleState s) { if (condition(s)) reached.TrySetResult(); }
        StateChanged += OnChange;
        try
        {
            if (condition(State)) return true;
            var finished = await Task.WhenAny(reached.Task, Task.Delay(timeout, cancellationToken)).ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
            return finished == reached.Task || condition(State);
        }
        finally { StateChanged -= OnChange; }
    }

    /// <summary>Waits until the state is <paramref name="state"/>; false on timeout.</summary>
    public Task<bool> WaitForStateAsync(BrokerLifecycleState state, TimeSpan timeout, CancellationToken cancellationToken = default) =>
        WaitForAsync(s => s == state, timeout, cancellationToken);

    /// <summary>
    /// Controlled shutdown: heartbeats with WantShutDown until the controller answers ShouldShutDown, at most
    /// <paramref name="timeout"/>; then stops the client. True when the controller agreed in time.
    /// </summary>
    public async Task<bool> ShutdownAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        if (_loop is null || _loop.IsCompleted) { await StopAsync().ConfigureAwait(false); return State == BrokerLifecycleState.ShouldShutDown; }
        _logger.Info($"broker {_options.BrokerId}: requesting controlled shutdown");
        _shutdownRequested = true;
        Wake();
        bool granted = await WaitForAsync(s => s is BrokerLifecycleState.ShouldShutDown or BrokerLifecycleState.Stopped, timeout, cancellationToken)
            .ConfigureAwait(false) && State == BrokerLifecycleState.ShouldShutDown;
        if (!granted) _logger.Warn($"broker {_options.BrokerId}: controlled shutdown not confirmed within {timeout.TotalMilliseconds:0} ms; stopping anyway");
        await StopAsync().ConfigureAwait(false);
        return granted;
    }

    /// <summary>Stops heartbeating at once (no controlled shutdown) and closes the connection.</summary>
    public async Task StopAsync()
    {
        if (!_stop.IsCancellationRequested) _stop.Cancel();
        if (_loop is not null)
        {
            try { await _loop.ConfigureAwait(false); }
            catch (OperationCanceledException) { }
        }
        _channel?.Dispose();
        _channel = null;
        lock (_stateLock)
            if (_state != BrokerLifecycleState.ShouldShutDown) SetStateLocked(BrokerLifecycleState.Stopped, out _);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        _stop.Dispose();
        _wake.Dispose();
    }

    private void Wake()
    {
        try { if (_wake.CurrentCount == 0) _wake.Release(); }
        catch (SemaphoreFullException) { }
        catch (ObjectDisposedException) { }
    }

    private void SetState(BrokerLifecycleState state)
    {
        bool changed;
        lock (_stateLock) SetStateLocked(state, out changed);
        if (!changed) return;
        _logger.Info($"broker {_options.BrokerId} (epoch {BrokerEpoch}): {state}");
        var handlers = StateChanged;
        if (handlers is null) return;
        try { handlers(state); }
        catch (Exception ex) { _logger.Error("a lifecycle StateChanged handler threw", ex); }
    }

    private void SetStateLocked(BrokerLifecycleState state, out bool changed)
    {
        changed = _state != state && _state is not (BrokerLifecycleState.ShouldShutDown or BrokerLifecycleState.Stopped);
        if (changed) _state = state;
    }

    private long CurrentMetadataOffset()
    {
        try { return _metadataOffset(); }
        catch (Exception ex)
        {
            _logger.Error("reading the current metadata offset failed", ex);
            return -1;
        }
    }

    private bool ReadyToUnfence()
    {
        try { return _readyToUnfence(); }
        catch (Exception ex)
        {
            _logger.Error("the readyToUnfence check threw", ex);
            return false;
        }
    }

    private static BrokerRegistrationResponse ReadRegistration(ref Protocol.Codec.KafkaReader reader, short version) =>
        BrokerRegistrationResponse.Read(ref reader, version);

    private static BrokerHeartbeatResponse ReadHeartbeat(ref Protocol.Codec.KafkaReader reader, short version) =>
        BrokerHeartbeatResponse.Read(ref reader, version);
}

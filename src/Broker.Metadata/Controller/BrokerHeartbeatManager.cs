using Broker.Core.Diagnostics;
using Broker.Core.Model;
using Broker.Metadata.Image;
using Broker.Metadata.Lifecycle;

namespace Broker.Metadata.Controller;

/// <summary>
/// The active controller's side of the broker lifecycle (Kafka's BrokerHeartbeatManager plus the registration and
/// heartbeat rules of ClusterControlManager): keeps one session per registered broker (last contact on the
/// injected <see cref="IClock"/>'s monotonic time, last reported metadata offset, whether shutdown was approved)
/// and turns registrations and heartbeats into metadata records through <see cref="ClusterController"/>.
/// The broker's state (Fenced / Active / ControlledShutdown) is read from the metadata image, which is the truth;
/// sessions only hold what the log does not. All operations are serialised by one lock.
/// Rules:
/// * Registration: INCONSISTENT_CLUSTER_ID on a cluster-id mismatch, UNSUPPORTED_VERSION when a finalized feature
///   (metadata.version) is outside the broker's range, DUPLICATE_BROKER_REGISTRATION when another incarnation
///   still has a live session; otherwise a fenced RegisterBrokerRecord (BrokerEpoch = its offset).
/// * Heartbeat: BROKER_ID_NOT_REGISTERED / STALE_BROKER_EPOCH; a fenced broker asking WantFence=false is unfenced
///   once CurrentMetadataOffset &gt;= its registration offset; WantShutDown moves an active broker into controlled
///   shutdown and, once it leads no partitions (the <c>leadsPartitions</c> hook), fences it and answers
///   ShouldShutDown=true; a fenced broker asking to shut down may do so at once.
/// * <see cref="CheckSessionsAsync"/> (called periodically by the host) fences every unfenced broker whose last
///   heartbeat is older than the session timeout.
/// </summary>
public sealed class BrokerHeartbeatManager : IDisposable
{
    private readonly ClusterController _controller;
    private readonly IClock _clock;
    private readonly long _sessionTimeoutMs;
    private readonly Func<int, bool> _leadsPartitions;
    private readonly Logger _logger;
    private readonly SemaphoreSlim _lock = new(1, 1);
    private readonly Dictionary<int, Session> _sessions = new();

    /// <param name="sessionTimeout">broker.session.timeout.ms; default <see cref="ControllerOptions.BrokerSessionTimeout"/>.</param>
    /// <param name="leadsPartitions">
    /// broker id → whether it still leads partitions; a broker in controlled shutdown is told to shut down only when
    /// this is false. Default: never (leadership moves through the partition Raft groups, not the controller yet).
    /// </param>
    public BrokerHeartbeatManager(
        ClusterController controller, IClock? clock = null, TimeSpan? sessionTimeout = null,
        Func<int, bool>? leadsPartitions = null, Logger? logger = null)
    {
        _controller = controller;
        _clock = clock ?? SystemClock.Instance;
        var timeout = sessionTimeout ?? controller.Options.BrokerSessionTimeout;
        if (timeout <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(sessionTimeout), "the session timeout must be positive");
        _sessionTimeoutMs = (long)timeout.TotalMilliseconds;
        _leadsPartitions = leadsPartitions ?? (static _ => false);
        _logger = logger ?? Log.For("broker-lifecycle");
    }

    public TimeSpan SessionTimeout => TimeSpan.FromMilliseconds(_sessionTimeoutMs);

    /// <summary>True when this node is the active controller (leads the metadata log).</summary>
    public bool IsActive => _controller.IsActive;

    /// <summary>Registers a broker process (BrokerRegistration, key 62). The broker starts fenced.</summary>
    public async Task<BrokerRegistrationResult> RegisterAsync(BrokerRegistrationSpec spec, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (!IsActive) return new(ErrorCode.NotController, "this node is not the active controller", -1);
        await _lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var image = _controller.Image;
            if (!string.Equals(spec.ClusterId, image.ClusterId, StringComparison.Ordinal))
                return new(ErrorCode.InconsistentClusterId,
                    $"Expected cluster ID {image.ClusterId}, but got cluster ID {spec.ClusterId} from broker {spec.BrokerId}.", -1);
            var unsupported = CheckFeatures(image, spec);
            if (unsupported is not null) return new(ErrorCode.UnsupportedVersion, unsupported, -1);

            long now = _clock.MonotonicMilliseconds;
            var existing = image.GetBroker(spec.BrokerId);
            if (existing is not null && existing.IncarnationId != spec.IncarnationId && IsLive(existing.BrokerId, existing.BrokerEpoch, now))
                return new(ErrorCode.DuplicateBrokerRegistration,
                    $"Another broker is registered with broker id {spec.BrokerId} (incarnation {existing.IncarnationId}) and its session has not expired.", -1);

            var result = await _controller.RegisterBrokerAsync(
                spec.BrokerId, spec.IncarnationId, spec.Endpoints, spec.Rack, unfence: false, cancellationToken).ConfigureAwait(false);
            if (result.Error == ErrorCode.None)
                _sessions[spec.BrokerId] = new Session(result.BrokerEpoch, now) { HeardFrom = true };
            return result;
        }
        finally { _lock.Release(); }
    }

    /// <summary>Handles one heartbeat (BrokerHeartbeat, key 63); see the class comment for the rules.</summary>
    public async Task<BrokerHeartbeatResult> HeartbeatAsync(BrokerHeartbeat heartbeat, CancellationToken cancellationToken = default)
    {
        if (!IsActive) return BrokerHeartbeatResult.Failed(ErrorCode.NotController, "this node is not the active controller");
        await _lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var broker = _controller.Image.GetBroker(heartbeat.BrokerId);
            if (broker is null)
                return BrokerHeartbeatResult.Failed(ErrorCode.BrokerIdNotRegistered, $"Broker {heartbeat.BrokerId} is not registered.");
            if (broker.BrokerEpoch != heartbeat.BrokerEpoch)
                return BrokerHeartbeatResult.Failed(ErrorCode.StaleBrokerEpoch,
                    $"Broker {heartbeat.BrokerId} has epoch {broker.BrokerEpoch}, not {heartbeat.BrokerEpoch}.");

            long now = _clock.MonotonicMilliseconds;
            var session = SessionFor(broker, now);
            session.LastContactMs = now;
            session.HeardFrom = true;
            session.MetadataOffset = heartbeat.CurrentMetadataOffset;
            // The registration record's offset is the broker epoch: the broker has caught up once it applied it.
            bool caughtUp = heartbeat.CurrentMetadataOffset >= broker.BrokerEpoch;

            var changed = await ApplyTransitionAsync(broker, session, heartbeat, caughtUp, cancellationToken).ConfigureAwait(false);
            if (!changed.IsSuccess) return BrokerHeartbeatResult.Failed(changed.Error, changed.Message) with { IsCaughtUp = caughtUp };

            var after = _controller.Image.GetBroker(heartbeat.BrokerId) ?? broker;
            return new BrokerHeartbeatResult(ErrorCode.None, null, caughtUp, after.Fenced, session.ShutdownApproved);
        }
        finally { _lock.Release(); }
    }

    /// <summary>
    /// Fences every unfenced broker whose last heartbeat is at least the session timeout old (FenceBrokerRecord) and
    /// drops sessions of brokers that re-registered or vanished. Returns the ids fenced. Does nothing unless active.
    /// The host calls this periodically (e.g. every broker.heartbeat.interval.ms).
    /// </summary>
    public async Task<IReadOnlyList<int>> CheckSessionsAsync(CancellationToken cancellationToken = default)
    {
        if (!IsActive) return [];
        await _lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            long now = _clock.MonotonicMilliseconds;
            var image = _controller.Image;
            List<int>? fenced = null;
            List<int>? stale = null;
            foreach (var (brokerId, session) in _sessions)
            {
                var broker = image.GetBroker(brokerId);
                if (broker is null || broker.BrokerEpoch != session.Epoch) { (stale ??= new()).Add(brokerId); continue; }
                if (broker.Fenced || now - session.LastContactMs < _sessionTimeoutMs) continue;
                (fenced ??= new()).Add(brokerId);
            }
            if (stale is not null) foreach (var id in stale) _sessions.Remove(id);
            if (fenced is null) return [];

            var done = new List<int>(fenced.Count);
            foreach (var id in fenced)
            {
                var session = _sessions[id];
                var result = await _controller.FenceBrokerAsync(id, session.Epoch, cancellationToken).ConfigureAwait(false);
                if (result.IsSuccess)
                {
                    _logger.Warn($"broker {id} (epoch {session.Epoch}) fenced: no heartbeat for {now - session.LastContactMs} ms (session timeout {_sessionTimeoutMs} ms)");
                    done.Add(id);
                }
                else _logger.Warn($"fencing broker {id} after session expiry failed: {result.Error} {result.Message}");
            }
            return done;
        }
        finally { _lock.Release(); }
    }

    /// <summary>
    /// Starts a fresh session (last contact = now) for every registered broker in the image except
    /// <paramref name="exclude"/> (e.g. an in-process broker that never heartbeats). Call when this node becomes
    /// the active controller, as Kafka does, so brokers get a full session timeout to find the new controller.
    /// </summary>
    public void SeedFromImage(IReadOnlySet<int>? exclude = null)
    {
        _lock.Wait();
        try
        {
            long now = _clock.MonotonicMilliseconds;
            _sessions.Clear();
            foreach (var (id, broker) in _controller.Image.Brokers)
                if (exclude is null || !exclude.Contains(id)) _sessions[id] = new Session(broker.BrokerEpoch, now);
        }
        finally { _lock.Release(); }
    }

    /// <summary>Forgets every session (call when this node stops being the active controller).</summary>
    public void Clear()
    {
        _lock.Wait();
        try { _sessions.Clear(); }
        finally { _lock.Release(); }
    }

    /// <summary>A snapshot of a broker's session with its state from the current image, or null when it has none.</summary>
    public BrokerSessionInfo? GetSession(int brokerId)
    {
        _lock.Wait();
        try
        {
            var broker = _controller.Image.GetBroker(brokerId);
            if (broker is null || !_sessions.TryGetValue(brokerId, out var s) || s.Epoch != broker.BrokerEpoch) return null;
            return new BrokerSessionInfo(brokerId, s.Epoch, StateOf(broker), s.LastContactMs, s.MetadataOffset, s.ShutdownApproved);
        }
        finally { _lock.Release(); }
    }

    /// <summary>Fenced / Active / ControlledShutdown as recorded in the image.</summary>
    public static BrokerSessionState StateOf(BrokerRegistration broker) =>
        broker.Fenced ? BrokerSessionState.Fenced
        : broker.InControlledShutdown ? BrokerSessionState.ControlledShutdown
        : BrokerSessionState.Active;

    private async Task<ControllerResult> ApplyTransitionAsync(
        BrokerRegistration broker, Session session, BrokerHeartbeat heartbeat, bool caughtUp, CancellationToken cancellationToken)
    {
        int id = broker.BrokerId;
        long epoch = broker.BrokerEpoch;
        switch (StateOf(broker))
        {
            case BrokerSessionState.Fenced:
                if (heartbeat.WantShutDown)
                {
                    if (!session.ShutdownApproved) _logger.Info($"fenced broker {id} (epoch {epoch}) may shut down now");
                    session.ShutdownApproved = true;
                    return ControllerResult.Ok;
                }
                if (heartbeat.WantFence || !caughtUp || session.ShutdownApproved) return ControllerResult.Ok;
                return await _controller.UnfenceBrokerAsync(id, epoch, cancellationToken).ConfigureAwait(false);

            case BrokerSessionState.Active:
                if (heartbeat.WantFence)
                {
                    var fenced = await _controller.FenceBrokerAsync(id, epoch, cancellationToken).ConfigureAwait(false);
                    if (fenced.IsSuccess && heartbeat.WantShutDown) session.ShutdownApproved = true;
                    return fenced;
                }
                if (!heartbeat.WantShutDown) return ControllerResult.Ok;
                var entered = await _controller.BeginControlledShutdownAsync(id, epoch, cancellationToken).ConfigureAwait(false);
                if (!entered.IsSuccess) return entered;
                return await TryFinishControlledShutdownAsync(id, epoch, session, cancellationToken).ConfigureAwait(false);

            default: // ControlledShutdown: cannot be cancelled; finishes once the broker leads nothing.
                return await TryFinishControlledShutdownAsync(id, epoch, session, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<ControllerResult> TryFinishControlledShutdownAsync(int id, long epoch, Session session, CancellationToken cancellationToken)
    {
        if (_leadsPartitions(id)) return ControllerResult.Ok;
        var fenced = await _controller.FenceBrokerAsync(id, epoch, cancellationToken).ConfigureAwait(false);
        if (!fenced.IsSuccess) return fenced;
        session.ShutdownApproved = true;
        _logger.Info($"broker {id} (epoch {epoch}) finished controlled shutdown: fenced, told to shut down");
        return ControllerResult.Ok;
    }

    private Session SessionFor(BrokerRegistration broker, long now)
    {
        if (!_sessions.TryGetValue(broker.BrokerId, out var session) || session.Epoch != broker.BrokerEpoch)
        {
            session = new Session(broker.BrokerEpoch, now);
            _sessions[broker.BrokerId] = session;
        }
        return session;
    }

    /// <summary>
    /// A session is live when it belongs to that epoch, was heard from (by this controller, not just seeded at its
    /// activation) within the timeout and was not released by shutdown. A seeded session still fences a silent
    /// broker, but does not hold back a restarted process (new incarnation) from registering: the controller has no
    /// evidence the old one is still running, and a restarted single node is its own controller.
    /// </summary>
    private bool IsLive(int brokerId, long brokerEpoch, long now) =>
        _sessions.TryGetValue(brokerId, out var s) && s.Epoch == brokerEpoch && !s.ShutdownApproved && s.HeardFrom
        && now - s.LastContactMs < _sessionTimeoutMs;

    private static string? CheckFeatures(MetadataImage image, BrokerRegistrationSpec spec)
    {
        foreach (var (name, level) in image.Features)
        {
            if (level <= 0) continue;
            short min = 0, max = 0;
            bool found = false;
            foreach (var f in spec.Features)
            {
                if (!string.Equals(f.Name, name, StringComparison.Ordinal)) continue;
                (min, max, found) = (f.MinSupportedVersion, f.MaxSupportedVersion, true);
                break;
            }
            if (level < min || level > max)
                return found
                    ? $"Unable to register because the broker supports {name} {min}-{max} but the cluster is at level {level}."
                    : $"Unable to register because the broker does not support {name}, which the cluster has finalized at level {level}.";
        }
        return null;
    }

    public void Dispose() => _lock.Dispose();

    private sealed class Session(long epoch, long lastContactMs)
    {
        public long Epoch { get; } = epoch;
        public long LastContactMs { get; set; } = lastContactMs;
        public long MetadataOffset { get; set; } = -1;
        public bool ShutdownApproved { get; set; }
        /// <summary>A registration or heartbeat arrived on this controller (false for sessions seeded at activation).</summary>
        public bool HeardFrom { get; set; }
    }
}

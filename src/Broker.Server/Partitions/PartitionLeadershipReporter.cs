using Broker.Consensus;
using Broker.Core.Diagnostics;
using Broker.Core.Model;
using Broker.Protocol.Messages;
using Broker.Server.Lifecycle;

namespace Broker.Server.Partitions;

/// <summary>
/// The broker side of partition leadership reporting: each partition elects its leader in its own Raft group, and
/// the metadata image must follow. Every <c>interval</c> (or at once after <see cref="Nudge"/>) a background loop
/// looks at the local replicas; for each one whose replicated log is leader it computes (leader = this broker,
/// epoch = the replica's term, ISR = the replica's in-sync set, sorted) and, when that differs from the partition's
/// image, reports it. All reports of a round travel in ONE PartitionLeadership request (private key 121) to the
/// active controller's listener over a <see cref="ControllerChannel"/>, reconnecting after any failure; every
/// connect and round trip is bounded. The same values are not sent again within <c>resendAfter</c> (default 2 s)
/// while the image catches up, and a replica whose image already records a later term is not reported (its
/// leadership is stale). A refusal is logged at warn once per partition and epoch; NOT_CONTROLLER drops the
/// connection so the next round goes to the controller then named.
/// Nothing is sent while the broker is unregistered (brokerEpoch -1) or the active controller is unknown.
/// </summary>
public sealed class PartitionLeadershipReporter : IAsyncDisposable
{
    private const short Version = 0;

    private readonly Func<IEnumerable<PartitionState>> _partitions;
    private readonly Func<IReplicatedLog, IReadOnlyList<int>> _inSyncReplicas;
    private readonly Func<int> _brokerId;
    private readonly Func<long> _brokerEpoch;
    private readonly Func<(string Host, int Port)?> _activeController;
    private readonly TimeSpan _interval;
    private readonly TimeSpan _requestTimeout;
    private readonly TimeSpan _connectTimeout;
    private readonly long _resendAfterMs;
    private readonly string _clientId;
    private readonly IClock _clock;
    private readonly Logger _logger;
    private readonly SemaphoreSlim _wake = new(0, 1);
    private readonly CancellationTokenSource _stop = new();
    // Loop-only state (never touched concurrently).
    private readonly Dictionary<TopicPartition, SentReport> _sent = new();
    private readonly Dictionary<TopicPartition, int> _warnedEpoch = new();
    private ControllerChannel? _channel;
    private (string Host, int Port) _channelTarget;
    private bool _connectionWarned;
    private Task? _loop;
    private long _requestsSent;

    /// <param name="partitions">The local replicas (e.g. <c>() =&gt; partitionManager.Partitions</c>).</param>
    /// <param name="inSyncReplicas">The in-sync set a leading replica reports (leader included; it is added if missing).</param>
    /// <param name="brokerId">This broker's id.</param>
    /// <param name="brokerEpoch">The epoch of this broker's registration; -1 while unregistered (nothing is sent).</param>
    /// <param name="activeController">The active controller's listener endpoint; null while unknown (retried next round).</param>
    /// <param name="interval">Time between rounds (default 250 ms).</param>
    /// <param name="requestTimeout">Bound on one request round trip (default 10 s; the controller waits for a commit).</param>
    /// <param name="connectTimeout">Bound on connecting (default 2 s).</param>
    /// <param name="resendAfter">How long the same values are not sent again while the image catches up (default 2 s).</param>
    public PartitionLeadershipReporter(
        Func<IEnumerable<PartitionState>> partitions,
        Func<IReplicatedLog, IReadOnlyList<int>> inSyncReplicas,
        Func<int> brokerId,
        Func<long> brokerEpoch,
        Func<(string Host, int Port)?> activeController,
        TimeSpan? interval = null,
        TimeSpan? requestTimeout = null,
        TimeSpan? connectTimeout = null,
        TimeSpan? resendAfter = null,
        string? clientId = null,
        IClock? clock = null,
        Logger? logger = null)
    {
        _partitions = partitions ?? throw new ArgumentNullException(nameof(partitions));
        _inSyncReplicas = inSyncReplicas ?? throw new ArgumentNullException(nameof(inSyncReplicas));
        _brokerId = brokerId ?? throw new ArgumentNullException(nameof(brokerId));
        _brokerEpoch = brokerEpoch ?? throw new ArgumentNullException(nameof(brokerEpoch));
        _activeController = activeController ?? throw new ArgumentNullException(nameof(activeController));
        _interval = Positive(interval ?? TimeSpan.FromMilliseconds(250), nameof(interval));
        _requestTimeout = Positive(requestTimeout ?? TimeSpan.FromSeconds(10), nameof(requestTimeout));
        _connectTimeout = Positive(connectTimeout ?? TimeSpan.FromSeconds(2), nameof(connectTimeout));
        _resendAfterMs = (long)Positive(resendAfter ?? TimeSpan.FromSeconds(2), nameof(resendAfter)).TotalMilliseconds;
        _clientId = clientId ?? "partition-leadership";
        _clock = clock ?? SystemClock.Instance;
        _logger = logger ?? Log.For("partition-leadership");
    }

    /// <summary>PartitionLeadership requests that got a response (diagnostics and tests).</summary>
    public long RequestsSent => Interlocked.Read(ref _requestsSent);

    /// <summary>Starts the background loop. Call once.</summary>
    public void Start()
    {
        if (_loop is not null) throw new InvalidOperationException("the partition leadership reporter was already started");
        _loop = Task.Run(() => RunAsync(_stop.Token));
    }

    /// <summary>Runs the next round now instead of at the next interval (a local replica's leadership changed).</summary>
    public void Nudge()
    {
        try { if (_wake.CurrentCount == 0) _wake.Release(); }
        catch (SemaphoreFullException) { }
        catch (ObjectDisposedException) { }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_stop.IsCancellationRequested) _stop.Cancel();
        if (_loop is not null)
        {
            try { await _loop.ConfigureAwait(false); }
            catch (OperationCanceledException) { }
        }
        DropChannel();
        _stop.Dispose();
        _wake.Dispose();
    }

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            TimeSpan pause = _interval;
            try { pause = await RoundAsync(cancellationToken).ConfigureAwait(false); }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested) { return; }
            catch (Exception ex)
            {
                _logger.Error("a partition leadership round failed unexpectedly", ex);
                DropChannel();
            }
            try { await _wake.WaitAsync(pause, cancellationToken).ConfigureAwait(false); }
            catch (OperationCanceledException) { return; }
        }
    }

    /// <summary>One round: collect, send, interpret. Returns the pause before the next round.</summary>
    private async Task<TimeSpan> RoundAsync(CancellationToken cancellationToken)
    {
        long brokerEpoch = _brokerEpoch();
        if (brokerEpoch < 0) return _interval;
        int self = _brokerId();
        long now = _clock.MonotonicMilliseconds;
        var pending = Collect(self, now);
        if (pending.Count == 0) return _interval;

        var target = _activeController();
        if (target is null) return _interval; // unknown for now; nothing is marked sent, so the next round tries again

        PartitionLeadershipResponse response;
        ControllerChannel channel;
        try
        {
            channel = await ChannelAsync(target.Value, cancellationToken).ConfigureAwait(false);
            response = await channel.SendAsync(ApiKey.PartitionLeadership, Version, BuildRequest(self, brokerEpoch, pending),
                ReadResponse, _requestTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (ControllerChannelException ex)
        {
            DropChannel();
            if (!_connectionWarned) _logger.Warn($"broker {self}: reporting leadership of {pending.Count} partition(s) failed: {ex.Message}; retrying");
            _connectionWarned = true;
            return _interval > TimeSpan.FromMilliseconds(500) ? _interval : TimeSpan.FromMilliseconds(500);
        }
        _connectionWarned = false;
        Interlocked.Increment(ref _requestsSent);
        foreach (var p in pending) _sent[p.Id] = new SentReport(p.LeaderEpoch, p.Isr, now);
        return Interpret(self, channel.Endpoint, pending, response);
    }

    /// <summary>The leading replicas whose image differs and that were not just reported with the same values.</summary>
    private List<PendingReport> Collect(int self, long now)
    {
        var pending = new List<PendingReport>();
        var live = new HashSet<TopicPartition>();
        foreach (var state in _partitions())
        {
            var replica = state.Replica;
            if (!replica.IsLeader) continue;
            int epoch = replica.LeaderEpoch;
            var image = state.Image;
            if (image.LeaderEpoch > epoch) continue; // the image records a later term: this leadership is stale
            // A single-replica partition's in-sync set can only be this broker: skip the (locking, allocating) read
            // of the replica's set when the image already says so (10,000 such partitions, four rounds a second).
            if (image.Leader == self && image.LeaderEpoch == epoch && image.Replicas.Length == 1 && image.Isr.Length == 1
                && image.Isr[0] == self) continue;
            int[]? isr = InSyncSet(state, self);
            if (isr is null) continue;
            if (image.Leader == self && image.LeaderEpoch == epoch && SameMembers(isr, image.Isr)) continue;
            live.Add(state.Id);
            if (_sent.TryGetValue(state.Id, out var sent) && sent.LeaderEpoch == epoch && sent.Isr.AsSpan().SequenceEqual(isr)
                && now - sent.AtMs < _resendAfterMs)
                continue;
            pending.Add(new PendingReport(state.Id, state.Topic.TopicId, state.Id.Partition, epoch, isr));
        }
        Prune(_sent, live);
        Prune(_warnedEpoch, live);
        return pending;
    }

    /// <summary>The replica's in-sync set, sorted, distinct, with this broker; null when it could not be read.</summary>
    private int[]? InSyncSet(PartitionState state, int self)
    {
        IReadOnlyList<int> reported;
        try { reported = _inSyncReplicas(state.Replica); }
        catch (Exception ex)
        {
            _logger.Error($"reading the in-sync replicas of {state.Id} failed", ex);
            return null;
        }
        var set = new SortedSet<int> { self };
        if (reported is not null)
            foreach (int id in reported) set.Add(id);
        var isr = new int[set.Count];
        set.CopyTo(isr);
        return isr;
    }

    private static PartitionLeadershipRequest BuildRequest(int self, long brokerEpoch, List<PendingReport> pending)
    {
        var request = new PartitionLeadershipRequest { BrokerId = self, BrokerEpoch = brokerEpoch };
        var byTopic = new Dictionary<Guid, PartitionLeadershipRequest.TopicData>();
        foreach (var p in pending)
        {
            if (!byTopic.TryGetValue(p.TopicId, out var topic))
            {
                topic = new PartitionLeadershipRequest.TopicData { TopicId = p.TopicId };
                byTopic.Add(p.TopicId, topic);
                request.Topics.Add(topic);
            }
            topic.Partitions.Add(new PartitionLeadershipRequest.PartitionData
            {
                PartitionIndex = p.PartitionIndex,
                Leader = self,
                LeaderEpoch = p.LeaderEpoch,
                Isr = new List<int>(p.Isr),
            });
        }
        return request;
    }

    private TimeSpan Interpret(int self, string endpoint, List<PendingReport> pending, PartitionLeadershipResponse response)
    {
        var top = (ErrorCode)response.ErrorCode;
        if (top == ErrorCode.NotController) return Redirect(self, endpoint, pending);
        if (top != ErrorCode.None)
        {
            // STALE_BROKER_EPOCH / BROKER_ID_NOT_REGISTERED: the lifecycle client re-registers; retry after resendAfter.
            foreach (var p in pending) WarnOnce(self, p, top);
            return _interval;
        }

        var byKey = new Dictionary<(Guid, int), ErrorCode>();
        foreach (var t in response.Topics)
            foreach (var r in t.Partitions)
                byKey[(t.TopicId, r.PartitionIndex)] = (ErrorCode)r.ErrorCode;
        bool redirect = false;
        foreach (var p in pending)
        {
            if (!byKey.TryGetValue((p.TopicId, p.PartitionIndex), out var error))
            {
                _logger.Warn($"broker {self}: {endpoint} did not answer for {p.Id}");
                continue;
            }
            if (error == ErrorCode.None) { _warnedEpoch.Remove(p.Id); continue; }
            if (error == ErrorCode.NotController) { redirect = true; continue; }
            WarnOnce(self, p, error);
        }
        return redirect ? Redirect(self, endpoint, pending) : _interval;
    }

    /// <summary>The node answered NOT_CONTROLLER: reconnect to whoever is named next, and resend soon.</summary>
    private TimeSpan Redirect(int self, string endpoint, List<PendingReport> pending)
    {
        _logger.Info($"broker {self}: {endpoint} is not the active controller; reporting again once it is known");
        DropChannel();
        foreach (var p in pending) _sent.Remove(p.Id);
        return _interval;
    }

    private void WarnOnce(int self, PendingReport p, ErrorCode error)
    {
        if (_warnedEpoch.TryGetValue(p.Id, out int warned) && warned == p.LeaderEpoch) return;
        _warnedEpoch[p.Id] = p.LeaderEpoch;
        _logger.Warn($"broker {self}: the controller refused leadership of {p.Id} at epoch {p.LeaderEpoch} (isr [{string.Join(",", p.Isr)}]): {error}");
    }

    private async Task<ControllerChannel> ChannelAsync((string Host, int Port) target, CancellationToken cancellationToken)
    {
        if (_channel is not null && _channelTarget == target) return _channel;
        DropChannel();
        _channel = await ControllerChannel.ConnectAsync(target.Host, target.Port, _clientId, _connectTimeout, cancellationToken).ConfigureAwait(false);
        _channelTarget = target;
        return _channel;
    }

    private void DropChannel()
    {
        _channel?.Dispose();
        _channel = null;
    }

    private static bool SameMembers(int[] sortedIsr, System.Collections.Immutable.ImmutableArray<int> current)
    {
        if (current.IsDefault || sortedIsr.Length != current.Length) return false;
        foreach (int id in current)
            if (Array.BinarySearch(sortedIsr, id) < 0) return false;
        return true;
    }

    private static void Prune<T>(Dictionary<TopicPartition, T> map, HashSet<TopicPartition> live)
    {
        if (map.Count == 0) return;
        List<TopicPartition>? gone = null;
        foreach (var key in map.Keys)
            if (!live.Contains(key)) (gone ??= new()).Add(key);
        if (gone is not null)
            foreach (var key in gone) map.Remove(key);
    }

    private static TimeSpan Positive(TimeSpan value, string name) =>
        value > TimeSpan.Zero ? value : throw new ArgumentOutOfRangeException(name, "must be positive");

    private static PartitionLeadershipResponse ReadResponse(ref Protocol.Codec.KafkaReader reader, short version) =>
        PartitionLeadershipResponse.Read(ref reader, version);

    private readonly record struct SentReport(int LeaderEpoch, int[] Isr, long AtMs);

    private sealed record PendingReport(TopicPartition Id, Guid TopicId, int PartitionIndex, int LeaderEpoch, int[] Isr);
}

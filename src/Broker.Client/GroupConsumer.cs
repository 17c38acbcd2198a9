using Broker.Client.Consumer;
using Broker.Core.Diagnostics;
using Broker.Core.Model;

namespace Broker.Client;

// CONTRACT (lead): implemented by the client-groups helper (may be split into partial files).
/// <summary>
/// A member of a consumer group (classic protocol, range assignor "range" plus "roundrobin"): joins, syncs, heartbeats
/// in the background, fetches from its assigned partitions starting at the committed offset (or AutoOffsetReset),
/// commits on request, leaves the group on dispose.
/// </summary>
/// <remarks>
/// Like every Kafka consumer it has connections of its own (a private <see cref="KafkaClient"/> with the given
/// client's options): JoinGroup and SyncGroup wait on the broker for the whole rebalance and fetches long-poll, and
/// brokers answer a connection's requests in order, so sharing connections would hold up the requests of others
/// (including other members' heartbeats). The join runs in the background: a poll that times out while the group
/// is rebalancing returns nothing and the next poll picks up where the join got to. The assignment protocol is
/// eager: on a rebalance every partition is given up; a partition this member keeps across consecutive generations
/// keeps its position, any other starts at the group's committed offset (else <see cref="GroupConsumerOptions.AutoOffsetReset"/>).
/// Heartbeats run in the background; REBALANCE_IN_PROGRESS, UNKNOWN_MEMBER_ID and ILLEGAL_GENERATION make the next
/// poll rejoin (a poll waiting for records notices within 200 ms), FENCED_INSTANCE_ID is final. The group leader
/// re-reads the subscribed topics' partition counts every 5 s and rejoins when they change. A static member
/// (GroupInstanceId) does not send LeaveGroup on dispose, as in Kafka.
/// PollAsync, CommitAsync and SubscribeAsync are serialized; the properties may be read from any thread.
/// </remarks>
public sealed partial class GroupConsumer : IAsyncDisposable
{
    private static readonly Logger Logger = Log.For("client-group");

    private readonly KafkaClient _client;
    private readonly GroupConsumerOptions _options;
    private readonly bool _resetToEarliest;
    private readonly IPartitionAssignor[] _assignors = { new RangeAssignor(), new RoundRobinAssignor() };
    private readonly CancellationTokenSource _lifetime = new();
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly object _stateLock = new();

    // Membership, shared with the heartbeat loop and the background join (guarded by _stateLock).
    private string _memberId = "";
    private int _generationId = -1;
    private bool _stable;
    private bool _rejoinNeeded = true;
    private KafkaException? _fatal;

    // Owned by the caller of PollAsync/CommitAsync/SubscribeAsync (under _gate).
    private List<string> _subscription = new();
    private Task<JoinResult>? _joinTask;
    private Task? _heartbeatTask;
    private int _disposed;

    private volatile IReadOnlyList<TopicPartition> _assignment = Array.Empty<TopicPartition>();

    public GroupConsumer(KafkaClient client, GroupConsumerOptions options)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(options);
        if (string.IsNullOrEmpty(options.GroupId)) throw new ArgumentException("GroupId must not be empty", nameof(options));
        if (options.SessionTimeout <= TimeSpan.Zero || options.RebalanceTimeout <= TimeSpan.Zero || options.HeartbeatInterval <= TimeSpan.Zero)
            throw new ArgumentException("SessionTimeout, RebalanceTimeout and HeartbeatInterval must be positive", nameof(options));
        _resetToEarliest = (options.AutoOffsetReset ?? "").ToLowerInvariant() switch
        {
            "earliest" or "smallest" or "beginning" => true,
            "latest" or "largest" or "end" => false,
            _ => throw new ArgumentException($"AutoOffsetReset must be \"earliest\" or \"latest\", not \"{options.AutoOffsetReset}\"", nameof(options)),
        };
        _options = options;
        var shared = client.Options;
        // JoinGroup waits on the broker up to the rebalance timeout: the request timeout must outlast it.
        var joinWait = options.RebalanceTimeout + TimeSpan.FromSeconds(5);
        _client = new KafkaClient(shared with { RequestTimeout = shared.RequestTimeout > joinWait ? shared.RequestTimeout : joinWait });
    }

    public string GroupId => _options.GroupId;

    /// <summary>The member id given by the coordinator ("" before the first join).</summary>
    public string MemberId
    {
        get { lock (_stateLock) return _memberId; }
    }

    /// <summary>"group 'g' member m" for log lines.</summary>
    private string Who
    {
        get
        {
            string memberId = MemberId;
            return $"group '{GroupId}' member {(memberId.Length == 0 ? "(none)" : memberId)}";
        }
    }

    /// <summary>The generation of the current membership (-1 when not in one).</summary>
    public int GenerationId
    {
        get { lock (_stateLock) return _generationId; }
    }

    /// <summary>The partitions assigned in the current generation.</summary>
    public IReadOnlyList<TopicPartition> Assignment => _assignment;

    /// <summary>Sets the subscription (replacing any previous one); the next poll (re)joins the group.</summary>
    public async Task SubscribeAsync(IReadOnlyList<string> topics, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(topics);
        var distinct = new List<string>(topics.Count);
        foreach (string t in topics)
        {
            if (string.IsNullOrEmpty(t)) throw new ArgumentException("topic names must not be empty", nameof(topics));
            if (!distinct.Contains(t)) distinct.Add(t);
        }
        distinct.Sort(StringComparer.Ordinal);
        await EnterAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            _subscription = distinct;
            lock (_stateLock) _rejoinNeeded = true;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Joins/rejoins as needed, then returns the records available within <paramref name="timeout"/> (empty when none),
    /// at most about <paramref name="maxBytes"/> of record data, and advances the consumed positions.
    /// </summary>
    public async Task<IReadOnlyList<ConsumedRecord>> PollAsync(TimeSpan timeout, int maxBytes = 1024 * 1024,
        CancellationToken cancellationToken = default)
    {
        if (timeout < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(timeout));
        if (maxBytes <= 0) throw new ArgumentOutOfRangeException(nameof(maxBytes));
        var deadline = DateTime.UtcNow + timeout;
        await EnterAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_subscription.Count == 0) throw new InvalidOperationException("PollAsync before SubscribeAsync: the consumer has no subscription");
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _lifetime.Token);
            while (true)
            {
                if (!await EnsureMembershipAsync(deadline, linked.Token).ConfigureAwait(false)) return Array.Empty<ConsumedRecord>();
                CheckMetadataChanges();
                var records = await FetchRecordsAsync(deadline, maxBytes, linked.Token).ConfigureAwait(false);
                // Nothing yet and time left: the group asked for a rejoin, which this poll does now.
                if (records.Count > 0 || DateTime.UtcNow >= deadline) return records;
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Commits <paramref name="offsets"/> (next offset to read), or when null the positions of everything polled so far.</summary>
    public async Task CommitAsync(IReadOnlyList<TopicPartitionOffset>? offsets = null, CancellationToken cancellationToken = default)
    {
        await EnterAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            offsets ??= CurrentPositions();
            if (offsets.Count == 0) return;
            int generation;
            string memberId;
            lock (_stateLock)
            {
                generation = _generationId;
                memberId = _memberId;
            }
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _lifetime.Token);
            var results = await _client.CommitOffsetsAsync(GroupId, generation, memberId, _options.GroupInstanceId, offsets, linked.Token)
                .ConfigureAwait(false);
            ErrorCode first = ErrorCode.None;
            var failed = new List<string>();
            foreach (var r in results)
            {
                if (r.Error == ErrorCode.None) continue;
                if (first == ErrorCode.None) first = r.Error;
                failed.Add($"{r.Topic}-{r.Partition}: {r.Error}");
            }
            if (first == ErrorCode.None) return;
            OnMembershipError(first, generation, memberId, "OffsetCommit");
            throw new KafkaException(first, $"commit of group '{GroupId}' failed for {string.Join(", ", failed)}");
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>The group's committed offsets for <paramref name="partitions"/>.</summary>
    public Task<IReadOnlyList<CommittedOffset>> CommittedAsync(IReadOnlyList<TopicPartition> partitions,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(partitions);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        return _client.FetchCommittedOffsetsAsync(GroupId, partitions, cancellationToken);
    }

    /// <summary>Leaves the group (LeaveGroup) and stops heartbeating.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _lifetime.Cancel();
        // Let a poll or commit in progress see the cancellation and finish before the member leaves.
        bool entered = await _gate.WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        try
        {
            await QuietlyAsync(_joinTask).ConfigureAwait(false);
            await QuietlyAsync(_heartbeatTask).ConfigureAwait(false);
            RevokeAll();
            await LeaveGroupAsync().ConfigureAwait(false);
        }
        finally
        {
            if (entered) _gate.Release();
            await _client.DisposeAsync().ConfigureAwait(false);
        }
    }

    private async Task EnterAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        if (Volatile.Read(ref _disposed) != 0)
        {
            _gate.Release();
            throw new ObjectDisposedException(nameof(GroupConsumer));
        }
    }

    private static async Task QuietlyAsync(Task? task)
    {
        if (task is null) return;
        try
        {
            await task.WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or KafkaException or TimeoutException or ObjectDisposedException)
        {
        }
    }
}

using Broker.Client.Consumer;
using Broker.Core.Model;
using Broker.Protocol.Messages;

namespace Broker.Client;

// Joining the group: JoinGroup (MEMBER_ID_REQUIRED → join again with the given id), the leader's assignment,
// SyncGroup; it runs in the background (one join at a time) and a poll installs its result.
public sealed partial class GroupConsumer
{
    private static readonly TimeSpan MetadataCheckInterval = TimeSpan.FromSeconds(5);

    /// <summary>The outcome of one join: the generation, our part of it and (leader) the partition counts it was computed from.</summary>
    private sealed record JoinResult(int Generation, string MemberId, string Protocol, bool IsLeader,
        TopicPartition[] Assignment, HashSet<string>? GroupTopics, Dictionary<string, int>? PartitionCounts);

    // The membership the current positions belong to (under _gate).
    private int _syncedGeneration = -1;
    private string _syncedMemberId = "";
    private bool _isLeader;
    private HashSet<string>? _groupTopics;
    private Dictionary<string, int>? _partitionCounts;
    private DateTime _nextMetadataCheck;
    private Task<bool>? _metadataCheck;

    /// <summary>
    /// Starts or continues a join when one is needed; true when the member holds a current assignment to fetch
    /// from, false when the join has not finished by <paramref name="deadline"/>.
    /// </summary>
    private async Task<bool> EnsureMembershipAsync(DateTime deadline, CancellationToken cancellationToken)
    {
        lock (_stateLock)
        {
            // Fenced by another member with our group.instance.id: final, as in Kafka (the consumer must be closed).
            if (_fatal is { } fatal) throw fatal;
            if (_joinTask is null && !_rejoinNeeded) return true;
            if (_joinTask is null)
            {
                _rejoinNeeded = false;
                _stable = false;
            }
        }
        if (_joinTask is null)
        {
            RevokeAll();
            var subscription = _subscription;
            _joinTask = Task.Run(() => JoinAsync(subscription, _lifetime.Token));
            _heartbeatTask ??= Task.Run(HeartbeatLoopAsync);
        }

        var remaining = deadline - DateTime.UtcNow;
        try
        {
            await _joinTask.WaitAsync(remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException) when (!_joinTask.IsCompleted)
        {
            return false;
        }
        catch (Exception) when (_joinTask.IsCompleted)
        {
            // The join failed: reported below, once, by awaiting the task itself.
        }
        var task = _joinTask;
        _joinTask = null;
        JoinResult result;
        try
        {
            result = await task.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // A final error (e.g. INCONSISTENT_GROUP_PROTOCOL) goes to the caller; the next poll tries again,
            // except after FENCED_INSTANCE_ID.
            lock (_stateLock)
            {
                _rejoinNeeded = true;
                if (ex is KafkaException { Error: ErrorCode.FencedInstanceId } fenced) _fatal = fenced;
            }
            throw;
        }
        Install(result);
        return true;
    }

    /// <summary>Installs a finished join: the new assignment, positions kept where the same member owned a partition in the previous generation.</summary>
    private void Install(JoinResult result)
    {
        bool continuous = result.MemberId == _syncedMemberId && result.Generation == _syncedGeneration + 1;
        var states = new Dictionary<TopicPartition, PartitionState>(result.Assignment.Length);
        foreach (var tp in result.Assignment)
        {
            var state = new PartitionState(tp);
            if (continuous && _partitions.TryGetValue(tp, out var old) && old.Position >= 0) state.Reset(old.Position);
            states[tp] = state;
        }
        _partitions = states;
        _assignment = result.Assignment;
        _syncedGeneration = result.Generation;
        _syncedMemberId = result.MemberId;
        _isLeader = result.IsLeader;
        _groupTopics = result.GroupTopics;
        _partitionCounts = result.PartitionCounts;
        _nextMetadataCheck = DateTime.UtcNow + MetadataCheckInterval;
        _metadataCheck = null;
        Logger.Debug($"{Who}: generation {result.Generation} ({result.Protocol}" +
            $"{(result.IsLeader ? ", leader" : "")}) assigned [{string.Join(",", result.Assignment)}]");
    }

    private async Task<JoinResult> JoinAsync(List<string> subscription, CancellationToken cancellationToken)
    {
        byte[] metadata = ConsumerProtocol.EncodeSubscription(subscription);
        for (int attempt = 0; ; attempt++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            string memberId;
            lock (_stateLock) memberId = _memberId;

            JoinGroupResponse join;
            try
            {
                join = await _client.SendToGroupCoordinatorAsync(GroupId, JoinGroupRequest.ApiKey, 0, JoinGroupRequest.HighestVersion,
                    _ => BuildJoin(memberId, metadata), JoinGroupResponse.Read, r => (ErrorCode)r.ErrorCode, cancellationToken).ConfigureAwait(false);
            }
            catch (KafkaException ex) when (GroupRetry.IsTransport(ex.Error))
            {
                Logger.Debug($"{Who}: JoinGroup failed ({ex.Message}), retrying");
                await Task.Delay(GroupRetry.Backoff(attempt), cancellationToken).ConfigureAwait(false);
                continue;
            }

            var error = (ErrorCode)join.ErrorCode;
            if (error != ErrorCode.None)
            {
                if (!await ShouldRetryJoinAsync("JoinGroup", error, join.MemberId, attempt, cancellationToken).ConfigureAwait(false))
                    throw new KafkaException(error, $"JoinGroup of group '{GroupId}' failed: {error}");
                continue;
            }
            lock (_stateLock)
            {
                _memberId = join.MemberId;
                _generationId = join.GenerationId;
            }

            bool isLeader = join.Leader == join.MemberId && !join.SkipAssignment;
            string protocol = join.ProtocolName ?? "";
            List<SyncGroupRequest.SyncGroupRequestAssignment>? plan = null;
            HashSet<string>? groupTopics = null;
            Dictionary<string, int>? counts = null;
            if (isLeader)
            {
                try
                {
                    (plan, groupTopics, counts) = await AssignAsync(join, protocol, cancellationToken).ConfigureAwait(false);
                }
                catch (KafkaException ex) when (GroupRetry.IsTransport(ex.Error) || ex.Error == ErrorCode.UnknownTopicOrPartition)
                {
                    // Without metadata the leader cannot assign: join again (the generation times out for the others).
                    Logger.Warn($"{Who}: the leader could not read metadata to assign partitions ({ex.Message}); rejoining");
                    await Task.Delay(GroupRetry.Backoff(attempt), cancellationToken).ConfigureAwait(false);
                    continue;
                }
            }

            SyncGroupResponse sync;
            try
            {
                sync = await _client.SendToGroupCoordinatorAsync(GroupId, SyncGroupRequest.ApiKey, 0, SyncGroupRequest.HighestVersion,
                    _ => new SyncGroupRequest
                    {
                        GroupId = GroupId,
                        GenerationId = join.GenerationId,
                        MemberId = join.MemberId,
                        GroupInstanceId = _options.GroupInstanceId,
                        ProtocolType = ConsumerProtocol.ProtocolType,
                        ProtocolName = protocol,
                        Assignments = plan ?? new(),
                    },
                    SyncGroupResponse.Read, r => (ErrorCode)r.ErrorCode, cancellationToken).ConfigureAwait(false);
            }
            catch (KafkaException ex) when (GroupRetry.IsTransport(ex.Error))
            {
                Logger.Debug($"{Who}: SyncGroup failed ({ex.Message}), rejoining");
                await Task.Delay(GroupRetry.Backoff(attempt), cancellationToken).ConfigureAwait(false);
                continue;
            }
            error = (ErrorCode)sync.ErrorCode;
            if (error != ErrorCode.None)
            {
                if (!await ShouldRetryJoinAsync("SyncGroup", error, join.MemberId, attempt, cancellationToken).ConfigureAwait(false))
                    throw new KafkaException(error, $"SyncGroup of group '{GroupId}' failed: {error}");
                continue;
            }
            if (!ConsumerProtocol.TryDecodeAssignment(sync.Assignment, out var assigned, out string? problem))
                throw new KafkaException(ErrorCode.InconsistentGroupProtocol,
                    $"group '{GroupId}': the leader's assignment for this member is malformed: {problem}");

            lock (_stateLock)
            {
                if (_generationId == join.GenerationId && _memberId == join.MemberId) _stable = true;
            }
            return new JoinResult(join.GenerationId, join.MemberId, protocol, isLeader, assigned.ToArray(), groupTopics, counts);
        }
    }

    private JoinGroupRequest BuildJoin(string memberId, byte[] metadata) => new()
    {
        GroupId = GroupId,
        SessionTimeoutMs = (int)_options.SessionTimeout.TotalMilliseconds,
        RebalanceTimeoutMs = (int)_options.RebalanceTimeout.TotalMilliseconds,
        MemberId = memberId,
        GroupInstanceId = _options.GroupInstanceId,
        ProtocolType = ConsumerProtocol.ProtocolType,
        Protocols = new List<JoinGroupRequest.JoinGroupRequestProtocol>
        {
            new() { Name = _assignors[0].Name, Metadata = metadata },
            new() { Name = _assignors[1].Name, Metadata = metadata },
        },
    };

    /// <summary>Reacts to a JoinGroup/SyncGroup error: true to join again, false when it is final.</summary>
    private async Task<bool> ShouldRetryJoinAsync(string what, ErrorCode error, string answeredMemberId, int attempt,
        CancellationToken cancellationToken)
    {
        switch (error)
        {
            case ErrorCode.MemberIdRequired:
                // KIP-394: the coordinator gave us our member id; join again with it at once.
                lock (_stateLock) _memberId = answeredMemberId;
                return true;
            case ErrorCode.UnknownMemberId:
                lock (_stateLock)
                {
                    _memberId = "";
                    _generationId = -1;
                }
                return true;
            case ErrorCode.RebalanceInProgress:
            case ErrorCode.IllegalGeneration:
                // Another rebalance started (or ours ended without us): join again with the same member id.
                lock (_stateLock) _generationId = -1;
                return true;
            case ErrorCode.NotCoordinator:
            case ErrorCode.CoordinatorNotAvailable:
            case ErrorCode.CoordinatorLoadInProgress:
                Logger.Debug($"{Who}: {what}: {error}, retrying");
                await Task.Delay(GroupRetry.Backoff(attempt), cancellationToken).ConfigureAwait(false);
                return true;
            default:
                return false;
        }
    }

    /// <summary>The leader's part: every member's subscription, partition counts, the agreed assignor's plan.</summary>
    private async Task<(List<SyncGroupRequest.SyncGroupRequestAssignment>, HashSet<string>, Dictionary<string, int>)> AssignAsync(
        JoinGroupResponse join, string protocol, CancellationToken cancellationToken)
    {
        IPartitionAssignor? assignor = null;
        foreach (var a in _assignors)
            if (a.Name == protocol) assignor = a;
        if (assignor is null)
            throw new KafkaException(ErrorCode.InconsistentGroupProtocol, $"group '{GroupId}' chose assignor '{protocol}', which this client does not have");

        var members = new List<MemberSubscription>(join.Members.Count);
        var topics = new HashSet<string>(StringComparer.Ordinal);
        foreach (var m in join.Members)
        {
            if (!ConsumerProtocol.TryDecodeSubscription(m.Metadata, out var memberTopics, out string? problem))
                Logger.Warn($"{Who}: member {m.MemberId} sent a malformed subscription ({problem}); it gets no partitions");
            members.Add(new MemberSubscription(m.MemberId, m.GroupInstanceId, memberTopics));
            topics.UnionWith(memberTopics);
        }
        var counts = await PartitionCountsAsync(topics, cancellationToken).ConfigureAwait(false);
        var plan = assignor.Assign(members, counts);
        var assignments = new List<SyncGroupRequest.SyncGroupRequestAssignment>(members.Count);
        foreach (var m in members)
        {
            var partitions = plan.TryGetValue(m.MemberId, out var list) ? list : new List<TopicPartition>();
            assignments.Add(new SyncGroupRequest.SyncGroupRequestAssignment
            {
                MemberId = m.MemberId,
                Assignment = ConsumerProtocol.EncodeAssignment(partitions),
            });
        }
        return (assignments, topics, counts);
    }

    /// <summary>Partition counts of the topics that exist (others are left out).</summary>
    private async Task<Dictionary<string, int>> PartitionCountsAsync(HashSet<string> topics, CancellationToken cancellationToken)
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        if (topics.Count == 0) return counts;
        var cluster = await _client.GetMetadataAsync(topics.ToList(), false, cancellationToken).ConfigureAwait(false);
        foreach (var t in cluster.Topics)
            if (t.Error == ErrorCode.None && t.Partitions.Count > 0 && topics.Contains(t.Name)) counts[t.Name] = t.Partitions.Count;
        return counts;
    }

    /// <summary>
    /// The leader watches the partition counts its assignment was made from (every few seconds, in the
    /// background); a topic that appears, disappears or grows makes it rejoin, so the group is assigned again.
    /// </summary>
    private void CheckMetadataChanges()
    {
        if (!_isLeader || _groupTopics is null || _partitionCounts is null) return;
        if (_metadataCheck is { IsCompleted: true } done)
        {
            _metadataCheck = null;
            if (done.IsCompletedSuccessfully && done.Result)
            {
                Logger.Debug($"{Who}: partition counts of the subscribed topics changed; rejoining");
                lock (_stateLock) _rejoinNeeded = true;
            }
        }
        if (_metadataCheck is null && DateTime.UtcNow >= _nextMetadataCheck)
        {
            _nextMetadataCheck = DateTime.UtcNow + MetadataCheckInterval;
            var topics = _groupTopics;
            var before = _partitionCounts;
            _metadataCheck = Task.Run(async () =>
            {
                try
                {
                    var now = await PartitionCountsAsync(topics, _lifetime.Token).ConfigureAwait(false);
                    if (now.Count != before.Count) return true;
                    foreach (var (topic, count) in now)
                        if (!before.TryGetValue(topic, out int old) || old != count) return true;
                    return false;
                }
                catch (Exception ex) when (ex is KafkaException or OperationCanceledException)
                {
                    return false;
                }
            });
        }
    }
}

using Broker.Consensus.Raft;
using Broker.Core.Diagnostics;
using Broker.Core.Model;
using Broker.Metadata.Image;
using Broker.Server.Partitions;

namespace Broker.Server.LogAdmin;

/// <summary>One partition named in an ElectLeaders request.</summary>
public readonly record struct ElectionTarget(string Topic, int Partition);

/// <summary>The outcome of one partition's election: an error code (NONE when leadership moved) and a reason.</summary>
public readonly record struct ElectionOutcome(ErrorCode Error, string? Message = null)
{
    public static readonly ElectionOutcome Done = new(ErrorCode.None);
}

/// <summary>
/// Kafka's preferred leader election (ElectLeaders, election type 0) over partition Raft groups. The preferred
/// replica is the first of a partition's replicas (the controller's placement). Per partition:
/// * unknown → UNKNOWN_TOPIC_OR_PARTITION; the preferred replica already leads (as far as this broker knows) →
///   ELECTION_NOT_NEEDED;
/// * led here: when the preferred replica is in sync (the leader's own view: alive and caught up), leadership is
///   handed to it by a Raft leadership transfer (the mechanism of the automatic preferred-leader rebalance), and the
///   call waits until it leads (re-asking while the transfer is abandoned), up to the request's timeout →
///   REQUEST_TIMED_OUT; not in sync → PREFERRED_LEADER_NOT_AVAILABLE;
/// * led by another broker: the partition is forwarded, with the others that broker leads, as one ElectLeaders
///   request to its inter-broker listener (<see cref="ElectLeadersForwarder"/>), which answers them as led there; a
///   forwarded request is never forwarded again (a broker that no longer leads answers NOT_LEADER_OR_FOLLOWER);
///   no known leader → PREFERRED_LEADER_NOT_AVAILABLE.
/// </summary>
public sealed class PreferredLeaderElector
{
    /// <summary>Longest wait for one transfer, whatever the request's timeout.</summary>
    public static readonly TimeSpan MaxTransferWait = TimeSpan.FromSeconds(30);
    private static readonly Logger Logger = Log.For("log-admin");

    private readonly PartitionManager _partitions;
    private readonly ElectLeadersForwarder? _forwarder;

    /// <param name="forwarder">Reaches other brokers; null on a single node (partitions led elsewhere then answer
    /// PREFERRED_LEADER_NOT_AVAILABLE).</param>
    public PreferredLeaderElector(PartitionManager partitions, ElectLeadersForwarder? forwarder)
    {
        ArgumentNullException.ThrowIfNull(partitions);
        _partitions = partitions;
        _forwarder = forwarder;
    }

    /// <summary>Every partition of the current image (ElectLeaders with null topic partitions).</summary>
    public List<ElectionTarget> AllPartitions()
    {
        var all = new List<ElectionTarget>();
        var image = _partitions.Image;
        if (image is null) return all;
        foreach (var topic in image.TopicsByName.Values)
            foreach (var p in topic.Partitions)
                all.Add(new ElectionTarget(topic.Name, p.PartitionId));
        all.Sort(static (a, b) => a.Topic != b.Topic ? string.CompareOrdinal(a.Topic, b.Topic) : a.Partition.CompareTo(b.Partition));
        return all;
    }

    /// <summary>
    /// Runs the preferred election of every target (concurrently) and returns the outcomes in the same order.
    /// <paramref name="forwarded"/>: the request came from another broker; answer locally only.
    /// </summary>
    public async Task<ElectionOutcome[]> ElectAsync(IReadOnlyList<ElectionTarget> targets, bool forwarded, TimeSpan timeout,
        CancellationToken cancellationToken)
    {
        var outcomes = new ElectionOutcome[targets.Count];
        var local = new List<(int Index, Task<ElectionOutcome> Task)>();
        var remote = new Dictionary<int, List<int>>();
        var wait = timeout < MaxTransferWait ? timeout : MaxTransferWait;
        var image = _partitions.Image;
        for (int i = 0; i < targets.Count; i++)
        {
            var (topic, partition) = targets[i];
            var partitionImage = image?.GetPartition(topic, partition);
            if (partitionImage is null)
            {
                outcomes[i] = new(ErrorCode.UnknownTopicOrPartition, $"Partition {topic}-{partition} does not exist.");
                continue;
            }
            if (partitionImage.Replicas.IsEmpty)
            {
                outcomes[i] = new(ErrorCode.PreferredLeaderNotAvailable, $"Partition {topic}-{partition} has no replicas.");
                continue;
            }
            int preferred = partitionImage.Replicas[0];
            var state = LocalReplica(topic, partition);
            int leader = CurrentLeader(state, partitionImage);
            if (leader == preferred)
            {
                outcomes[i] = new(ErrorCode.ElectionNotNeeded, $"Leader election not needed for {topic}-{partition}: replica {preferred} already leads it.");
            }
            else if (state is not null && state.IsLeader)
            {
                local.Add((i, TransferAsync(state, preferred, wait, cancellationToken)));
            }
            else if (forwarded)
            {
                outcomes[i] = new(ErrorCode.NotLeaderOrFollower, $"Broker {_partitions.LocalNodeId} does not lead {topic}-{partition}.");
            }
            else if (leader < 0 || _forwarder is null)
            {
                outcomes[i] = new(ErrorCode.PreferredLeaderNotAvailable, leader < 0
                    ? $"Partition {topic}-{partition} has no leader at the moment."
                    : $"Partition {topic}-{partition} is led by broker {leader}, which this broker cannot reach.");
            }
            else
            {
                if (!remote.TryGetValue(leader, out var list)) remote[leader] = list = new();
                list.Add(i);
            }
        }

        var forwards = new List<Task>();
        foreach (var (broker, indexes) in remote)
            forwards.Add(ForwardAsync(broker, indexes, targets, outcomes, timeout, cancellationToken));
        foreach (var (index, task) in local) outcomes[index] = await task.ConfigureAwait(false);
        await Task.WhenAll(forwards).ConfigureAwait(false);
        return outcomes;
    }

    private PartitionState? LocalReplica(string topic, int partition)
    {
        try
        {
            return _partitions.Find(topic, partition, out var state) == ErrorCode.None ? state : null;
        }
        catch (ObjectDisposedException)
        {
            return null;
        }
    }

    /// <summary>The leader as this broker knows it: a local Raft replica knows best, else the metadata image.</summary>
    private int CurrentLeader(PartitionState? state, PartitionImage image)
    {
        if (state is null) return image.Leader;
        if (state.IsLeader) return _partitions.LocalNodeId;
        if (state.Replica is RaftReplicatedLog raft && raft.LeaderId >= 0) return raft.LeaderId;
        return image.Leader == _partitions.LocalNodeId ? -1 : image.Leader;
    }

    private async Task<ElectionOutcome> TransferAsync(PartitionState state, int preferred, TimeSpan wait, CancellationToken cancellationToken)
    {
        string name = state.Id.ToString();
        if (state.Replica is not RaftReplicatedLog raft)
            return new(ErrorCode.PreferredLeaderNotAvailable, $"{name}: this replica has no leader election of its own.");
        if (!raft.InSyncReplicas().Contains(preferred))
            return new(ErrorCode.PreferredLeaderNotAvailable, $"{name}: preferred replica {preferred} is not alive and in sync.");
        var deadline = DateTime.UtcNow + wait;
        while (true)
        {
            if (!raft.IsLeader && raft.LeaderId == preferred)
            {
                Logger.Info($"{name}: leadership moved to the preferred replica {preferred}");
                return ElectionOutcome.Done;
            }
            // Asking again is a no-op while the transfer runs, and restarts it once abandoned (after an election timeout).
            if (raft.IsLeader && !raft.TransferLeadership(preferred))
                return new(ErrorCode.PreferredLeaderNotAvailable, $"{name}: leadership could not be handed to replica {preferred}.");
            if (DateTime.UtcNow >= deadline)
                return new(ErrorCode.RequestTimedOut, $"{name}: replica {preferred} did not take leadership within {wait.TotalMilliseconds:0} ms.");
            await Task.Delay(25, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task ForwardAsync(int broker, List<int> indexes, IReadOnlyList<ElectionTarget> targets, ElectionOutcome[] outcomes,
        TimeSpan timeout, CancellationToken cancellationToken)
    {
        var subset = new ElectionTarget[indexes.Count];
        for (int j = 0; j < subset.Length; j++) subset[j] = targets[indexes[j]];
        var answers = await _forwarder!.ForwardAsync(broker, _partitions.Image, subset, timeout, cancellationToken).ConfigureAwait(false);
        for (int j = 0; j < subset.Length; j++) outcomes[indexes[j]] = answers[j];
    }
}

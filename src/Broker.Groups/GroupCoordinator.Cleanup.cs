using Broker.Core.Model;
using Broker.Groups.Internal;

namespace Broker.Groups;

// Removing offsets and groups: retention-based expiry (Kafka's cleanupGroupMetadata), DeleteGroups and OffsetDelete.
// Each writes tombstones to the group's offsets partition.
public sealed partial class GroupCoordinator
{
    /// <summary>Expires offsets past offsets.retention.ms in every loaded group; Empty groups left without offsets die.</summary>
    private void ExpireOffsets()
    {
        long now = WallNow;
        int offsetsRemoved = 0, groupsRemoved = 0;
        foreach (var p in _partitions.Values)
        {
            if (!p.Loaded || !IsOwned(p)) continue;
            p.SnapshotInto(_maintenanceGroups);
            foreach (var group in _maintenanceGroups)
            {
                lock (group.Gate)
                {
                    if (group.Is(GroupState.Dead)) continue;
                    var expired = ExpiredOffsetsLocked(group, now);
                    foreach (var tp in expired) group.Offsets.Remove(tp);
                    bool removeGroup = group.Is(GroupState.Empty) && group.Offsets.Count == 0 && group.PendingOffsetCommits.Count == 0;
                    if (removeGroup)
                    {
                        group.TransitionTo(GroupState.Dead, now);
                        p.Remove(group);
                        groupsRemoved++;
                    }
                    offsetsRemoved += expired.Count;
                    if (expired.Count > 0 || removeGroup)
                        _ = LogFailureAsync(WriteTombstonesLocked(group, expired, removeGroup, out _), $"tombstones of {group.GroupId}");
                }
            }
        }
        _maintenanceGroups.Clear();
        if (offsetsRemoved > 0 || groupsRemoved > 0)
            Logger.Info($"removed {offsetsRemoved} expired offsets and {groupsRemoved} groups");
    }

    /// <summary>
    /// Kafka 2.1+ retention: in an Empty group every offset expires once retention passed since the group became
    /// Empty (or since its commit when that time is unknown); in a Stable consumer group only offsets of topics no
    /// member subscribes to expire, by commit time; groups that never had members (commits only) expire by commit
    /// time. An offset committed with an explicit retention (OffsetCommit v2-v4) expires at its own timestamp.
    /// </summary>
    private List<TopicPartition> ExpiredOffsetsLocked(Group group, long now)
    {
        var expired = new List<TopicPartition>();
        bool empty = group.ProtocolType is not null && group.Is(GroupState.Empty);
        bool stableConsumers = group.IsConsumerGroup && group.SubscribedTopics is not null && group.Is(GroupState.Stable);
        bool standalone = group.ProtocolType is null;
        if (!empty && !stableConsumers && !standalone) return expired;
        foreach (var (tp, entry) in group.Offsets)
        {
            if (group.HasPendingCommit(tp)) continue;
            if (stableConsumers && group.SubscribedTopics!.Contains(tp.Topic)) continue;
            bool isExpired;
            if (entry.ExpireTimestamp >= 0)
            {
                isExpired = now >= entry.ExpireTimestamp;
            }
            else
            {
                long baseTimestamp = empty && group.CurrentStateTimestamp >= 0 ? group.CurrentStateTimestamp : entry.CommitTimestamp;
                isExpired = now - baseTimestamp >= Options.OffsetsRetentionMs;
            }
            if (isExpired) expired.Add(tp);
        }
        return expired;
    }

    public async Task<ErrorCode> DeleteGroupAsync(string groupId, CancellationToken cancellationToken = default)
    {
        if (groupId is null) return ErrorCode.InvalidGroupId;
        var error = Resolve(groupId, out var partition);
        if (error != ErrorCode.None) return error;
        var group = partition.Find(groupId);
        if (group is null) return ErrorCode.GroupIdNotFound;
        Task<ErrorCode> write;
        long previousStateTimestamp;
        lock (group.Gate)
        {
            switch (group.State)
            {
                case GroupState.Dead:
                    return partition.Active ? ErrorCode.GroupIdNotFound : ErrorCode.NotCoordinator;
                case GroupState.Empty:
                    break;
                default:
                    return ErrorCode.NonEmptyGroup;
            }
            // Dead while the tombstones are written: nothing else may touch the group meanwhile.
            previousStateTimestamp = group.CurrentStateTimestamp;
            group.TransitionTo(GroupState.Dead, WallNow);
            write = WriteTombstonesLocked(group, [.. group.Offsets.Keys], groupTombstone: true, out _);
        }
        error = await write.ConfigureAwait(false);
        if (error == ErrorCode.None)
        {
            lock (group.Gate) group.Offsets.Clear();
            partition.Remove(group);
            Logger.Info($"group {groupId} deleted");
            return ErrorCode.None;
        }
        lock (group.Gate)
        {
            if (group.Is(GroupState.Dead) && partition.Active)
            {
                group.TransitionTo(GroupState.Empty, previousStateTimestamp);
            }
        }
        return GroupWriteError(error);
    }

    public async Task<OffsetDeleteOutcome> DeleteOffsetsAsync(string groupId, IReadOnlyList<TopicPartition> partitions,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(partitions);
        if (groupId is null) return new OffsetDeleteOutcome(ErrorCode.InvalidGroupId, []);
        var error = Resolve(groupId, out var partition);
        if (error != ErrorCode.None) return new OffsetDeleteOutcome(error, []);
        var group = partition.Find(groupId);
        if (group is null) return new OffsetDeleteOutcome(ErrorCode.GroupIdNotFound, []);

        var results = new PartitionResult[partitions.Count];
        var eligible = new List<int>(partitions.Count);
        var tombstones = new List<TopicPartition>();
        Task<ErrorCode> write;
        long firstOffset;
        lock (group.Gate)
        {
            switch (group.State)
            {
                case GroupState.Dead:
                    return new OffsetDeleteOutcome(partition.Active ? ErrorCode.GroupIdNotFound : ErrorCode.NotCoordinator, []);
                case GroupState.Empty:
                    for (int i = 0; i < partitions.Count; i++) eligible.Add(i);
                    break;
                default:
                    if (!group.IsConsumerGroup) return new OffsetDeleteOutcome(ErrorCode.NonEmptyGroup, []);
                    // Offsets the members consume cannot go (their consumers would commit them again).
                    for (int i = 0; i < partitions.Count; i++)
                    {
                        if (group.IsSubscribedToTopic(partitions[i].Topic))
                            results[i] = new PartitionResult(partitions[i].Topic, partitions[i].Partition, ErrorCode.GroupSubscribedToTopic);
                        else
                            eligible.Add(i);
                    }
                    break;
            }
            foreach (int i in eligible)
            {
                if (group.Offsets.ContainsKey(partitions[i]) && !tombstones.Contains(partitions[i])) tombstones.Add(partitions[i]);
            }
            write = WriteTombstonesLocked(group, tombstones, groupTombstone: false, out firstOffset);
        }

        error = await write.ConfigureAwait(false);
        if (error == ErrorCode.None && tombstones.Count > 0)
        {
            lock (group.Gate)
            {
                for (int k = 0; k < tombstones.Count; k++)
                {
                    // A commit appended after the tombstone stays.
                    if (group.Offsets.TryGetValue(tombstones[k], out var entry) && entry.RecordOffset < firstOffset + k)
                        group.Offsets.Remove(tombstones[k]);
                }
                if (group.Is(GroupState.Empty) && group.Offsets.Count == 0 && group.PendingOffsetCommits.Count == 0)
                {
                    group.TransitionTo(GroupState.Dead, WallNow);
                    partition.Remove(group);
                    _ = LogFailureAsync(WriteTombstonesLocked(group, [], groupTombstone: true, out _), $"tombstone of {groupId}");
                }
            }
        }
        var partitionError = error == ErrorCode.None ? ErrorCode.None : GroupWriteError(error);
        foreach (int i in eligible) results[i] = new PartitionResult(partitions[i].Topic, partitions[i].Partition, partitionError);
        return new OffsetDeleteOutcome(ErrorCode.None, results);
    }
}

using Broker.Groups.Internal;

namespace Broker.Groups;

/// <summary>One committed offset of a group this node coordinates (metrics snapshot).</summary>
public readonly record struct GroupCommittedOffset(string GroupId, string Topic, int Partition, long Offset);

/// <summary>One group this node coordinates, with its state name and member count (metrics snapshot).</summary>
public readonly record struct GroupSummary(string GroupId, string State, int Members);

// Read-only snapshots for metrics: committed offsets and group states of the loaded, owned __consumer_offsets
// partitions. Each group is read under its own lock, so a snapshot is consistent per group, not across groups.
public sealed partial class GroupCoordinator
{
    /// <summary>Every committed offset of the groups this node coordinates (Dead groups left out).</summary>
    public IReadOnlyList<GroupCommittedOffset> SnapshotCommittedOffsets()
    {
        var result = new List<GroupCommittedOffset>();
        foreach (var group in OwnedGroups())
        {
            lock (group.Gate)
            {
                if (group.Is(GroupState.Dead)) continue;
                foreach (var (tp, entry) in group.Offsets)
                    result.Add(new GroupCommittedOffset(group.GroupId, tp.Topic, tp.Partition, entry.Offset));
            }
        }
        return result;
    }

    /// <summary>The groups this node coordinates with their state (Kafka's state names) and member count.</summary>
    public IReadOnlyList<GroupSummary> SnapshotGroups()
    {
        var result = new List<GroupSummary>();
        foreach (var group in OwnedGroups())
        {
            lock (group.Gate)
            {
                if (group.Is(GroupState.Dead)) continue;
                result.Add(new GroupSummary(group.GroupId, StateName(group.State), group.Members.Count));
            }
        }
        return result;
    }

    private List<Group> OwnedGroups()
    {
        var groups = new List<Group>();
        if (_disposed) return groups;
        foreach (var p in _partitions.Values)
        {
            if (!p.Loaded || !IsOwned(p)) continue;
            groups.AddRange(p.Snapshot());
        }
        return groups;
    }
}

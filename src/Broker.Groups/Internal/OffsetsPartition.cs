using Broker.Consensus;

namespace Broker.Groups.Internal;

/// <summary>
/// A __consumer_offsets partition this node leads, for one leader epoch: its replica, whether its groups are loaded
/// yet, and the groups it holds. A new epoch (or lost leadership) retires the object; <see cref="Active"/> false
/// means its groups were unloaded and nothing may be added any more.
/// </summary>
internal sealed class OffsetsPartition
{
    private volatile bool _loaded;
    private volatile bool _active = true;

    public OffsetsPartition(int index, IReplicatedLog replica, int epoch)
    {
        Index = index;
        Replica = replica;
        Epoch = epoch;
    }

    public int Index { get; }
    public IReplicatedLog Replica { get; }
    public int Epoch { get; }
    /// <summary>Guards group creation against unloading.</summary>
    public Lock Gate { get; } = new();
    public Dictionary<string, Group> Groups { get; } = new(StringComparer.Ordinal);
    public CancellationTokenSource Cancel { get; } = new();
    public bool Loaded { get => _loaded; set => _loaded = value; }
    public bool Active { get => _active; set => _active = value; }
    /// <summary>Set when loading failed: the maintenance loop retries from this monotonic time on.</summary>
    public long RetryAtMs { get; set; } = -1;

    /// <summary>Still leader of the epoch this object was created for.</summary>
    public bool IsCurrentLeader => Active && Replica.IsLeader && Replica.LeaderEpoch == Epoch;

    public Group? Find(string groupId)
    {
        lock (Gate) return Groups.GetValueOrDefault(groupId);
    }

    /// <summary>The group, created Empty when missing; null once the partition was unloaded.</summary>
    public Group? GetOrCreate(string groupId, long nowMs)
    {
        lock (Gate)
        {
            if (!Active) return null;
            if (Groups.TryGetValue(groupId, out var group)) return group;
            group = new Group(groupId, this);
            group.TransitionTo(GroupState.Empty, nowMs);
            Groups.Add(groupId, group);
            return group;
        }
    }

    public void Remove(Group group)
    {
        lock (Gate)
        {
            if (Groups.TryGetValue(group.GroupId, out var current) && ReferenceEquals(current, group)) Groups.Remove(group.GroupId);
        }
    }

    public List<Group> Snapshot()
    {
        lock (Gate) return [.. Groups.Values];
    }

    /// <summary>Replaces <paramref name="buffer"/>'s contents with the current groups (no allocation once it is large enough).</summary>
    public void SnapshotInto(List<Group> buffer)
    {
        buffer.Clear();
        lock (Gate)
        {
            foreach (var group in Groups.Values) buffer.Add(group);
        }
    }

    public override string ToString() => $"__consumer_offsets-{Index} (epoch {Epoch})";
}

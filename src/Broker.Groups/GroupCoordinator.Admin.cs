using Broker.Core.Model;
using Broker.Groups.Internal;

namespace Broker.Groups;

// DescribeGroups and ListGroups (Kafka's handleDescribeGroup / handleListGroups).
public sealed partial class GroupCoordinator
{
    /// <summary>Groups of the classic protocol report this type to ListGroups v5's type filter (KIP-848).</summary>
    private const string ClassicGroupType = "classic";

    public GroupDescription DescribeGroup(string groupId)
    {
        if (groupId is null) return new GroupDescription(ErrorCode.InvalidGroupId, "", "", "", "", []);
        var error = Resolve(groupId, out var partition);
        if (error != ErrorCode.None) return new GroupDescription(error, groupId, "", "", "", []);
        var group = partition.Find(groupId);
        var dead = new GroupDescription(ErrorCode.None, groupId, nameof(GroupState.Dead), "", "", []);
        if (group is null) return dead;
        lock (group.Gate)
        {
            if (group.Is(GroupState.Dead)) return dead;
            bool stable = group.Is(GroupState.Stable);
            var members = new GroupMemberDescription[group.Members.Count];
            for (int i = 0; i < members.Length; i++)
            {
                var m = group.Members[i];
                // Kafka shows protocol metadata and assignments of Stable groups only.
                members[i] = new GroupMemberDescription(m.MemberId, m.GroupInstanceId, m.ClientId, m.ClientHost,
                    stable ? m.MetadataFor(group.ProtocolName) : [], stable ? m.Assignment : []);
            }
            return new GroupDescription(ErrorCode.None, groupId, StateName(group.State), group.ProtocolType ?? "",
                stable ? group.ProtocolName ?? "" : "", members);
        }
    }

    /// <summary>Groups this node coordinates; filters are Kafka's ListGroups v4 state filter and v5 type filter (null = all).</summary>
    public ListGroupsOutcome ListGroups(IReadOnlyList<string>? statesFilter, IReadOnlyList<string>? typesFilter)
    {
        var groups = new List<GroupListing>();
        if (typesFilter is { Count: > 0 } && !ContainsIgnoreCase(typesFilter, ClassicGroupType)) return new ListGroupsOutcome(ErrorCode.None, groups);
        var error = ErrorCode.None;
        foreach (var p in _partitions.Values)
        {
            if (!IsOwned(p)) continue;
            if (!p.Loaded)
            {
                error = ErrorCode.CoordinatorLoadInProgress; // Kafka answers what it has, with this error
                continue;
            }
            foreach (var group in p.Snapshot())
            {
                lock (group.Gate)
                {
                    if (group.Is(GroupState.Dead)) continue;
                    string state = StateName(group.State);
                    if (statesFilter is { Count: > 0 } && !ContainsIgnoreCase(statesFilter, state)) continue;
                    groups.Add(new GroupListing(group.GroupId, group.ProtocolType ?? "", state));
                }
            }
        }
        return new ListGroupsOutcome(error, groups);
    }

    private static string StateName(GroupState state) => state switch
    {
        GroupState.Empty => "Empty",
        GroupState.PreparingRebalance => "PreparingRebalance",
        GroupState.CompletingRebalance => "CompletingRebalance",
        GroupState.Stable => "Stable",
        _ => "Dead",
    };

    private static bool ContainsIgnoreCase(IReadOnlyList<string> values, string value)
    {
        foreach (var v in values)
        {
            if (string.Equals(v, value, StringComparison.OrdinalIgnoreCase)) return true;
        }
        return false;
    }
}

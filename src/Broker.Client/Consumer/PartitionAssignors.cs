using Broker.Core.Model;

namespace Broker.Client.Consumer;

/// <summary>A group member's subscription as the group leader sees it in the JoinGroup answer.</summary>
public sealed record MemberSubscription(string MemberId, string? GroupInstanceId, IReadOnlyList<string> Topics);

/// <summary>
/// A client-side partition assignor of the classic consumer protocol: the group leader runs the one the group
/// agreed on (by name) over every member's subscription. Names are shared with other clients ("range",
/// "roundrobin"), so the algorithm must be exactly theirs for a mixed group to agree.
/// </summary>
public interface IPartitionAssignor
{
    string Name { get; }

    /// <summary>
    /// The partitions of each member (every member gets an entry, possibly empty). Topics missing from
    /// <paramref name="partitionCounts"/> (unknown to the cluster) are not assigned.
    /// </summary>
    Dictionary<string, List<TopicPartition>> Assign(IReadOnlyList<MemberSubscription> members,
        IReadOnlyDictionary<string, int> partitionCounts);
}

/// <summary>Helpers shared by the assignors: Kafka's member order and the empty result.</summary>
internal static class AssignorSupport
{
    /// <summary>
    /// Kafka's MemberInfo order: static members (by group.instance.id) before dynamic ones (by member id), ordinal
    /// string comparison as Java's String.compareTo for the ids clients generate.
    /// </summary>
    public static int CompareMembers(MemberSubscription a, MemberSubscription b)
    {
        if (a.GroupInstanceId is not null && b.GroupInstanceId is not null)
            return string.CompareOrdinal(a.GroupInstanceId, b.GroupInstanceId);
        if (a.GroupInstanceId is not null) return -1;
        if (b.GroupInstanceId is not null) return 1;
        return string.CompareOrdinal(a.MemberId, b.MemberId);
    }

    public static Dictionary<string, List<TopicPartition>> EmptyAssignment(IReadOnlyList<MemberSubscription> members)
    {
        var result = new Dictionary<string, List<TopicPartition>>(members.Count, StringComparer.Ordinal);
        foreach (var m in members) result[m.MemberId] = new List<TopicPartition>();
        return result;
    }

    public static bool Subscribes(MemberSubscription member, string topic)
    {
        foreach (string t in member.Topics)
            if (string.Equals(t, topic, StringComparison.Ordinal)) return true;
        return false;
    }
}

/// <summary>
/// Kafka's RangeAssignor ("range"): per topic, the members subscribed to it in member order each get a contiguous
/// range of partitions; the first (partitions % members) members get one extra.
/// </summary>
public sealed class RangeAssignor : IPartitionAssignor
{
    public const string AssignorName = "range";

    public string Name => AssignorName;

    public Dictionary<string, List<TopicPartition>> Assign(IReadOnlyList<MemberSubscription> members,
        IReadOnlyDictionary<string, int> partitionCounts)
    {
        var result = AssignorSupport.EmptyAssignment(members);
        var topics = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var m in members)
            foreach (string t in m.Topics) topics.Add(t);

        foreach (string topic in topics)
        {
            if (!partitionCounts.TryGetValue(topic, out int partitions) || partitions <= 0) continue;
            var subscribed = new List<MemberSubscription>();
            foreach (var m in members)
                if (AssignorSupport.Subscribes(m, topic)) subscribed.Add(m);
            subscribed.Sort(AssignorSupport.CompareMembers);

            int perMember = partitions / subscribed.Count;
            int withExtra = partitions % subscribed.Count;
            for (int i = 0; i < subscribed.Count; i++)
            {
                int start = perMember * i + Math.Min(i, withExtra);
                int length = perMember + (i < withExtra ? 1 : 0);
                var list = result[subscribed[i].MemberId];
                for (int p = start; p < start + length; p++) list.Add(new TopicPartition(topic, p));
            }
        }
        return result;
    }
}

/// <summary>
/// Kafka's RoundRobinAssignor ("roundrobin"): every partition of every subscribed topic (topics by name, partitions
/// in order) goes to the next member in a circular walk over all members in member order, skipping members not
/// subscribed to that partition's topic.
/// </summary>
public sealed class RoundRobinAssignor : IPartitionAssignor
{
    public const string AssignorName = "roundrobin";

    public string Name => AssignorName;

    public Dictionary<string, List<TopicPartition>> Assign(IReadOnlyList<MemberSubscription> members,
        IReadOnlyDictionary<string, int> partitionCounts)
    {
        var result = AssignorSupport.EmptyAssignment(members);
        if (members.Count == 0) return result;
        var ordered = new List<MemberSubscription>(members);
        ordered.Sort(AssignorSupport.CompareMembers);
        var topics = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var m in members)
            foreach (string t in m.Topics) topics.Add(t);

        int next = 0;
        foreach (string topic in topics)
        {
            if (!partitionCounts.TryGetValue(topic, out int partitions) || partitions <= 0) continue;
            for (int p = 0; p < partitions; p++)
            {
                // Some member subscribes to the topic (it came from a subscription), so this walk ends.
                while (!AssignorSupport.Subscribes(ordered[next], topic)) next = (next + 1) % ordered.Count;
                result[ordered[next].MemberId].Add(new TopicPartition(topic, p));
                next = (next + 1) % ordered.Count;
            }
        }
        return result;
    }
}

using Broker.Core.Model;

namespace Broker.Groups.Internal;

internal enum GroupState { Empty, PreparingRebalance, CompletingRebalance, Stable, Dead }

/// <summary>What the pending rebalance (PreparingRebalance) waits for.</summary>
internal enum RebalanceKind { None, InitialDelay, Join }

/// <summary>A committed offset as cached (Kafka's OffsetAndMetadata plus the log offset of its record).</summary>
internal readonly record struct OffsetEntry(long Offset, int LeaderEpoch, string Metadata, long CommitTimestamp,
    long ExpireTimestamp, long RecordOffset);

/// <summary>
/// One classic group (Kafka's GroupMetadata): state, generation, members in join order, static and pending members,
/// protocol bookkeeping, rebalance/sync timers and the committed offsets. Every field is guarded by <see cref="Gate"/>;
/// the coordinator drives the transitions, this type only keeps the bookkeeping consistent.
/// </summary>
internal sealed class Group
{
    private readonly List<Member> _members = [];
    private readonly Dictionary<string, Member> _byId = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _supportedProtocols = new(StringComparer.Ordinal);

    public Group(string groupId, OffsetsPartition partition)
    {
        GroupId = groupId;
        Partition = partition;
    }

    public Lock Gate { get; } = new();
    public string GroupId { get; }
    public OffsetsPartition Partition { get; }
    public GroupState State { get; private set; } = GroupState.Empty;
    /// <summary>Wall-clock time of the last transition (-1 unknown): offsets of an Empty group expire from it.</summary>
    public long CurrentStateTimestamp { get; set; } = -1;
    public int Generation { get; set; }
    public string? ProtocolType { get; set; }
    public string? ProtocolName { get; set; }
    public string? LeaderId { get; set; }

    public IReadOnlyList<Member> Members => _members;
    /// <summary>Member ids handed out with MEMBER_ID_REQUIRED, with their monotonic expiry.</summary>
    public Dictionary<string, long> PendingMembers { get; } = new(StringComparer.Ordinal);
    /// <summary>group.instance.id → current member id.</summary>
    public Dictionary<string, string> StaticMembers { get; } = new(StringComparer.Ordinal);

    public RebalanceKind Rebalance { get; set; }
    public long RebalanceDeadline { get; set; }
    public long InitialDelayRemainingMs { get; set; }
    public bool NewMemberAdded { get; set; }
    /// <summary>Members of the new generation that have not sent SyncGroup yet, and when they are dropped.</summary>
    public HashSet<string> PendingSync { get; } = new(StringComparer.Ordinal);
    public long PendingSyncDeadline { get; set; }
    /// <summary>Topics the consumer-protocol members subscribe to (null when unknown or not a consumer group).</summary>
    public HashSet<string>? SubscribedTopics { get; set; }

    public Dictionary<TopicPartition, OffsetEntry> Offsets { get; } = [];
    /// <summary>Offset commits appended but not yet committed (count per partition).</summary>
    public Dictionary<TopicPartition, int> PendingOffsetCommits { get; } = [];

    public bool IsEmpty => _members.Count == 0;
    public bool Is(GroupState state) => State == state;
    public bool CanRebalance => State is GroupState.Stable or GroupState.CompletingRebalance or GroupState.Empty;
    public bool IsConsumerGroup => ProtocolType == "consumer";

    public void TransitionTo(GroupState state, long nowMs)
    {
        State = state;
        CurrentStateTimestamp = nowMs;
    }

    public Member? Get(string memberId) => _byId.GetValueOrDefault(memberId);

    public bool Has(string memberId) => Get(memberId) is not null;
    public bool IsLeader(string memberId) => LeaderId == memberId;
    public bool IsPending(string memberId) => PendingMembers.ContainsKey(memberId);

    public string? StaticMemberId(string? groupInstanceId) =>
        groupInstanceId is not null && StaticMembers.TryGetValue(groupInstanceId, out var id) ? id : null;

    /// <summary>The instance id is registered to another member id (KIP-345 fencing).</summary>
    public bool IsStaticMemberFenced(string? groupInstanceId, string memberId) =>
        groupInstanceId is not null && StaticMembers.TryGetValue(groupInstanceId, out var id) && id != memberId;

    public int AwaitingJoinCount
    {
        get
        {
            int n = 0;
            foreach (var m in _members) if (m.IsAwaitingJoin) n++;
            return n;
        }
    }

    public bool HasAllMembersJoined => AwaitingJoinCount == _members.Count && PendingMembers.Count == 0;

    /// <summary>The largest rebalance timeout of the members: how long a rebalance waits for rejoins.</summary>
    public int RebalanceTimeoutMs
    {
        get
        {
            int max = 0;
            foreach (var m in _members) max = Math.Max(max, m.RebalanceTimeoutMs);
            return max;
        }
    }

    /// <summary>Kafka's supportsProtocols: a first member needs a type and protocols; later ones must share the
    /// type and at least one protocol every current member supports.</summary>
    public bool SupportsProtocols(string protocolType, IReadOnlyList<GroupProtocol> protocols)
    {
        if (IsEmpty) return protocolType.Length > 0 && protocols.Count > 0;
        if (ProtocolType != protocolType) return false;
        foreach (var p in protocols)
        {
            if (_supportedProtocols.TryGetValue(p.Name, out int n) && n == _members.Count) return true;
        }
        return false;
    }

    public void Add(Member member)
    {
        if (_members.Count == 0) ProtocolType = member.ProtocolType;
        _members.Add(member);
        _byId[member.MemberId] = member;
        LeaderId ??= member.MemberId;
        PendingMembers.Remove(member.MemberId);
        if (member.GroupInstanceId is not null) StaticMembers[member.GroupInstanceId] = member.MemberId;
        CountProtocols(member.Protocols, +1);
    }

    /// <summary>Removes the member (its waiting calls are the caller's business); a removed leader passes to the first member.</summary>
    public void Remove(Member member)
    {
        if (!_members.Remove(member)) return;
        _byId.Remove(member.MemberId);
        CountProtocols(member.Protocols, -1);
        if (member.GroupInstanceId is not null && StaticMemberId(member.GroupInstanceId) == member.MemberId)
            StaticMembers.Remove(member.GroupInstanceId);
        PendingSync.Remove(member.MemberId);
        if (LeaderId == member.MemberId) LeaderId = _members.Count > 0 ? _members[0].MemberId : null;
    }

    public void UpdateProtocols(Member member, GroupProtocol[] protocols)
    {
        CountProtocols(member.Protocols, -1);
        member.Protocols = protocols;
        CountProtocols(protocols, +1);
    }

    /// <summary>Gives a static member a new member id; its waiting calls get FENCED_INSTANCE_ID.</summary>
    public void ReplaceStaticMember(Member member, string newMemberId)
    {
        string oldMemberId = member.MemberId;
        member.TryCompleteJoin(Member.JoinError(ErrorCode.FencedInstanceId, oldMemberId));
        member.TryCompleteSync(Member.SyncError(ErrorCode.FencedInstanceId));
        Rename(member, newMemberId);
    }

    /// <summary>Moves a static member to another member id, keeping leadership, pending sync and the instance mapping.</summary>
    public void Rename(Member member, string newMemberId)
    {
        string oldMemberId = member.MemberId;
        _byId.Remove(oldMemberId);
        member.MemberId = newMemberId;
        _byId[newMemberId] = member;
        if (LeaderId == oldMemberId) LeaderId = newMemberId;
        if (PendingSync.Remove(oldMemberId)) PendingSync.Add(newMemberId);
        if (member.GroupInstanceId is not null) StaticMembers[member.GroupInstanceId] = newMemberId;
    }

    /// <summary>Kafka's selectProtocol: each member votes its preferred protocol among those all members support.</summary>
    public string SelectProtocol()
    {
        var candidates = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, count) in _supportedProtocols)
        {
            if (count == _members.Count) candidates.Add(name);
        }
        var votes = new Dictionary<string, int>(StringComparer.Ordinal);
        string? best = null;
        int bestVotes = 0;
        foreach (var m in _members)
        {
            string? vote = m.Vote(candidates);
            if (vote is null) continue;
            int n = votes[vote] = votes.GetValueOrDefault(vote) + 1;
            if (n > bestVotes) { best = vote; bestVotes = n; }
        }
        return best ?? throw new InvalidOperationException($"group {GroupId}: no protocol supported by every member");
    }

    /// <summary>The topics the members' consumer-protocol subscriptions name, or null when any is unreadable.</summary>
    public HashSet<string>? ComputeSubscribedTopics()
    {
        if (!IsConsumerGroup || ProtocolName is null || _members.Count == 0) return null;
        var topics = new HashSet<string>(StringComparer.Ordinal);
        foreach (var m in _members)
        {
            if (!ConsumerProtocol.TryReadSubscribedTopics(m.MetadataFor(ProtocolName), topics)) return null;
        }
        return topics;
    }

    public bool IsSubscribedToTopic(string topic) => SubscribedTopics?.Contains(topic) == true;

    public bool HasPendingCommit(TopicPartition tp) => PendingOffsetCommits.ContainsKey(tp);

    public void AddPendingCommit(TopicPartition tp) => PendingOffsetCommits[tp] = PendingOffsetCommits.GetValueOrDefault(tp) + 1;

    public void RemovePendingCommit(TopicPartition tp)
    {
        if (!PendingOffsetCommits.TryGetValue(tp, out int n)) return;
        if (n <= 1) PendingOffsetCommits.Remove(tp);
        else PendingOffsetCommits[tp] = n - 1;
    }

    /// <summary>Caches a committed offset unless a record later in the log already set it (log order wins).</summary>
    public void ApplyCommitted(TopicPartition tp, OffsetEntry entry)
    {
        if (Offsets.TryGetValue(tp, out var current) && current.RecordOffset > entry.RecordOffset) return;
        Offsets[tp] = entry;
    }

    private void CountProtocols(GroupProtocol[] protocols, int delta)
    {
        foreach (var p in protocols)
        {
            int n = _supportedProtocols.GetValueOrDefault(p.Name) + delta;
            if (n <= 0) _supportedProtocols.Remove(p.Name);
            else _supportedProtocols[p.Name] = n;
        }
    }

    public override string ToString() => $"group {GroupId} (generation {Generation}, {State})";
}

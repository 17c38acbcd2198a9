using Broker.Core.Model;

namespace Broker.Groups.Internal;

/// <summary>
/// One member of a classic group (Kafka's MemberMetadata): its protocols, timeouts, assignment, the JoinGroup or
/// SyncGroup call it has outstanding and its session deadline. Guarded by the owning <see cref="Group"/>'s lock.
/// </summary>
internal sealed class Member
{
    public Member(string memberId, string? groupInstanceId, string clientId, string clientHost, int rebalanceTimeoutMs,
        int sessionTimeoutMs, string protocolType, GroupProtocol[] protocols)
    {
        MemberId = memberId;
        GroupInstanceId = groupInstanceId;
        ClientId = clientId;
        ClientHost = clientHost;
        RebalanceTimeoutMs = rebalanceTimeoutMs;
        SessionTimeoutMs = sessionTimeoutMs;
        ProtocolType = protocolType;
        Protocols = protocols;
    }

    public string MemberId { get; set; }
    public string? GroupInstanceId { get; }
    public string ClientId { get; }
    public string ClientHost { get; }
    public int RebalanceTimeoutMs { get; set; }
    public int SessionTimeoutMs { get; set; }
    public string ProtocolType { get; }
    /// <summary>In the member's order of preference.</summary>
    public GroupProtocol[] Protocols { get; set; }
    public byte[] Assignment { get; set; } = [];

    /// <summary>The pending JoinGroup answer, while the member waits for the rebalance to complete.</summary>
    public TaskCompletionSource<JoinGroupOutcome>? AwaitingJoin { get; set; }
    /// <summary>The pending SyncGroup answer, while the member waits for the leader's assignment.</summary>
    public TaskCompletionSource<SyncGroupOutcome>? AwaitingSync { get; set; }

    /// <summary>Joined but never completed a rebalance: expires after <see cref="GroupCoordinator.NewMemberJoinTimeoutMs"/>.</summary>
    public bool IsNew { get; set; }
    /// <summary>Monotonic time at which the member's session (or new-member join) expires.</summary>
    public long SessionDeadline { get; set; }

    public bool IsStatic => GroupInstanceId is not null;
    public bool IsAwaitingJoin => AwaitingJoin is not null;
    public bool IsAwaitingSync => AwaitingSync is not null;

    /// <summary>Kafka's hasSatisfiedHeartbeat once the deadline passed: members waiting on a rebalance are kept.</summary>
    public bool KeptAliveByRebalance => !IsNew && (IsAwaitingJoin || IsAwaitingSync);

    public byte[] MetadataFor(string? protocolName)
    {
        if (protocolName is null) return [];
        foreach (var p in Protocols)
        {
            if (p.Name == protocolName) return p.Metadata;
        }
        return [];
    }

    public bool Supports(string protocolName)
    {
        foreach (var p in Protocols)
        {
            if (p.Name == protocolName) return true;
        }
        return false;
    }

    /// <summary>Same protocols, in the same order, with byte-identical metadata.</summary>
    public bool Matches(IReadOnlyList<GroupProtocol> protocols)
    {
        if (protocols.Count != Protocols.Length) return false;
        for (int i = 0; i < Protocols.Length; i++)
        {
            if (protocols[i].Name != Protocols[i].Name) return false;
            if (!protocols[i].Metadata.AsSpan().SequenceEqual(Protocols[i].Metadata)) return false;
        }
        return true;
    }

    /// <summary>The member's most preferred protocol among <paramref name="candidates"/>.</summary>
    public string? Vote(HashSet<string> candidates)
    {
        foreach (var p in Protocols)
        {
            if (candidates.Contains(p.Name)) return p.Name;
        }
        return null;
    }

    /// <summary>Answers a waiting JoinGroup (if any); true when one was waiting.</summary>
    public bool TryCompleteJoin(JoinGroupOutcome outcome)
    {
        var tcs = AwaitingJoin;
        if (tcs is null) return false;
        AwaitingJoin = null;
        tcs.TrySetResult(outcome);
        return true;
    }

    /// <summary>Answers a waiting SyncGroup (if any); true when one was waiting.</summary>
    public bool TryCompleteSync(SyncGroupOutcome outcome)
    {
        var tcs = AwaitingSync;
        if (tcs is null) return false;
        AwaitingSync = null;
        tcs.TrySetResult(outcome);
        return true;
    }

    public static JoinGroupOutcome JoinError(ErrorCode error, string memberId) =>
        new(error, -1, null, null, "", false, memberId, []);

    public static SyncGroupOutcome SyncError(ErrorCode error) => new(error, null, null, []);
}

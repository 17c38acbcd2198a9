using Broker.Core.Model;
using Broker.Groups.Internal;

namespace Broker.Groups;

// JoinGroup (Kafka's handleJoinGroup): new members (MEMBER_ID_REQUIRED, KIP-394), static members (KIP-345) and
// known members rejoining; the answer is either immediate or the member's pending join completed by the rebalance.
public sealed partial class GroupCoordinator
{
    /// <summary>A static member replaced in a Stable group without a rebalance: answered once the group is persisted.</summary>
    private sealed record StaticRejoin(Group Group, Member Member, Task<ErrorCode> Store, TaskCompletionSource<JoinGroupOutcome> Answer,
        string OldMemberId, string? CurrentLeader, GroupProtocol[] OldProtocols, int OldRebalanceTimeoutMs, int OldSessionTimeoutMs, int Generation);

    public Task<JoinGroupOutcome> JoinGroupAsync(JoinGroupArgs args, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(args);
        string memberId = args.MemberId ?? "";
        if (string.IsNullOrEmpty(args.GroupId)) return Immediate(ErrorCode.InvalidGroupId, memberId);
        var error = Resolve(args.GroupId, out var partition);
        if (error != ErrorCode.None) return Immediate(error, memberId);
        if (args.SessionTimeoutMs < Options.GroupMinSessionTimeoutMs || args.SessionTimeoutMs > Options.GroupMaxSessionTimeoutMs)
            return Immediate(ErrorCode.InvalidSessionTimeout, memberId);

        if (args.ClientId is null || args.ClientHost is null || args.ProtocolType is null)
            args = args with { ClientId = args.ClientId ?? "", ClientHost = args.ClientHost ?? "", ProtocolType = args.ProtocolType ?? "" };
        bool unknownMember = memberId.Length == 0;
        var group = unknownMember ? partition.GetOrCreate(args.GroupId, WallNow) : partition.Find(args.GroupId);
        if (group is null) return Immediate(unknownMember ? ErrorCode.NotCoordinator : ErrorCode.UnknownMemberId, memberId);
        var protocols = DistinctProtocols(args.Protocols);

        Task<JoinGroupOutcome> result;
        StaticRejoin? rejoin = null;
        lock (group.Gate)
        {
            // A static instance takes its old place (or is fenced): it is never a new member for group.max.size.
            var existing = group.Get(memberId) ?? group.Get(group.StaticMemberId(args.GroupInstanceId) ?? "");
            if (!AcceptJoiningMember(group, existing))
            {
                if (existing is not null && existing.MemberId == memberId) RemoveMemberAndUpdateGroupLocked(group, existing);
                result = Immediate(ErrorCode.GroupMaxSizeReached, "");
            }
            else
            {
                result = unknownMember
                    ? NewMemberJoinLocked(group, args, protocols, out rejoin)
                    : CurrentMemberJoinLocked(group, memberId, args, protocols);
            }
            if (group.Is(GroupState.PreparingRebalance)) TryCompleteJoinLocked(group);
        }
        if (rejoin is not null) _ = CompleteStaticRejoinAsync(rejoin);
        return cancellationToken.CanBeCanceled ? result.WaitAsync(cancellationToken) : result;
    }

    /// <summary>Kafka's acceptJoiningMember: group.max.size counts members (or those rejoining during a rebalance).</summary>
    private bool AcceptJoiningMember(Group group, Member? member) => group.State switch
    {
        GroupState.Empty or GroupState.Dead => true,
        GroupState.PreparingRebalance => member is { IsAwaitingJoin: true } || group.AwaitingJoinCount < Options.GroupMaxSize,
        _ => member is not null || group.Members.Count < Options.GroupMaxSize,
    };

    private Task<JoinGroupOutcome> NewMemberJoinLocked(Group group, JoinGroupArgs args, GroupProtocol[] protocols, out StaticRejoin? rejoin)
    {
        rejoin = null;
        if (group.Is(GroupState.Dead)) return Immediate(DeadGroupError(group), "");
        if (!group.SupportsProtocols(args.ProtocolType, protocols)) return Immediate(ErrorCode.InconsistentGroupProtocol, "");
        string newMemberId = args.ClientId + "-" + Guid.NewGuid().ToString("D");
        if (args.GroupInstanceId is not null) return StaticMemberJoinLocked(group, newMemberId, args, protocols, out rejoin);
        if (args.RequireKnownMemberId)
        {
            // KIP-394: hand out the id and wait for the member to come back with it (or forget it after a session).
            group.PendingMembers[newMemberId] = MonotonicNow + args.SessionTimeoutMs;
            return Immediate(ErrorCode.MemberIdRequired, newMemberId);
        }
        return AddMemberAndRebalanceLocked(group, newMemberId, args, protocols);
    }

    private Task<JoinGroupOutcome> StaticMemberJoinLocked(Group group, string newMemberId, JoinGroupArgs args, GroupProtocol[] protocols,
        out StaticRejoin? rejoin)
    {
        rejoin = null;
        string? oldMemberId = group.StaticMemberId(args.GroupInstanceId);
        var member = oldMemberId is null ? null : group.Get(oldMemberId);
        if (member is null) return AddMemberAndRebalanceLocked(group, newMemberId, args, protocols);

        // The instance came back with a new member id: the old id is fenced, the member keeps its place.
        string? currentLeader = group.LeaderId;
        var oldProtocols = member.Protocols;
        int oldRebalanceTimeout = member.RebalanceTimeoutMs, oldSessionTimeout = member.SessionTimeoutMs;
        group.ReplaceStaticMember(member, newMemberId);
        var answer = UpdateMemberLocked(group, member, args, protocols);
        Logger.Info($"{group}: static member {args.GroupInstanceId} rejoined as {newMemberId} (was {oldMemberId})");
        switch (group.State)
        {
            case GroupState.Stable:
                if (group.ProtocolName == group.SelectProtocol())
                {
                    // Same protocol for the next generation: persist the new member id, no rebalance.
                    var store = StoreGroupLocked(group, null);
                    rejoin = new StaticRejoin(group, member, store, answer, oldMemberId!, currentLeader, oldProtocols,
                        oldRebalanceTimeout, oldSessionTimeout, group.Generation);
                }
                else
                {
                    MaybePrepareRebalanceLocked(group, $"static member {args.GroupInstanceId} rejoined with other protocols");
                }
                break;
            case GroupState.CompletingRebalance:
                // The leader may be assigning for the old member id: start over.
                PrepareRebalanceLocked(group, $"static member {args.GroupInstanceId} rejoined during CompletingRebalance");
                break;
        }
        return answer.Task;
    }

    private async Task CompleteStaticRejoinAsync(StaticRejoin rejoin)
    {
        var error = await rejoin.Store.ConfigureAwait(false);
        var group = rejoin.Group;
        var member = rejoin.Member;
        lock (group.Gate)
        {
            if (!ReferenceEquals(member.AwaitingJoin, rejoin.Answer)) return; // a rebalance or unload answered it
            if (error == ErrorCode.None)
            {
                member.TryCompleteJoin(new JoinGroupOutcome(ErrorCode.None, group.Generation, group.ProtocolType, group.ProtocolName,
                    // the old leader id, so the leader does not assign in a Stable group (Kafka does the same)
                    rejoin.CurrentLeader ?? "", false, member.MemberId, []));
                return;
            }
            string newMemberId = member.MemberId;
            if (group.Is(GroupState.Stable) && group.Generation == rejoin.Generation && group.Has(newMemberId))
            {
                RevertStaticMember(group, member, rejoin);
            }
            member.TryCompleteJoin(Member.JoinError(error, newMemberId));
        }
    }

    private static void RevertStaticMember(Group group, Member member, StaticRejoin rejoin)
    {
        group.Rename(member, rejoin.OldMemberId);
        group.UpdateProtocols(member, rejoin.OldProtocols);
        member.RebalanceTimeoutMs = rejoin.OldRebalanceTimeoutMs;
        member.SessionTimeoutMs = rejoin.OldSessionTimeoutMs;
    }

    private Task<JoinGroupOutcome> CurrentMemberJoinLocked(Group group, string memberId, JoinGroupArgs args, GroupProtocol[] protocols)
    {
        if (group.Is(GroupState.Dead)) return Immediate(DeadGroupError(group), memberId);
        if (!group.SupportsProtocols(args.ProtocolType, protocols)) return Immediate(ErrorCode.InconsistentGroupProtocol, memberId);
        if (group.IsPending(memberId))
        {
            // The id came from MEMBER_ID_REQUIRED; pending ids are never static.
            if (args.GroupInstanceId is not null) return Immediate(ErrorCode.UnknownMemberId, memberId);
            return AddMemberAndRebalanceLocked(group, memberId, args, protocols);
        }
        if (group.IsStaticMemberFenced(args.GroupInstanceId, memberId)) return Immediate(ErrorCode.FencedInstanceId, memberId);
        var member = group.Get(memberId);
        bool instanceUnknown = args.GroupInstanceId is not null && !group.StaticMembers.ContainsKey(args.GroupInstanceId);
        if (member is null || instanceUnknown) return Immediate(ErrorCode.UnknownMemberId, memberId);

        member.SessionDeadline = MonotonicNow + member.SessionTimeoutMs;
        switch (group.State)
        {
            case GroupState.PreparingRebalance:
                return UpdateMemberAndRebalanceLocked(group, member, args, protocols, "member rejoined during PreparingRebalance");
            case GroupState.CompletingRebalance:
                // Same metadata: it probably missed the JoinGroup answer, so give it again.
                return member.Matches(protocols)
                    ? Task.FromResult(CurrentGenerationOutcome(group, member, withMembers: group.IsLeader(memberId)))
                    : UpdateMemberAndRebalanceLocked(group, member, args, protocols, "member rejoined with new metadata");
            case GroupState.Stable:
                // The leader rejoining forces a rebalance (topic metadata changes); so does changed metadata.
                if (group.IsLeader(memberId) || !member.Matches(protocols))
                    return UpdateMemberAndRebalanceLocked(group, member, args, protocols, $"member {memberId} rejoined in Stable");
                return Task.FromResult(CurrentGenerationOutcome(group, member, withMembers: false));
            default:
                return Immediate(ErrorCode.UnknownMemberId, memberId);
        }
    }

    private Task<JoinGroupOutcome> AddMemberAndRebalanceLocked(Group group, string memberId, JoinGroupArgs args, GroupProtocol[] protocols)
    {
        var member = new Member(memberId, args.GroupInstanceId, args.ClientId, args.ClientHost, args.RebalanceTimeoutMs,
            args.SessionTimeoutMs, args.ProtocolType, protocols)
        {
            IsNew = true,
            // A new member cannot heartbeat before its first JoinGroup answer: it gets Kafka's new-member timeout.
            SessionDeadline = MonotonicNow + NewMemberJoinTimeoutMs,
        };
        var answer = NewJoinAnswer();
        member.AwaitingJoin = answer;
        if (group.Is(GroupState.PreparingRebalance) && group.Generation == 0) group.NewMemberAdded = true;
        group.Add(member);
        MaybePrepareRebalanceLocked(group, $"member {memberId} joined");
        return answer.Task;
    }

    private Task<JoinGroupOutcome> UpdateMemberAndRebalanceLocked(Group group, Member member, JoinGroupArgs args,
        GroupProtocol[] protocols, string reason)
    {
        var answer = UpdateMemberLocked(group, member, args, protocols);
        MaybePrepareRebalanceLocked(group, reason);
        return answer.Task;
    }

    /// <summary>New protocols and timeouts; the member now waits for the rebalance (an older waiting join is let go).</summary>
    private TaskCompletionSource<JoinGroupOutcome> UpdateMemberLocked(Group group, Member member, JoinGroupArgs args, GroupProtocol[] protocols)
    {
        group.UpdateProtocols(member, protocols);
        member.RebalanceTimeoutMs = args.RebalanceTimeoutMs;
        member.SessionTimeoutMs = args.SessionTimeoutMs;
        member.SessionDeadline = MonotonicNow + args.SessionTimeoutMs;
        member.TryCompleteJoin(Member.JoinError(ErrorCode.RebalanceInProgress, member.MemberId));
        var answer = NewJoinAnswer();
        member.AwaitingJoin = answer;
        return answer;
    }

    /// <summary>The JoinGroup answer for the current generation (the leader's includes every member's metadata).</summary>
    private static JoinGroupOutcome CurrentGenerationOutcome(Group group, Member member, bool withMembers)
    {
        IReadOnlyList<GroupMemberMetadata> members = [];
        if (withMembers)
        {
            var list = new GroupMemberMetadata[group.Members.Count];
            for (int i = 0; i < list.Length; i++)
            {
                var m = group.Members[i];
                list[i] = new GroupMemberMetadata(m.MemberId, m.GroupInstanceId, m.MetadataFor(group.ProtocolName));
            }
            members = list;
        }
        return new JoinGroupOutcome(ErrorCode.None, group.Generation, group.ProtocolType, group.ProtocolName, group.LeaderId ?? "",
            false, member.MemberId, members);
    }

    /// <summary>The protocols in the member's order, without repeated names (the first wins, as in Kafka's keyed collection).</summary>
    private static GroupProtocol[] DistinctProtocols(IReadOnlyList<GroupProtocol>? protocols)
    {
        if (protocols is null || protocols.Count == 0) return [];
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var result = new List<GroupProtocol>(protocols.Count);
        foreach (var p in protocols)
        {
            if (p.Name is not null && seen.Add(p.Name)) result.Add(p with { Metadata = p.Metadata ?? [] });
        }
        return [.. result];
    }

    private static TaskCompletionSource<JoinGroupOutcome> NewJoinAnswer() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private static Task<JoinGroupOutcome> Immediate(ErrorCode error, string memberId) => Task.FromResult(Member.JoinError(error, memberId));
}

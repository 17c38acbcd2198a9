using Broker.Core.Model;
using Broker.Groups.Internal;

namespace Broker.Groups;

// The rebalance state machine (Kafka's prepareRebalance / DelayedJoin / InitialDelayedJoin / onCompleteJoin /
// DelayedSync / heartbeat expiry). Every method runs under the group's lock.
public sealed partial class GroupCoordinator
{
    private void MaybePrepareRebalanceLocked(Group group, string reason)
    {
        if (group.CanRebalance) PrepareRebalanceLocked(group, reason);
    }

    private void PrepareRebalanceLocked(Group group, string reason)
    {
        // Members waiting for an assignment must rejoin instead.
        if (group.Is(GroupState.CompletingRebalance)) ResetAndPropagateAssignmentErrorLocked(group, ErrorCode.RebalanceInProgress);
        group.PendingSync.Clear();
        bool wasEmpty = group.Is(GroupState.Empty);
        group.TransitionTo(GroupState.PreparingRebalance, WallNow);
        long now = MonotonicNow;
        group.NewMemberAdded = false;
        if (wasEmpty && Options.GroupInitialRebalanceDelayMs > 0)
        {
            // Kafka's InitialDelayedJoin: wait for more members of a new group, the delay restarting while they come.
            group.Rebalance = RebalanceKind.InitialDelay;
            group.RebalanceDeadline = now + Options.GroupInitialRebalanceDelayMs;
            group.InitialDelayRemainingMs = Math.Max(group.RebalanceTimeoutMs - Options.GroupInitialRebalanceDelayMs, 0);
        }
        else
        {
            group.Rebalance = RebalanceKind.Join;
            group.RebalanceDeadline = now + group.RebalanceTimeoutMs;
        }
        Logger.Info($"{group}: preparing to rebalance ({reason})");
        TryCompleteJoinLocked(group);
    }

    /// <summary>Kafka's DelayedJoin.tryComplete: done once every member rejoined and no MEMBER_ID_REQUIRED id is outstanding.</summary>
    private void TryCompleteJoinLocked(Group group)
    {
        if (group.Is(GroupState.PreparingRebalance) && group.Rebalance == RebalanceKind.Join && group.HasAllMembersJoined)
            CompleteJoinLocked(group);
    }

    /// <summary>Kafka's onCompleteJoin: drop dynamic members that did not rejoin, start the next generation, answer the joins.</summary>
    private void CompleteJoinLocked(Group group)
    {
        group.Rebalance = RebalanceKind.None;
        foreach (var m in group.Members.ToArray())
        {
            if (!m.IsAwaitingJoin && !m.IsStatic)
            {
                Logger.Info($"{group}: removing member {m.MemberId}, which did not rejoin in time");
                RemoveMemberLocked(group, m);
            }
        }
        if (group.Is(GroupState.Dead)) return;
        if (!MaybeElectNewJoinedLeader(group) && !group.IsEmpty)
        {
            // Only static members that have not rejoined are left: wait another rebalance timeout (or their sessions).
            group.Rebalance = RebalanceKind.Join;
            group.RebalanceDeadline = MonotonicNow + group.RebalanceTimeoutMs;
            return;
        }

        group.Generation++;
        long now = MonotonicNow;
        if (group.IsEmpty)
        {
            group.ProtocolName = null;
            group.SubscribedTopics = null;
            group.TransitionTo(GroupState.Empty, WallNow);
            Logger.Info($"{group}: now empty");
            _ = LogFailureAsync(StoreGroupLocked(group, null), $"empty {group}");
            return;
        }
        group.ProtocolName = group.SelectProtocol();
        group.SubscribedTopics = group.ComputeSubscribedTopics();
        group.TransitionTo(GroupState.CompletingRebalance, WallNow);
        Logger.Info($"{group}: stabilized with {group.Members.Count} members, protocol {group.ProtocolName}, leader {group.LeaderId}");
        foreach (var m in group.Members)
        {
            m.TryCompleteJoin(CurrentGenerationOutcome(group, m, withMembers: group.IsLeader(m.MemberId)));
            m.SessionDeadline = now + m.SessionTimeoutMs;
            m.IsNew = false;
        }
        // Kafka's DelayedSync: members that do not send SyncGroup within the rebalance timeout are dropped.
        group.PendingSync.Clear();
        foreach (var m in group.Members) group.PendingSync.Add(m.MemberId);
        group.PendingSyncDeadline = now + group.RebalanceTimeoutMs;
    }

    /// <summary>The leader stays if it rejoined, else the first member that did; false when none did.</summary>
    private static bool MaybeElectNewJoinedLeader(Group group)
    {
        if (group.LeaderId is null) return false;
        if (group.Get(group.LeaderId) is { IsAwaitingJoin: true }) return true;
        foreach (var m in group.Members)
        {
            if (m.IsAwaitingJoin)
            {
                group.LeaderId = m.MemberId;
                return true;
            }
        }
        return false;
    }

    /// <summary>Kafka's removeMemberAndUpdateGroup: the member goes (its waiting calls answered), the group reacts.</summary>
    private void RemoveMemberAndUpdateGroupLocked(Group group, Member member)
    {
        RemoveMemberLocked(group, member);
        switch (group.State)
        {
            case GroupState.Stable or GroupState.CompletingRebalance:
                MaybePrepareRebalanceLocked(group, $"member {member.MemberId} left");
                break;
            case GroupState.PreparingRebalance:
                TryCompleteJoinLocked(group);
                break;
        }
    }

    private static void RemoveMemberLocked(Group group, Member member)
    {
        member.TryCompleteJoin(Member.JoinError(ErrorCode.UnknownMemberId, ""));
        member.TryCompleteSync(Member.SyncError(ErrorCode.UnknownMemberId));
        group.Remove(member);
    }

    private void RemovePendingMemberLocked(Group group, string memberId)
    {
        group.PendingMembers.Remove(memberId);
        TryCompleteJoinLocked(group);
    }

    private void ResetAndPropagateAssignmentErrorLocked(Group group, ErrorCode error)
    {
        long now = MonotonicNow;
        foreach (var m in group.Members)
        {
            m.Assignment = [];
            if (m.TryCompleteSync(Member.SyncError(error))) m.SessionDeadline = now + m.SessionTimeoutMs;
        }
    }

    private void SetAndPropagateAssignmentLocked(Group group, Dictionary<string, byte[]> assignments)
    {
        long now = MonotonicNow;
        foreach (var m in group.Members)
        {
            m.Assignment = assignments.GetValueOrDefault(m.MemberId) ?? [];
            if (m.TryCompleteSync(new SyncGroupOutcome(ErrorCode.None, group.ProtocolType, group.ProtocolName, m.Assignment)))
                m.SessionDeadline = now + m.SessionTimeoutMs;
        }
    }

    /// <summary>Fires the group's due timers: pending member ids, sessions, the sync deadline, the rebalance deadline.</summary>
    private void CheckTimersLocked(Group group, long now)
    {
        if (group.Is(GroupState.Dead)) return;
        if (group.PendingMembers.Count > 0 && AnyDue(group.PendingMembers, now))
        {
            foreach (var (id, deadline) in group.PendingMembers.ToArray())
            {
                if (now >= deadline) RemovePendingMemberLocked(group, id);
            }
        }
        if (AnyExpiredSession(group, now))
        {
            foreach (var m in group.Members.ToArray())
            {
                if (now < m.SessionDeadline || m.KeptAliveByRebalance || !ReferenceEquals(group.Get(m.MemberId), m)) continue;
                Logger.Info($"{group}: member {m.MemberId} failed (session expired), removing it");
                RemoveMemberAndUpdateGroupLocked(group, m);
            }
        }
        if (group.State is GroupState.CompletingRebalance or GroupState.Stable && group.PendingSync.Count > 0 && now >= group.PendingSyncDeadline)
        {
            var laggards = group.PendingSync.ToArray();
            group.PendingSync.Clear();
            foreach (var id in laggards)
            {
                var m = group.Get(id);
                if (m is null) continue;
                Logger.Info($"{group}: member {id} did not send SyncGroup in time, removing it");
                RemoveMemberLocked(group, m);
            }
            MaybePrepareRebalanceLocked(group, "members did not sync");
        }
        if (group.Is(GroupState.PreparingRebalance) && group.Rebalance != RebalanceKind.None && now >= group.RebalanceDeadline)
        {
            if (group.Rebalance == RebalanceKind.InitialDelay && group.NewMemberAdded && group.InitialDelayRemainingMs > 0)
            {
                long delay = Math.Min(Options.GroupInitialRebalanceDelayMs, group.InitialDelayRemainingMs);
                group.InitialDelayRemainingMs = Math.Max(group.InitialDelayRemainingMs - delay, 0);
                group.NewMemberAdded = false;
                group.RebalanceDeadline = now + delay;
            }
            else
            {
                CompleteJoinLocked(group);
            }
        }
    }

    private static bool AnyDue(Dictionary<string, long> deadlines, long now)
    {
        foreach (var deadline in deadlines.Values)
        {
            if (now >= deadline) return true;
        }
        return false;
    }

    private static bool AnyExpiredSession(Group group, long now)
    {
        var members = group.Members;
        for (int i = 0; i < members.Count; i++)
        {
            if (now >= members[i].SessionDeadline && !members[i].KeptAliveByRebalance) return true;
        }
        return false;
    }
}

using Broker.Core.Model;
using Broker.Groups.Internal;

namespace Broker.Groups;

// SyncGroup, Heartbeat and LeaveGroup (Kafka's handleSyncGroup / handleHeartbeat / handleLeaveGroup).
public sealed partial class GroupCoordinator
{
    public async Task<SyncGroupOutcome> SyncGroupAsync(SyncGroupArgs args, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(args);
        if (string.IsNullOrEmpty(args.GroupId)) return Member.SyncError(ErrorCode.InvalidGroupId);
        var error = Resolve(args.GroupId, out var partition);
        if (error != ErrorCode.None) return Member.SyncError(error);
        var group = partition.Find(args.GroupId);
        if (group is null) return Member.SyncError(ErrorCode.UnknownMemberId);

        Task<SyncGroupOutcome> result;
        Task<ErrorCode>? store = null;
        Dictionary<string, byte[]>? assignments = null;
        lock (group.Gate)
        {
            var member = group.Get(args.MemberId ?? "");
            if (group.Is(GroupState.Dead)) return Member.SyncError(DeadGroupError(group));
            if (group.IsStaticMemberFenced(args.GroupInstanceId, args.MemberId ?? "")) return Member.SyncError(ErrorCode.FencedInstanceId);
            if (member is null) return Member.SyncError(ErrorCode.UnknownMemberId);
            if (args.GenerationId != group.Generation) return Member.SyncError(ErrorCode.IllegalGeneration);
            if ((args.ProtocolType is not null && args.ProtocolType != group.ProtocolType)
                || (args.ProtocolName is not null && args.ProtocolName != group.ProtocolName))
                return Member.SyncError(ErrorCode.InconsistentGroupProtocol);

            switch (group.State)
            {
                case GroupState.Empty:
                    return Member.SyncError(ErrorCode.UnknownMemberId);
                case GroupState.PreparingRebalance:
                    return Member.SyncError(ErrorCode.RebalanceInProgress);
                case GroupState.CompletingRebalance:
                    member.TryCompleteSync(Member.SyncError(ErrorCode.RebalanceInProgress)); // a duplicate SyncGroup replaces the older one
                    var answer = new TaskCompletionSource<SyncGroupOutcome>(TaskCreationOptions.RunContinuationsAsynchronously);
                    member.AwaitingSync = answer;
                    group.PendingSync.Remove(member.MemberId);
                    member.SessionDeadline = MonotonicNow + member.SessionTimeoutMs;
                    result = answer.Task;
                    if (group.IsLeader(member.MemberId))
                    {
                        // Members the leader left out get an empty assignment.
                        assignments = new Dictionary<string, byte[]>(StringComparer.Ordinal);
                        foreach (var a in args.Assignments ?? [])
                        {
                            if (a.MemberId is not null) assignments[a.MemberId] = a.Assignment ?? [];
                        }
                        foreach (var m in group.Members)
                        {
                            if (!assignments.ContainsKey(m.MemberId)) assignments[m.MemberId] = [];
                        }
                        store = StoreGroupLocked(group, assignments);
                    }
                    break;
                default: // Stable: the assignment is known already
                    group.PendingSync.Remove(member.MemberId);
                    member.SessionDeadline = MonotonicNow + member.SessionTimeoutMs;
                    return new SyncGroupOutcome(ErrorCode.None, group.ProtocolType, group.ProtocolName, member.Assignment);
            }
        }

        if (store is not null)
        {
            int generation = args.GenerationId;
            var storeError = await store.ConfigureAwait(false);
            lock (group.Gate)
            {
                // The group may have moved on while the write was in flight: then this result is stale.
                if (group.Is(GroupState.CompletingRebalance) && group.Generation == generation)
                {
                    if (storeError != ErrorCode.None)
                    {
                        ResetAndPropagateAssignmentErrorLocked(group, storeError);
                        MaybePrepareRebalanceLocked(group, $"storing the assignment failed: {storeError}");
                    }
                    else
                    {
                        SetAndPropagateAssignmentLocked(group, assignments!);
                        group.TransitionTo(GroupState.Stable, WallNow);
                        Logger.Info($"{group}: assignment received from leader {args.MemberId}");
                    }
                }
            }
        }
        return cancellationToken.CanBeCanceled ? await result.WaitAsync(cancellationToken).ConfigureAwait(false) : await result.ConfigureAwait(false);
    }

    public ErrorCode Heartbeat(string groupId, int generationId, string memberId, string? groupInstanceId)
    {
        if (string.IsNullOrEmpty(groupId)) return ErrorCode.InvalidGroupId;
        var error = Resolve(groupId, out var partition);
        // Kafka answers heartbeats blindly while the group is loading: the member keeps its place.
        if (error == ErrorCode.CoordinatorLoadInProgress) return ErrorCode.None;
        if (error != ErrorCode.None) return error;
        var group = partition.Find(groupId);
        if (group is null) return ErrorCode.UnknownMemberId;
        lock (group.Gate)
        {
            if (group.Is(GroupState.Dead)) return DeadGroupError(group);
            if (group.IsStaticMemberFenced(groupInstanceId, memberId ?? "")) return ErrorCode.FencedInstanceId;
            var member = group.Get(memberId ?? "");
            if (member is null) return ErrorCode.UnknownMemberId;
            if (generationId != group.Generation) return ErrorCode.IllegalGeneration;
            switch (group.State)
            {
                case GroupState.Empty:
                    return ErrorCode.UnknownMemberId;
                case GroupState.PreparingRebalance:
                    member.SessionDeadline = MonotonicNow + member.SessionTimeoutMs;
                    return ErrorCode.RebalanceInProgress;
                default:
                    member.SessionDeadline = MonotonicNow + member.SessionTimeoutMs;
                    return ErrorCode.None;
            }
        }
    }

    public Task<LeaveGroupOutcome> LeaveGroupAsync(string groupId, IReadOnlyList<LeavingMember> members, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(members);
        if (string.IsNullOrEmpty(groupId)) return Task.FromResult(new LeaveGroupOutcome(ErrorCode.InvalidGroupId, []));
        var error = Resolve(groupId, out var partition);
        if (error != ErrorCode.None) return Task.FromResult(new LeaveGroupOutcome(error, []));
        var results = new LeftMember[members.Count];
        var group = partition.Find(groupId);
        if (group is null)
        {
            for (int i = 0; i < results.Length; i++)
                results[i] = new LeftMember(members[i].MemberId, members[i].GroupInstanceId, ErrorCode.UnknownMemberId);
            return Task.FromResult(new LeaveGroupOutcome(ErrorCode.None, results));
        }
        lock (group.Gate)
        {
            if (group.Is(GroupState.Dead)) return Task.FromResult(new LeaveGroupOutcome(DeadGroupError(group), []));
            for (int i = 0; i < results.Length; i++)
            {
                var leaving = members[i];
                results[i] = new LeftMember(leaving.MemberId, leaving.GroupInstanceId, LeaveLocked(group, leaving));
            }
        }
        return Task.FromResult(new LeaveGroupOutcome(ErrorCode.None, results));
    }

    private ErrorCode LeaveLocked(Group group, LeavingMember leaving)
    {
        string memberId = leaving.MemberId ?? "";
        string reason = leaving.Reason is null ? "" : $" ({leaving.Reason})";
        if (memberId.Length == 0)
        {
            // Administrative removal by group.instance.id (KIP-345).
            var current = group.StaticMemberId(leaving.GroupInstanceId) is { } id ? group.Get(id) : null;
            if (current is null) return ErrorCode.UnknownMemberId;
            Logger.Info($"{group}: static member {leaving.GroupInstanceId} ({current.MemberId}) removed{reason}");
            RemoveMemberAndUpdateGroupLocked(group, current);
            return ErrorCode.None;
        }
        if (group.IsPending(memberId))
        {
            RemovePendingMemberLocked(group, memberId);
            return ErrorCode.None;
        }
        if (group.IsStaticMemberFenced(leaving.GroupInstanceId, memberId)) return ErrorCode.FencedInstanceId;
        var member = group.Get(memberId);
        if (member is null) return ErrorCode.UnknownMemberId;
        Logger.Info($"{group}: member {memberId} left{reason}");
        RemoveMemberAndUpdateGroupLocked(group, member);
        return ErrorCode.None;
    }
}

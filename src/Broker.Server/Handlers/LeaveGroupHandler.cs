// LeaveGroup (key 13): v0-5.
// Behaviour:
// * v0-2 name one member (MemberId); v3+ a batch of members (MemberId and/or GroupInstanceId, KIP-345), v5+ with a
//   Reason each. Empty group id → INVALID_GROUP_ID; then the coordinator's group-level check (NOT_COORDINATOR,
//   COORDINATOR_LOAD_IN_PROGRESS); then the coordinator removes the members (a rebalance follows).
// * Response v3+: the top-level error and one entry per member with its own error; a group-level error has no
//   member entries. v0-2 have only ErrorCode: the top-level error, else the member's error (Kafka's rule).
using Broker.Core.Model;
using Broker.Groups;
using Broker.Protocol.Codec;
using Broker.Protocol.Messages;
using Broker.Server.Groups;
using Broker.Server.Pipeline;

namespace Broker.Server.Handlers;

public sealed class LeaveGroupHandler(GroupCoordinator coordinator) : KafkaHandler<LeaveGroupRequest>
{
    public override ApiKey Key => ApiKey.LeaveGroup;
    public override short MinVersion => 0;
    public override short MaxVersion => 5;

    protected override LeaveGroupRequest Parse(ref KafkaReader reader, short version) => LeaveGroupRequest.Read(ref reader, version);

    protected override ValueTask<IKafkaMessage?> Handle(RequestContext context, LeaveGroupRequest request)
    {
        if (!GroupRequests.IsValidMembershipGroupId(request.GroupId))
            return new(new LeaveGroupResponse { ErrorCode = (short)ErrorCode.InvalidGroupId });
        var groupError = coordinator.CheckCoordinator(request.GroupId);
        if (groupError != ErrorCode.None) return new(new LeaveGroupResponse { ErrorCode = (short)groupError });

        LeavingMember[] members;
        if (context.ApiVersion < 3) members = [new LeavingMember(request.MemberId, null, null)];
        else
        {
            members = new LeavingMember[request.Members.Count];
            for (int i = 0; i < members.Length; i++)
            {
                var m = request.Members[i];
                members[i] = new LeavingMember(m.MemberId, m.GroupInstanceId, m.Reason);
            }
        }
        return LeaveAsync(request.GroupId, members, context.ApiVersion, context.Connection.Closed);
    }

    private async ValueTask<IKafkaMessage?> LeaveAsync(string groupId, LeavingMember[] members, short version, CancellationToken cancellationToken)
    {
        var outcome = await coordinator.LeaveGroupAsync(groupId, members, cancellationToken).ConfigureAwait(false);
        var response = new LeaveGroupResponse { ErrorCode = (short)outcome.Error };
        if (version < 3)
        {
            if (outcome.Error == ErrorCode.None)
                foreach (var m in outcome.Members)
                    if (m.Error != ErrorCode.None)
                    {
                        response.ErrorCode = (short)m.Error;
                        break;
                    }
            return response;
        }
        response.Members = new List<LeaveGroupResponse.MemberResponse>(outcome.Members.Count);
        foreach (var m in outcome.Members)
            response.Members.Add(new LeaveGroupResponse.MemberResponse { MemberId = m.MemberId, GroupInstanceId = m.GroupInstanceId, ErrorCode = (short)m.Error });
        return response;
    }
}

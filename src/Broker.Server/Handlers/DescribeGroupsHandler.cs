// DescribeGroups (key 15): v0-5.
// Behaviour, per group (in request order): the coordinator's group-level check first (NOT_COORDINATOR,
// COORDINATOR_LOAD_IN_PROGRESS → the error with empty state, protocol and members, as Kafka answers); else the
// coordinator's description. An unknown group is described as state "Dead" with no error (Kafka's answer). The
// empty group id is allowed. Members carry ClientId, ClientHost, metadata and assignment as the coordinator gives
// them (Kafka leaves metadata/assignment empty outside Stable). GroupInstanceId v4+. AuthorizedOperations (v3+):
// READ, DELETE, DESCRIBE when IncludeAuthorizedOperations (no authorizer), else the schema default.
using Broker.Core.Model;
using Broker.Groups;
using Broker.Protocol.Codec;
using Broker.Protocol.Messages;
using Broker.Server.Admin;
using Broker.Server.Groups;
using Broker.Server.Pipeline;

namespace Broker.Server.Handlers;

public sealed class DescribeGroupsHandler(GroupCoordinator coordinator) : KafkaHandler<DescribeGroupsRequest>
{
    public override ApiKey Key => ApiKey.DescribeGroups;
    public override short MinVersion => 0;
    public override short MaxVersion => 5;

    protected override DescribeGroupsRequest Parse(ref KafkaReader reader, short version) => DescribeGroupsRequest.Read(ref reader, version);

    protected override ValueTask<IKafkaMessage?> Handle(RequestContext context, DescribeGroupsRequest request)
    {
        int operations = request.IncludeAuthorizedOperations ? GroupRequests.AllGroupOperations : AuthorizedOperations.NotRequested;
        var response = new DescribeGroupsResponse { Groups = new(request.Groups.Count) };
        foreach (string groupId in request.Groups)
        {
            var error = coordinator.CheckCoordinator(groupId);
            var described = error != ErrorCode.None
                ? new DescribeGroupsResponse.DescribedGroup { ErrorCode = (short)error, GroupId = groupId }
                : Describe(coordinator.DescribeGroup(groupId), groupId);
            described.AuthorizedOperations = operations;
            response.Groups.Add(described);
        }
        return new(response);
    }

    private static DescribeGroupsResponse.DescribedGroup Describe(GroupDescription group, string groupId)
    {
        var described = new DescribeGroupsResponse.DescribedGroup
        {
            ErrorCode = (short)group.Error,
            GroupId = groupId,
            GroupState = group.State ?? "",
            ProtocolType = group.ProtocolType ?? "",
            ProtocolData = group.Protocol ?? "",
            Members = new(group.Members.Count),
        };
        foreach (var m in group.Members)
        {
            described.Members.Add(new DescribeGroupsResponse.DescribedGroupMember
            {
                MemberId = m.MemberId,
                GroupInstanceId = m.GroupInstanceId,
                ClientId = m.ClientId ?? "",
                ClientHost = m.ClientHost ?? "",
                MemberMetadata = m.Metadata ?? Array.Empty<byte>(),
                MemberAssignment = m.Assignment ?? Array.Empty<byte>(),
            });
        }
        return described;
    }
}

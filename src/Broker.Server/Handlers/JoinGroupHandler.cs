// JoinGroup (key 11): v0-9.
// Behaviour:
// * Empty group id → INVALID_GROUP_ID; then the coordinator's group-level check (NOT_COORDINATOR,
//   COORDINATOR_LOAD_IN_PROGRESS); then the join itself, which waits for the rebalance to complete.
// * v0 has no RebalanceTimeoutMs: the session timeout is used (as Kafka does). GroupInstanceId v5+, Reason v8+.
// * v4+ without a GroupInstanceId: RequireKnownMemberId (KIP-394) — a new member first gets MEMBER_ID_REQUIRED
//   carrying its assigned MemberId and must join again with it. Static members (GroupInstanceId) are exempt.
// * ClientId is the request header's; ClientHost is "/" + the client's IP, as Kafka reports it.
// * Errors: GenerationId -1, Leader "", MemberId = the member id the coordinator answered with (the request's for
//   group-level errors), ProtocolName null (v7+, nullable) or "" (v0-6), no members.
// * ProtocolType in the response v7+, SkipAssignment v9 (older versions cannot carry it).
using Broker.Core.Model;
using Broker.Groups;
using Broker.Protocol.Codec;
using Broker.Protocol.Messages;
using Broker.Server.Groups;
using Broker.Server.Pipeline;

namespace Broker.Server.Handlers;

public sealed class JoinGroupHandler(GroupCoordinator coordinator) : KafkaHandler<JoinGroupRequest>
{
    public override ApiKey Key => ApiKey.JoinGroup;
    public override short MinVersion => 0;
    public override short MaxVersion => 9;

    protected override JoinGroupRequest Parse(ref KafkaReader reader, short version) => JoinGroupRequest.Read(ref reader, version);

    protected override ValueTask<IKafkaMessage?> Handle(RequestContext context, JoinGroupRequest request)
    {
        short version = context.ApiVersion;
        if (!GroupRequests.IsValidMembershipGroupId(request.GroupId))
            return new(Failed(ErrorCode.InvalidGroupId, request.MemberId, version));
        var groupError = coordinator.CheckCoordinator(request.GroupId);
        if (groupError != ErrorCode.None) return new(Failed(groupError, request.MemberId, version));

        var protocols = new GroupProtocol[request.Protocols.Count];
        for (int i = 0; i < protocols.Length; i++)
            protocols[i] = new GroupProtocol(request.Protocols[i].Name, request.Protocols[i].Metadata);
        var args = new JoinGroupArgs(
            request.GroupId, request.MemberId, request.GroupInstanceId, request.ProtocolType, protocols,
            request.SessionTimeoutMs,
            version == 0 ? request.SessionTimeoutMs : request.RebalanceTimeoutMs,
            context.ClientId ?? "",
            GroupRequests.ClientHost(context.Connection),
            RequireKnownMemberId: version >= 4 && request.GroupInstanceId is null,
            request.Reason);
        return JoinAsync(args, version, context.Connection.Closed);
    }

    private async ValueTask<IKafkaMessage?> JoinAsync(JoinGroupArgs args, short version, CancellationToken cancellationToken)
    {
        var outcome = await coordinator.JoinGroupAsync(args, cancellationToken).ConfigureAwait(false);
        return ToResponse(outcome, version);
    }

    internal static JoinGroupResponse ToResponse(JoinGroupOutcome outcome, short version)
    {
        var response = new JoinGroupResponse
        {
            ErrorCode = (short)outcome.Error,
            GenerationId = outcome.GenerationId,
            ProtocolType = outcome.ProtocolType,
            ProtocolName = outcome.ProtocolName ?? (version >= 7 ? null : ""),
            Leader = outcome.LeaderId ?? "",
            SkipAssignment = outcome.SkipAssignment,
            MemberId = outcome.MemberId ?? "",
            Members = new List<JoinGroupResponse.JoinGroupResponseMember>(outcome.Members.Count),
        };
        foreach (var m in outcome.Members)
            response.Members.Add(new JoinGroupResponse.JoinGroupResponseMember { MemberId = m.MemberId, GroupInstanceId = m.GroupInstanceId, Metadata = m.Metadata });
        return response;
    }

    private static JoinGroupResponse Failed(ErrorCode error, string memberId, short version) => new()
    {
        ErrorCode = (short)error,
        GenerationId = -1,
        ProtocolType = null,
        ProtocolName = version >= 7 ? null : "",
        Leader = "",
        MemberId = memberId,
    };
}

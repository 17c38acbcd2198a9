// SyncGroup (key 14): v0-5.
// Behaviour:
// * v5+ must name ProtocolType and ProtocolName (KIP-559); a null one → INCONSISTENT_GROUP_PROTOCOL, as in Kafka.
// * Empty group id → INVALID_GROUP_ID; then the coordinator's group-level check (NOT_COORDINATOR,
//   COORDINATOR_LOAD_IN_PROGRESS); then the sync, which for a follower waits for the leader's assignments.
// * GroupInstanceId v3+. The leader's assignment list goes to the coordinator as sent.
// * Errors carry an empty assignment; ProtocolType/ProtocolName (v5+) are the coordinator's on success.
using Broker.Core.Model;
using Broker.Groups;
using Broker.Protocol.Codec;
using Broker.Protocol.Messages;
using Broker.Server.Groups;
using Broker.Server.Pipeline;

namespace Broker.Server.Handlers;

public sealed class SyncGroupHandler(GroupCoordinator coordinator) : KafkaHandler<SyncGroupRequest>
{
    public override ApiKey Key => ApiKey.SyncGroup;
    public override short MinVersion => 0;
    public override short MaxVersion => 5;

    protected override SyncGroupRequest Parse(ref KafkaReader reader, short version) => SyncGroupRequest.Read(ref reader, version);

    protected override ValueTask<IKafkaMessage?> Handle(RequestContext context, SyncGroupRequest request)
    {
        if (context.ApiVersion >= 5 && (request.ProtocolType is null || request.ProtocolName is null))
            return new(Failed(ErrorCode.InconsistentGroupProtocol));
        if (!GroupRequests.IsValidMembershipGroupId(request.GroupId)) return new(Failed(ErrorCode.InvalidGroupId));
        var groupError = coordinator.CheckCoordinator(request.GroupId);
        if (groupError != ErrorCode.None) return new(Failed(groupError));

        var assignments = new MemberAssignment[request.Assignments.Count];
        for (int i = 0; i < assignments.Length; i++)
            assignments[i] = new MemberAssignment(request.Assignments[i].MemberId, request.Assignments[i].Assignment);
        var args = new SyncGroupArgs(request.GroupId, request.GenerationId, request.MemberId, request.GroupInstanceId,
            request.ProtocolType, request.ProtocolName, assignments);
        return SyncAsync(args, context.Connection.Closed);
    }

    private async ValueTask<IKafkaMessage?> SyncAsync(SyncGroupArgs args, CancellationToken cancellationToken)
    {
        var outcome = await coordinator.SyncGroupAsync(args, cancellationToken).ConfigureAwait(false);
        return new SyncGroupResponse
        {
            ErrorCode = (short)outcome.Error,
            ProtocolType = outcome.ProtocolType,
            ProtocolName = outcome.ProtocolName,
            Assignment = outcome.Assignment ?? Array.Empty<byte>(),
        };
    }

    private static SyncGroupResponse Failed(ErrorCode error) => new() { ErrorCode = (short)error, Assignment = Array.Empty<byte>() };
}

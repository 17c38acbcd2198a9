// Heartbeat (key 12): v0-4.
// Behaviour: empty group id → INVALID_GROUP_ID; then the coordinator's group-level check (NOT_COORDINATOR,
// COORDINATOR_LOAD_IN_PROGRESS); then the coordinator's answer for the member (None, REBALANCE_IN_PROGRESS,
// UNKNOWN_MEMBER_ID, ILLEGAL_GENERATION, FENCED_INSTANCE_ID). GroupInstanceId v3+. Answered synchronously.
using Broker.Core.Model;
using Broker.Groups;
using Broker.Protocol.Codec;
using Broker.Protocol.Messages;
using Broker.Server.Groups;
using Broker.Server.Pipeline;

namespace Broker.Server.Handlers;

public sealed class HeartbeatHandler(GroupCoordinator coordinator) : KafkaHandler<HeartbeatRequest>
{
    public override ApiKey Key => ApiKey.Heartbeat;
    public override short MinVersion => 0;
    public override short MaxVersion => 4;

    protected override HeartbeatRequest Parse(ref KafkaReader reader, short version) => HeartbeatRequest.Read(ref reader, version);

    protected override ValueTask<IKafkaMessage?> Handle(RequestContext context, HeartbeatRequest request)
    {
        ErrorCode error;
        if (!GroupRequests.IsValidMembershipGroupId(request.GroupId)) error = ErrorCode.InvalidGroupId;
        else
        {
            error = coordinator.CheckCoordinator(request.GroupId);
            if (error == ErrorCode.None)
                error = coordinator.Heartbeat(request.GroupId, request.GenerationId, request.MemberId, request.GroupInstanceId);
        }
        return new(new HeartbeatResponse { ErrorCode = (short)error });
    }
}

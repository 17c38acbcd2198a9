// BrokerHeartbeat (key 63): v0-1, served on the controller listener only. Behaviour:
// * NOT_CONTROLLER when this node is not the active controller.
// * Otherwise BrokerHeartbeatManager.HeartbeatAsync decides: BROKER_ID_NOT_REGISTERED, STALE_BROKER_EPOCH, or the
//   broker's new state: IsCaughtUp (CurrentMetadataOffset >= its registration offset), IsFenced (after any
//   unfencing/fencing this heartbeat caused) and ShouldShutDown (controlled shutdown finished).
// * Error responses keep the defaults IsCaughtUp=false, IsFenced=true, ShouldShutDown=false.
// * OfflineLogDirs (v1, tagged) is read and ignored. ThrottleTimeMs 0.
using Broker.Core.Model;
using Broker.Metadata.Lifecycle;
using Broker.Protocol.Codec;
using Broker.Protocol.Messages;
using Broker.Server.Lifecycle;
using Broker.Server.Pipeline;

namespace Broker.Server.Handlers;

public sealed class BrokerHeartbeatHandler(IControllerLifecycle controller) : KafkaHandler<BrokerHeartbeatRequest>
{
    public override ApiKey Key => ApiKey.BrokerHeartbeat;
    public override short MinVersion => 0;
    public override short MaxVersion => 1;

    protected override BrokerHeartbeatRequest Parse(ref KafkaReader reader, short version) => BrokerHeartbeatRequest.Read(ref reader, version);

    protected override async ValueTask<IKafkaMessage?> Handle(RequestContext context, BrokerHeartbeatRequest request)
    {
        if (!controller.IsActiveController) return new BrokerHeartbeatResponse { ErrorCode = (short)ErrorCode.NotController };

        var heartbeat = new BrokerHeartbeat(request.BrokerId, request.BrokerEpoch, request.CurrentMetadataOffset, request.WantFence, request.WantShutDown);
        var result = await controller.HeartbeatAsync(heartbeat, context.Connection.Closed).ConfigureAwait(false);
        if (result.Error != ErrorCode.None) return new BrokerHeartbeatResponse { ErrorCode = (short)result.Error };
        return new BrokerHeartbeatResponse
        {
            IsCaughtUp = result.IsCaughtUp,
            IsFenced = result.IsFenced,
            ShouldShutDown = result.ShouldShutDown,
        };
    }
}

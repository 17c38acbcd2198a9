// BrokerRegistration (key 62): v0-3, served on the controller listener only (a broker registering with the active
// controller). Behaviour:
// * NOT_CONTROLLER when this node is not the active controller (the broker then tries the next voter).
// * Otherwise the request goes to the controller (BrokerHeartbeatManager.RegisterAsync): INCONSISTENT_CLUSTER_ID,
//   UNSUPPORTED_VERSION (metadata.version outside the broker's Features range), DUPLICATE_BROKER_REGISTRATION
//   (another incarnation still has a live session), INVALID_REQUEST (no or duplicate listeners); on success a
//   fenced RegisterBrokerRecord is committed and BrokerEpoch is its offset.
// * Listeners, Features and Rack are used; IsMigratingZkBroker (v1), LogDirs (v2) and PreviousBrokerEpoch (v3) are
//   read and ignored (no ZooKeeper migration, one log dir id per broker is not tracked yet).
// * Errors carry BrokerEpoch -1. ThrottleTimeMs 0. The wait ends when the connection closes.
using Broker.Core.Model;
using Broker.Metadata.Image;
using Broker.Metadata.Lifecycle;
using Broker.Protocol.Codec;
using Broker.Protocol.Messages;
using Broker.Server.Lifecycle;
using Broker.Server.Pipeline;

namespace Broker.Server.Handlers;

public sealed class BrokerRegistrationHandler(IControllerLifecycle controller) : KafkaHandler<BrokerRegistrationRequest>
{
    public override ApiKey Key => ApiKey.BrokerRegistration;
    public override short MinVersion => 0;
    public override short MaxVersion => 3;

    protected override BrokerRegistrationRequest Parse(ref KafkaReader reader, short version) => BrokerRegistrationRequest.Read(ref reader, version);

    protected override async ValueTask<IKafkaMessage?> Handle(RequestContext context, BrokerRegistrationRequest request)
    {
        if (!controller.IsActiveController) return Error(ErrorCode.NotController);

        var endpoints = new BrokerEndpoint[request.Listeners.Count];
        for (int i = 0; i < endpoints.Length; i++)
        {
            var l = request.Listeners[i];
            endpoints[i] = new BrokerEndpoint(l.Name, l.Host, l.Port, l.SecurityProtocol);
        }
        var features = new BrokerFeatureRange[request.Features.Count];
        for (int i = 0; i < features.Length; i++)
        {
            var f = request.Features[i];
            features[i] = new BrokerFeatureRange(f.Name, f.MinSupportedVersion, f.MaxSupportedVersion);
        }
        var spec = new BrokerRegistrationSpec(request.BrokerId, request.ClusterId, request.IncarnationId, endpoints, features, request.Rack);

        var result = await controller.RegisterBrokerAsync(spec, context.Connection.Closed).ConfigureAwait(false);
        return result.Error == ErrorCode.None
            ? new BrokerRegistrationResponse { BrokerEpoch = result.BrokerEpoch }
            : Error(result.Error);
    }

    private static BrokerRegistrationResponse Error(ErrorCode error) => new() { ErrorCode = (short)error, BrokerEpoch = -1 };
}

// DescribeCluster (key 60): v0-1.
// Behaviour:
// * ClusterId, ControllerId (the active controller when it is among the listed brokers, else this broker, else
//   -1, the same choice as Metadata) and Brokers: every registered, unfenced broker advertising the listener the
//   request arrived on, with that listener's host/port and the rack.
// * v1 EndpointType: 1 (brokers) is served. Every listener served here is a broker listener, so 2 (controllers)
//   gets MISMATCHED_ENDPOINT_TYPE and any other value UNSUPPORTED_ENDPOINT_TYPE, as a Kafka broker answers; such
//   error responses carry nothing else. (Serving controllers on the controller listener is the cluster issue's.)
// * ClusterAuthorizedOperations: -2147483648 unless requested, then every cluster operation (no authorizer).
using Broker.Core.Model;
using Broker.Metadata.Image;
using Broker.Protocol.Codec;
using Broker.Protocol.Messages;
using Broker.Server.Admin;
using Broker.Server.Pipeline;

namespace Broker.Server.Handlers;

public sealed class DescribeClusterHandler(Func<MetadataImage> image, AdminOptions options) : KafkaHandler<DescribeClusterRequest>
{
    private const sbyte BrokerEndpointType = 1;
    private const sbyte ControllerEndpointType = 2;

    public override ApiKey Key => ApiKey.DescribeCluster;
    public override short MinVersion => 0;
    public override short MaxVersion => 1;

    protected override DescribeClusterRequest Parse(ref KafkaReader reader, short version) => DescribeClusterRequest.Read(ref reader, version);

    protected override ValueTask<IKafkaMessage?> Handle(RequestContext context, DescribeClusterRequest request)
    {
        if (request.EndpointType != BrokerEndpointType)
        {
            bool known = request.EndpointType == ControllerEndpointType;
            return new(new DescribeClusterResponse
            {
                ErrorCode = (short)(known ? ErrorCode.MismatchedEndpointType : ErrorCode.UnsupportedEndpointType),
                ErrorMessage = known
                    ? "The request was sent to an endpoint of type BROKER, but we wanted an endpoint of type CONTROLLER"
                    : $"Unsupported endpoint type {request.EndpointType}",
            });
        }

        var current = image();
        var listed = BrokerEndpoints.ListAlive(current, context.Connection.ListenerName);
        var response = new DescribeClusterResponse
        {
            EndpointType = BrokerEndpointType,
            ClusterId = current.ClusterId,
            ControllerId = BrokerEndpoints.ControllerIdFor(current, options.NodeId, listed),
            ClusterAuthorizedOperations = AuthorizedOperations.Cluster(request.IncludeClusterAuthorizedOperations),
            Brokers = new List<DescribeClusterResponse.DescribeClusterBroker>(listed.Count),
        };
        foreach (var b in listed)
            response.Brokers.Add(new DescribeClusterResponse.DescribeClusterBroker { BrokerId = b.NodeId, Host = b.Host, Port = b.Port, Rack = b.Rack });
        return new(response);
    }
}

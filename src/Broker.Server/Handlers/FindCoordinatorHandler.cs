// FindCoordinator (key 10): v0-4 (v0-3 one key, v4 a batch of CoordinatorKeys, each answered on its own).
// Behaviour, per key:
// * KeyType 0 (group; v0 has no KeyType): the group's __consumer_offsets partition (the coordinator's PartitionFor:
//   Java String.hashCode of the group id modulo the partition count) and that partition's leader in the metadata
//   image, given as its endpoint on the listener the request arrived on. No leader, a fenced/unregistered leader or
//   one without this listener → COORDINATOR_NOT_AVAILABLE (the client retries). The leader in the image can lag a
//   fresh election by a moment; the old node then answers NOT_COORDINATOR and the client looks again.
// * __consumer_offsets missing → it is created through the controller (OffsetsTopicCreator: one attempt at a time,
//   replication factor capped at the live brokers) and the answer is COORDINATOR_NOT_AVAILABLE meanwhile, as in Kafka.
// * KeyType 1 (transaction): there is no transaction coordinator → TRANSACTIONAL_ID_AUTHORIZATION_FAILED with
//   ErrorMessage "transactions are not supported by this broker". It is the one answer every client treats as
//   fatal for a transactional producer (librdkafka raises a fatal error on it and retries everything else, the Java
//   producer fails on it); a retriable code would make them look for a coordinator forever.
// * Any other KeyType → INVALID_REQUEST.
// * Errors carry NodeId -1, Host "", Port -1 and (v1+) a message; success has a null ErrorMessage.
using Broker.Core.Model;
using Broker.Metadata.Image;
using Broker.Protocol.Codec;
using Broker.Protocol.Messages;
using Broker.Server.Admin;
using Broker.Server.Groups;
using Broker.Server.Pipeline;

namespace Broker.Server.Handlers;

public sealed class FindCoordinatorHandler : KafkaHandler<FindCoordinatorRequest>
{
    public const sbyte GroupKeyType = 0;
    public const sbyte TransactionKeyType = 1;
    public const string TransactionsNotSupported = "transactions are not supported by this broker";

    private readonly Func<MetadataImage> _image;
    private readonly Func<string, int> _partitionFor;
    private readonly OffsetsTopicCreator _creator;

    /// <param name="image">The current metadata image.</param>
    /// <param name="partitionFor">The group's __consumer_offsets partition (GroupCoordinator.PartitionFor).</param>
    /// <param name="creator">Creates __consumer_offsets when it is missing.</param>
    public FindCoordinatorHandler(Func<MetadataImage> image, Func<string, int> partitionFor, OffsetsTopicCreator creator)
    {
        _image = image;
        _partitionFor = partitionFor;
        _creator = creator;
    }

    public override ApiKey Key => ApiKey.FindCoordinator;
    public override short MinVersion => 0;
    public override short MaxVersion => 4;

    protected override FindCoordinatorRequest Parse(ref KafkaReader reader, short version) => FindCoordinatorRequest.Read(ref reader, version);

    protected override ValueTask<IKafkaMessage?> Handle(RequestContext context, FindCoordinatorRequest request)
    {
        var image = _image();
        string listener = context.Connection.ListenerName;
        var response = new FindCoordinatorResponse();
        if (context.ApiVersion < 4)
        {
            var found = Locate(request.KeyType, request.Key, image, listener);
            response.ErrorCode = found.ErrorCode;
            response.ErrorMessage = found.ErrorMessage;
            response.NodeId = found.NodeId;
            response.Host = found.Host;
            response.Port = found.Port;
            return new(response);
        }
        response.Coordinators = new List<FindCoordinatorResponse.Coordinator>(request.CoordinatorKeys.Count);
        foreach (string key in request.CoordinatorKeys) response.Coordinators.Add(Locate(request.KeyType, key, image, listener));
        return new(response);
    }

    private FindCoordinatorResponse.Coordinator Locate(sbyte keyType, string key, MetadataImage image, string listener)
    {
        switch (keyType)
        {
            case GroupKeyType:
                break;
            case TransactionKeyType:
                return Error(key, ErrorCode.TransactionalIdAuthorizationFailed, TransactionsNotSupported);
            default:
                return Error(key, ErrorCode.InvalidRequest, $"unknown coordinator key type {keyType}");
        }

        var topic = image.GetTopic(InternalTopics.ConsumerOffsets);
        if (topic is null)
        {
            _creator.RequestCreation(image);
            return Error(key, ErrorCode.CoordinatorNotAvailable, $"{InternalTopics.ConsumerOffsets} is being created");
        }
        var partition = topic.GetPartition(_partitionFor(key));
        var endpoint = partition is null || partition.Leader < 0 ? null : BrokerEndpoints.FindAlive(image, partition.Leader, listener);
        if (endpoint is null)
            return Error(key, ErrorCode.CoordinatorNotAvailable, "the group's coordinator has no live leader on this listener");
        return new FindCoordinatorResponse.Coordinator
        {
            Key = key,
            NodeId = partition!.Leader,
            Host = endpoint.Host,
            Port = endpoint.Port,
            ErrorCode = (short)ErrorCode.None,
            ErrorMessage = null,
        };
    }

    private static FindCoordinatorResponse.Coordinator Error(string key, ErrorCode error, string message) => new()
    {
        Key = key,
        NodeId = -1,
        Host = "",
        Port = -1,
        ErrorCode = (short)error,
        ErrorMessage = message,
    };
}

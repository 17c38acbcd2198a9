using Kec = Broker.Core.Model.ErrorCode;

namespace Broker.Http.Proxy;

/// <summary>
/// A request the proxy answers with an error body <c>{"error_code": N, "message": "..."}</c>. The HTTP status is the
/// code itself when below 600, else the code / 100 (40403 → 404), as pandaproxy and Confluent's REST proxy do.
/// </summary>
internal sealed class ProxyException(int errorCode, string message, Exception? inner = null) : Exception(message, inner)
{
    public int ErrorCode { get; } = errorCode;
    public int HttpStatus => ProxyErrorCodes.HttpStatus(ErrorCode);
}

/// <summary>The REST proxy error codes and the mapping of Kafka errors onto them (pandaproxy's table).</summary>
internal static class ProxyErrorCodes
{
    public const int NotFound = 404;
    public const int MethodNotAllowed = 405;
    public const int NotAcceptable = 406;
    public const int UnsupportedMediaType = 415;
    public const int UnprocessableEntity = 422;
    public const int InternalError = 500;
    public const int KafkaBadRequest = 40002;
    public const int KafkaAuthenticationError = 40101;
    public const int KafkaAuthorizationError = 40301;
    public const int TopicNotFound = 40401;
    public const int PartitionNotFound = 40402;
    public const int ConsumerInstanceNotFound = 40403;
    public const int SerializationError = 40801;
    public const int ConsumerAlreadyExists = 40902;
    public const int KafkaError = 50002;
    public const int KafkaRetriableError = 50003;
    public const int BrokerNotAvailable = 50302;

    public static int HttpStatus(int errorCode) => errorCode < 600 ? errorCode : errorCode / 100;

    /// <summary>The proxy error code for a Kafka error (pandaproxy's kafka_error_category).</summary>
    public static int FromKafka(Kec error) => error switch
    {
        Kec.UnknownTopicOrPartition => PartitionNotFound,
        Kec.UnknownMemberId => ConsumerInstanceNotFound,
        Kec.LeaderNotAvailable or Kec.BrokerNotAvailable
            or Kec.ReplicaNotAvailable or Kec.PreferredLeaderNotAvailable => BrokerNotAvailable,
        Kec.TopicAuthorizationFailed or Kec.GroupAuthorizationFailed
            or Kec.TransactionalIdAuthorizationFailed or Kec.ClusterAuthorizationFailed
            or Kec.DelegationTokenAuthorizationFailed => KafkaAuthorizationError,
        Kec.SaslAuthenticationFailed or Kec.DelegationTokenAuthDisabled => KafkaAuthenticationError,
        Kec.NetworkException or Kec.CoordinatorLoadInProgress
            or Kec.RequestTimedOut or Kec.RebalanceInProgress
            or Kec.ReassignmentInProgress => KafkaRetriableError,
        Kec.NotEnoughReplicas or Kec.CoordinatorNotAvailable
            or Kec.NotCoordinator or Kec.NotEnoughReplicasAfterAppend
            or Kec.OutOfOrderSequenceNumber or Kec.DuplicateSequenceNumber
            or Kec.OperationNotAttempted or Kec.KafkaStorageError
            or Kec.UnknownServerError => KafkaError,
        _ => KafkaBadRequest,
    };

    public static ProxyException Kafka(Kec error, string what) =>
        new(FromKafka(error), $"{what}: {error}");

    public static ProxyException BadParameter(string message) => new(KafkaBadRequest, message);

    public static ProxyException BadBody(string message, Exception? inner = null) => new(UnprocessableEntity, message, inner);
}

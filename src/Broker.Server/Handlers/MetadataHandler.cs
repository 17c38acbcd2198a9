// Metadata (key 3): v0-12.
// Behaviour:
// * Brokers: every registered, unfenced broker that advertises the listener the request arrived on, with that
//   listener's host/port and its rack; others are left out. ClusterId (v2+). ControllerId (v1+): the active
//   controller when it is among the listed brokers, else this broker, else -1 (clients send admin requests there).
// * Topics: a null list (v1+), or an empty list in v0, means all topics. Output is sorted by name (unknown topic
//   ids last); a topic named twice, or by name and by id, appears once.
// * A named topic that does not exist: invalid name -> INVALID_TOPIC_EXCEPTION; else, when auto.create.topics.enable
//   and (v4+) AllowAutoTopicCreation, it is created through the controller with the broker defaults and the
//   response already describes it (error NONE, with partitions and leaders). Kafka answers LEADER_NOT_AVAILABLE the
//   first time instead; our controller commits before it returns, so the topic is usable at once and librdkafka,
//   kafka-python and kafkajs all proceed without their retry round trip (each also copes with the Kafka way).
//   A creation the controller refuses reports its error code (e.g. INVALID_REPLICATION_FACTOR), except that
//   NOT_CONTROLLER / REQUEST_TIMED_OUT become LEADER_NOT_AVAILABLE (retriable); losing a race with another
//   creator reports the topic. Otherwise UNKNOWN_TOPIC_OR_PARTITION. Requests for all topics never
//   create anything, nor do names starting with "__" (internal topics: __consumer_offsets is created by
//   FindCoordinator with its own settings).
// * v10+ carry topic ids; v12 may name a topic by id (null name): unknown ids -> UNKNOWN_TOPIC_ID (name null).
//   Before v12 a null name or a non-zero id is answered INVALID_REQUEST for that entry.
// * Partitions: leader, leader epoch (v7+), replicas, ISR, offline replicas (v5+, always empty). Error
//   LEADER_NOT_AVAILABLE (leader -1) when there is no leader or it is fenced/unregistered; when the leader lacks the
//   request's listener, LISTENER_NOT_FOUND (v6+) or LEADER_NOT_AVAILABLE (v0-5), as in Kafka. v0's extra
//   REPLICA_NOT_AVAILABLE check on replica endpoints is not done.
// * IsInternal only for __consumer_offsets and __transaction_state. Authorized operations (v8+; cluster v8-10):
//   schema default -2147483648 unless requested, then every operation Kafka defines (no authorizer).
using Broker.Core.Model;
using Broker.Metadata.Controller;
using Broker.Metadata.Image;
using Broker.Protocol.Codec;
using Broker.Protocol.Messages;
using Broker.Server.Admin;
using Broker.Server.Pipeline;

namespace Broker.Server.Handlers;

public sealed class MetadataHandler : KafkaHandler<MetadataRequest>
{
    private readonly Func<MetadataImage> _image;
    private readonly TopicAutoCreator _autoCreator;
    private readonly AdminOptions _options;

    public MetadataHandler(Func<MetadataImage> image, ITopicAdmin admin, AdminOptions options)
    {
        _image = image;
        _options = options;
        _autoCreator = new TopicAutoCreator(admin, options);
    }

    public override ApiKey Key => ApiKey.Metadata;
    public override short MinVersion => 0;
    public override short MaxVersion => 12;

    protected override MetadataRequest Parse(ref KafkaReader reader, short version) => MetadataRequest.Read(ref reader, version);

    protected override ValueTask<IKafkaMessage?> Handle(RequestContext context, MetadataRequest request)
    {
        var image = _image();
        short version = context.ApiVersion;
        string listener = context.Connection.ListenerName;
        bool includeOps = request.IncludeTopicAuthorizedOperations;

        var topics = new List<MetadataResponse.MetadataResponseTopic>();
        if (request.Topics is null || (version == 0 && request.Topics.Count == 0))
        {
            foreach (var topic in image.TopicsByName.Values) topics.Add(Describe(topic, image, listener, version, includeOps));
            return new(Finish(context, request, image, topics));
        }

        List<string>? missing = null;
        bool mayCreate = _autoCreator.IsAllowed(version < 4 || request.AllowAutoTopicCreation);
        var seen = new HashSet<Guid>();
        var seenNames = new HashSet<string>(StringComparer.Ordinal);
        foreach (var wanted in request.Topics)
        {
            if (version < 12 && (wanted.Name is null || wanted.TopicId != Guid.Empty))
            {
                topics.Add(ErrorTopic(ErrorCode.InvalidRequest, wanted.Name, Guid.Empty));
                continue;
            }
            if (wanted.Name is null)
            {
                var byId = image.GetTopic(wanted.TopicId);
                if (byId is null)
                {
                    if (seen.Add(wanted.TopicId)) topics.Add(ErrorTopic(ErrorCode.UnknownTopicId, null, wanted.TopicId));
                }
                else if (seen.Add(byId.TopicId)) topics.Add(Describe(byId, image, listener, version, includeOps));
                continue;
            }
            if (!seenNames.Add(wanted.Name)) continue;
            var topic = image.GetTopic(wanted.Name);
            if (topic is not null)
            {
                if (seen.Add(topic.TopicId)) topics.Add(Describe(topic, image, listener, version, includeOps));
            }
            else if (TopicNames.Validate(wanted.Name) is not null)
                topics.Add(ErrorTopic(ErrorCode.InvalidTopicException, wanted.Name, Guid.Empty));
            else if (mayCreate && !IsReservedName(wanted.Name))
                (missing ??= new List<string>()).Add(wanted.Name);
            else
                topics.Add(ErrorTopic(ErrorCode.UnknownTopicOrPartition, wanted.Name, Guid.Empty));
        }

        if (missing is null) return new(Finish(context, request, image, topics));
        return CreateThenFinishAsync(context, request, topics, seen, missing);
    }

    private async ValueTask<IKafkaMessage?> CreateThenFinishAsync(
        RequestContext context, MetadataRequest request, List<MetadataResponse.MetadataResponseTopic> topics,
        HashSet<Guid> seen, List<string> missing)
    {
        var results = await _autoCreator.CreateAsync(missing, context.ClientId, context.Connection.Closed).ConfigureAwait(false);
        var image = _image(); // now includes what was just created
        short version = context.ApiVersion;
        string listener = context.Connection.ListenerName;
        for (int i = 0; i < missing.Count; i++)
        {
            var result = results[i];
            var topic = image.GetTopic(missing[i]);
            if (result.Error is ErrorCode.None or ErrorCode.TopicAlreadyExists && topic is not null)
            {
                if (seen.Add(topic.TopicId)) topics.Add(Describe(topic, image, listener, version, request.IncludeTopicAuthorizedOperations));
            }
            else
            {
                // Transient controller trouble is reported as retriable, the way Kafka reports a pending creation.
                var error = result.Error is ErrorCode.None or ErrorCode.TopicAlreadyExists or ErrorCode.NotController or ErrorCode.RequestTimedOut
                    ? ErrorCode.LeaderNotAvailable
                    : result.Error;
                topics.Add(ErrorTopic(error, missing[i], Guid.Empty));
            }
        }
        return Finish(context, request, image, topics);
    }

    private MetadataResponse Finish(RequestContext context, MetadataRequest request, MetadataImage image, List<MetadataResponse.MetadataResponseTopic> topics)
    {
        topics.Sort(CompareTopics);
        var listed = BrokerEndpoints.ListAlive(image, context.Connection.ListenerName);
        var response = new MetadataResponse
        {
            ClusterId = image.ClusterId,
            ControllerId = BrokerEndpoints.ControllerIdFor(image, _options.NodeId, listed),
            Topics = topics,
            ClusterAuthorizedOperations = AuthorizedOperations.Cluster(request.IncludeClusterAuthorizedOperations),
        };
        foreach (var b in listed)
            response.Brokers.Add(new MetadataResponse.MetadataResponseBroker { NodeId = b.NodeId, Host = b.Host, Port = b.Port, Rack = b.Rack });
        return response;
    }

    private static MetadataResponse.MetadataResponseTopic Describe(TopicImage topic, MetadataImage image, string listener, short version, bool includeOps)
    {
        var result = new MetadataResponse.MetadataResponseTopic
        {
            Name = topic.Name,
            TopicId = topic.TopicId,
            IsInternal = InternalTopics.IsInternal(topic.Name),
            Partitions = new List<MetadataResponse.MetadataResponsePartition>(topic.PartitionCount),
            TopicAuthorizedOperations = AuthorizedOperations.Topic(includeOps),
        };
        foreach (var p in topic.Partitions) result.Partitions.Add(DescribePartition(p, image, listener, version));
        return result;
    }

    private static MetadataResponse.MetadataResponsePartition DescribePartition(PartitionImage p, MetadataImage image, string listener, short version)
    {
        var availability = BrokerEndpoints.Leader(image, p.Leader, listener);
        var error = availability switch
        {
            LeaderAvailability.Available => ErrorCode.None,
            LeaderAvailability.ListenerNotFound when version >= 6 => ErrorCode.ListenerNotFound,
            _ => ErrorCode.LeaderNotAvailable,
        };
        var partition = new MetadataResponse.MetadataResponsePartition
        {
            ErrorCode = (short)error,
            PartitionIndex = p.PartitionId,
            LeaderId = availability == LeaderAvailability.Available ? p.Leader : -1,
            LeaderEpoch = p.LeaderEpoch,
            ReplicaNodes = new List<int>(p.Replicas.Length),
            IsrNodes = new List<int>(p.Isr.Length),
        };
        foreach (int r in p.Replicas) partition.ReplicaNodes.Add(r);
        foreach (int r in p.Isr) partition.IsrNodes.Add(r);
        return partition;
    }

    /// <summary>Names starting with "__" are Kafka's internal topics: never auto-created through Metadata.</summary>
    private static bool IsReservedName(string name) => name.StartsWith("__", StringComparison.Ordinal);

    private static MetadataResponse.MetadataResponseTopic ErrorTopic(ErrorCode error, string? name, Guid topicId) => new()
    {
        ErrorCode = (short)error,
        Name = name,
        TopicId = topicId,
        IsInternal = InternalTopics.IsInternal(name),
    };

    /// <summary>By name (ordinal); topics without a name (unknown ids) last, by id.</summary>
    private static int CompareTopics(MetadataResponse.MetadataResponseTopic a, MetadataResponse.MetadataResponseTopic b)
    {
        if (a.Name is null || b.Name is null)
            return a.Name is null && b.Name is null ? a.TopicId.CompareTo(b.TopicId) : a.Name is null ? 1 : -1;
        return string.CompareOrdinal(a.Name, b.Name);
    }
}

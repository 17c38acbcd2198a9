// OffsetFetch (key 9): v0-9 (v8+ batch several groups).
// Behaviour:
// * v0-7 name one group; Topics null (v2+) means every offset the group committed. A null topic list in v0/v1
//   (not nullable there) is malformed. v8+ name groups, each with its own topic list (null = all); v9's
//   MemberId/MemberEpoch belong to KIP-848 groups and are ignored for classic groups.
// * The empty group id is allowed (Kafka keeps it for old consumers). Group-level errors (NOT_COORDINATOR,
//   COORDINATOR_LOAD_IN_PROGRESS, or an error of the coordinator's fetch): v2-7 → the top-level ErrorCode with no
//   topics; v0/v1 (no top-level error) → every requested partition with that error, offset -1 and metadata "";
//   v8+ → the group's ErrorCode with no topics.
// * Partitions without a committed offset: offset -1, leader epoch -1, metadata "", no error (the coordinator's
//   answer). RequireStable (v7+) is passed on; without transactions nothing is ever pending.
// * Topics appear in the order the coordinator returns offsets (request order for named partitions).
using Broker.Core.Model;
using Broker.Groups;
using Broker.Protocol.Codec;
using Broker.Protocol.Messages;
using Broker.Server.Pipeline;

namespace Broker.Server.Handlers;

public sealed class OffsetFetchHandler(GroupCoordinator coordinator) : KafkaHandler<OffsetFetchRequest>
{
    public override ApiKey Key => ApiKey.OffsetFetch;
    public override short MinVersion => 0;
    public override short MaxVersion => 9;

    protected override OffsetFetchRequest Parse(ref KafkaReader reader, short version)
    {
        var request = OffsetFetchRequest.Read(ref reader, version);
        if (version < 2 && request.Topics is null)
            throw new KafkaProtocolException($"OffsetFetch v{version} topics must not be null");
        return request;
    }

    protected override ValueTask<IKafkaMessage?> Handle(RequestContext context, OffsetFetchRequest request)
    {
        short version = context.ApiVersion;
        var response = new OffsetFetchResponse();
        if (version >= 8)
        {
            response.Groups = new List<OffsetFetchResponse.OffsetFetchResponseGroup>(request.Groups.Count);
            foreach (var group in request.Groups)
                response.Groups.Add(FetchGroup(group.GroupId, Query(group.Topics), request.RequireStable));
            return new(response);
        }

        var queries = Query(request.Topics);
        var error = coordinator.CheckCoordinator(request.GroupId);
        IReadOnlyList<CommittedOffset> offsets = [];
        if (error == ErrorCode.None)
        {
            var outcome = coordinator.FetchOffsets(request.GroupId, queries, version >= 7 && request.RequireStable);
            error = outcome.Error;
            offsets = outcome.Offsets;
        }
        if (error != ErrorCode.None)
        {
            if (version >= 2) response.ErrorCode = (short)error;
            else response.Topics = PartitionErrors(request.Topics!, error);
            return new(response);
        }

        response.Topics = new List<OffsetFetchResponse.OffsetFetchResponseTopic>();
        OffsetFetchResponse.OffsetFetchResponseTopic? topic = null;
        foreach (var o in offsets)
        {
            if (topic is null || topic.Name != o.Topic) topic = FindOrAdd(response.Topics, o.Topic);
            topic.Partitions.Add(new OffsetFetchResponse.OffsetFetchResponsePartition
            {
                PartitionIndex = o.Partition,
                CommittedOffset = o.Offset,
                CommittedLeaderEpoch = o.LeaderEpoch,
                Metadata = o.Metadata ?? "",
                ErrorCode = (short)o.Error,
            });
        }
        return new(response);
    }

    private OffsetFetchResponse.OffsetFetchResponseGroup FetchGroup(string groupId, List<TopicPartitionsQuery>? queries, bool requireStable)
    {
        var result = new OffsetFetchResponse.OffsetFetchResponseGroup { GroupId = groupId };
        var error = coordinator.CheckCoordinator(groupId);
        if (error != ErrorCode.None)
        {
            result.ErrorCode = (short)error;
            return result;
        }
        var outcome = coordinator.FetchOffsets(groupId, queries, requireStable);
        result.ErrorCode = (short)outcome.Error;
        if (outcome.Error != ErrorCode.None) return result;
        OffsetFetchResponse.OffsetFetchResponseTopics? topic = null;
        foreach (var o in outcome.Offsets)
        {
            if (topic is null || topic.Name != o.Topic) topic = FindOrAdd(result.Topics, o.Topic);
            topic.Partitions.Add(new OffsetFetchResponse.OffsetFetchResponsePartitions
            {
                PartitionIndex = o.Partition,
                CommittedOffset = o.Offset,
                CommittedLeaderEpoch = o.LeaderEpoch,
                Metadata = o.Metadata ?? "",
                ErrorCode = (short)o.Error,
            });
        }
        return result;
    }

    private static OffsetFetchResponse.OffsetFetchResponseTopic FindOrAdd(List<OffsetFetchResponse.OffsetFetchResponseTopic> topics, string name)
    {
        foreach (var t in topics)
            if (t.Name == name) return t;
        var added = new OffsetFetchResponse.OffsetFetchResponseTopic { Name = name };
        topics.Add(added);
        return added;
    }

    private static OffsetFetchResponse.OffsetFetchResponseTopics FindOrAdd(List<OffsetFetchResponse.OffsetFetchResponseTopics> topics, string name)
    {
        foreach (var t in topics)
            if (t.Name == name) return t;
        var added = new OffsetFetchResponse.OffsetFetchResponseTopics { Name = name };
        topics.Add(added);
        return added;
    }

    private static List<TopicPartitionsQuery>? Query(List<OffsetFetchRequest.OffsetFetchRequestTopic>? topics)
    {
        if (topics is null) return null;
        var queries = new List<TopicPartitionsQuery>(topics.Count);
        foreach (var t in topics) queries.Add(new TopicPartitionsQuery(t.Name, t.PartitionIndexes));
        return queries;
    }

    private static List<TopicPartitionsQuery>? Query(List<OffsetFetchRequest.OffsetFetchRequestTopics>? topics)
    {
        if (topics is null) return null;
        var queries = new List<TopicPartitionsQuery>(topics.Count);
        foreach (var t in topics) queries.Add(new TopicPartitionsQuery(t.Name, t.PartitionIndexes));
        return queries;
    }

    /// <summary>v0/v1 group-level error: every requested partition carries it (offset -1, metadata "").</summary>
    private static List<OffsetFetchResponse.OffsetFetchResponseTopic> PartitionErrors(List<OffsetFetchRequest.OffsetFetchRequestTopic> topics, ErrorCode error)
    {
        var result = new List<OffsetFetchResponse.OffsetFetchResponseTopic>(topics.Count);
        foreach (var t in topics)
        {
            var entry = new OffsetFetchResponse.OffsetFetchResponseTopic { Name = t.Name, Partitions = new(t.PartitionIndexes.Count) };
            foreach (int p in t.PartitionIndexes)
                entry.Partitions.Add(new OffsetFetchResponse.OffsetFetchResponsePartition
                {
                    PartitionIndex = p, CommittedOffset = -1, CommittedLeaderEpoch = -1, Metadata = "", ErrorCode = (short)error,
                });
            result.Add(entry);
        }
        return result;
    }
}

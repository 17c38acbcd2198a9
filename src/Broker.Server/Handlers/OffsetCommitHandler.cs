// OffsetCommit (key 8): v0-9, all implemented (v0/v1 are simple: librdkafka's group feature check wants 1..2).
// Behaviour:
// * v0 has no generation or member: a commit from outside the group protocol (generation -1, member ""), which the
//   coordinator accepts only while the group has no members. v1's per-partition CommitTimestamp is ignored (Kafka
//   2.1+ stamps commits itself); v2-4's RetentionTimeMs is passed on (-1 = the broker's retention); v6+ carries
//   CommittedLeaderEpoch, v7+ GroupInstanceId. v9's GenerationIdOrMemberEpoch is the classic generation.
// * Per partition: a partition the metadata image does not know → UNKNOWN_TOPIC_OR_PARTITION (Kafka checks its
//   metadata cache); it is never passed to the coordinator. The others get the group-level error when there is
//   one (NOT_COORDINATOR, COORDINATOR_LOAD_IN_PROGRESS; the empty group id is allowed, as in Kafka), else the
//   coordinator's result (ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID, OFFSET_METADATA_TOO_LARGE, ...).
// * A null CommittedMetadata is stored as "" (Kafka's NoMetadata). Nothing to commit → an empty answer at once.
// * The response lists topics and partitions in request order.
using Broker.Core.Model;
using Broker.Groups;
using Broker.Metadata.Image;
using Broker.Protocol.Codec;
using Broker.Protocol.Messages;
using Broker.Server.Pipeline;

namespace Broker.Server.Handlers;

public sealed class OffsetCommitHandler(GroupCoordinator coordinator, Func<MetadataImage> image) : KafkaHandler<OffsetCommitRequest>
{
    public override ApiKey Key => ApiKey.OffsetCommit;
    public override short MinVersion => 0;
    public override short MaxVersion => 9;

    protected override OffsetCommitRequest Parse(ref KafkaReader reader, short version) => OffsetCommitRequest.Read(ref reader, version);

    protected override ValueTask<IKafkaMessage?> Handle(RequestContext context, OffsetCommitRequest request)
    {
        short version = context.ApiVersion;
        var current = image();
        var offsets = new List<OffsetCommitEntry>();
        foreach (var topic in request.Topics)
            foreach (var p in topic.Partitions)
                if (current.GetPartition(topic.Name, p.PartitionIndex) is not null)
                    offsets.Add(new OffsetCommitEntry(topic.Name, p.PartitionIndex, p.CommittedOffset,
                        version >= 6 ? p.CommittedLeaderEpoch : -1, p.CommittedMetadata ?? ""));
        if (offsets.Count == 0) return new(Respond(request, current, results: null, ErrorCode.None));

        var groupError = coordinator.CheckCoordinator(request.GroupId);
        if (groupError != ErrorCode.None) return new(Respond(request, current, results: null, groupError));

        var args = new OffsetCommitArgs(
            request.GroupId,
            version >= 1 ? request.GenerationIdOrMemberEpoch : -1,
            version >= 1 ? request.MemberId : "",
            version >= 7 ? request.GroupInstanceId : null,
            version is >= 2 and <= 4 ? request.RetentionTimeMs : -1,
            offsets);
        return CommitAsync(request, current, args, context.Connection.Closed);
    }

    private async ValueTask<IKafkaMessage?> CommitAsync(OffsetCommitRequest request, MetadataImage current, OffsetCommitArgs args, CancellationToken cancellationToken)
    {
        var outcome = await coordinator.CommitOffsetsAsync(args, cancellationToken).ConfigureAwait(false);
        var results = new Dictionary<TopicPartition, ErrorCode>(outcome.Results.Count);
        foreach (var r in outcome.Results) results[new TopicPartition(r.Topic, r.Partition)] = r.Error;
        return Respond(request, current, results, ErrorCode.None);
    }

    /// <summary>One entry per requested partition, in request order: unknown partitions, else the group-level error
    /// when given, else the coordinator's result (UNKNOWN_SERVER_ERROR if it has none for the partition).</summary>
    private static OffsetCommitResponse Respond(OffsetCommitRequest request, MetadataImage current,
        Dictionary<TopicPartition, ErrorCode>? results, ErrorCode groupError)
    {
        var response = new OffsetCommitResponse { Topics = new(request.Topics.Count) };
        foreach (var topic in request.Topics)
        {
            var entry = new OffsetCommitResponse.OffsetCommitResponseTopic { Name = topic.Name, Partitions = new(topic.Partitions.Count) };
            foreach (var p in topic.Partitions)
            {
                ErrorCode error;
                if (current.GetPartition(topic.Name, p.PartitionIndex) is null) error = ErrorCode.UnknownTopicOrPartition;
                else if (results is null) error = groupError;
                else if (!results.TryGetValue(new TopicPartition(topic.Name, p.PartitionIndex), out error)) error = ErrorCode.UnknownServerError;
                entry.Partitions.Add(new OffsetCommitResponse.OffsetCommitResponsePartition { PartitionIndex = p.PartitionIndex, ErrorCode = (short)error });
            }
            response.Topics.Add(entry);
        }
        return response;
    }
}

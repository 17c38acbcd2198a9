// OffsetDelete (key 47): v0.
// Behaviour:
// * Group-level errors answer with the top-level ErrorCode and no topics: empty group id → INVALID_GROUP_ID, the
//   coordinator's check (NOT_COORDINATOR, COORDINATOR_LOAD_IN_PROGRESS), and the coordinator's own (GROUP_ID_NOT_FOUND,
//   NON_EMPTY_GROUP for a group whose members are not consumers) — Kafka's shape.
// * Otherwise per partition, in request order: a partition the metadata image does not know →
//   UNKNOWN_TOPIC_OR_PARTITION (not passed on); else the coordinator's result (None, or GROUP_SUBSCRIBED_TO_TOPIC
//   when a member of the group still subscribes to the topic).
using Broker.Core.Model;
using Broker.Groups;
using Broker.Metadata.Image;
using Broker.Protocol.Codec;
using Broker.Protocol.Messages;
using Broker.Server.Groups;
using Broker.Server.Pipeline;

namespace Broker.Server.Handlers;

public sealed class OffsetDeleteHandler(GroupCoordinator coordinator, Func<MetadataImage> image) : KafkaHandler<OffsetDeleteRequest>
{
    public override ApiKey Key => ApiKey.OffsetDelete;
    public override short MinVersion => 0;
    public override short MaxVersion => 0;

    protected override OffsetDeleteRequest Parse(ref KafkaReader reader, short version) => OffsetDeleteRequest.Read(ref reader, version);

    protected override ValueTask<IKafkaMessage?> Handle(RequestContext context, OffsetDeleteRequest request)
    {
        if (!GroupRequests.IsValidMembershipGroupId(request.GroupId))
            return new(new OffsetDeleteResponse { ErrorCode = (short)ErrorCode.InvalidGroupId });
        var groupError = coordinator.CheckCoordinator(request.GroupId);
        if (groupError != ErrorCode.None) return new(new OffsetDeleteResponse { ErrorCode = (short)groupError });

        var current = image();
        var known = new List<TopicPartition>();
        foreach (var topic in request.Topics)
            foreach (var p in topic.Partitions)
                if (current.GetPartition(topic.Name, p.PartitionIndex) is not null)
                    known.Add(new TopicPartition(topic.Name, p.PartitionIndex));
        return DeleteAsync(request, current, known, context.Connection.Closed);
    }

    private async ValueTask<IKafkaMessage?> DeleteAsync(OffsetDeleteRequest request, MetadataImage current, List<TopicPartition> known, CancellationToken cancellationToken)
    {
        var outcome = await coordinator.DeleteOffsetsAsync(request.GroupId, known, cancellationToken).ConfigureAwait(false);
        if (outcome.Error != ErrorCode.None) return new OffsetDeleteResponse { ErrorCode = (short)outcome.Error };
        var results = new Dictionary<TopicPartition, ErrorCode>(outcome.Partitions.Count);
        foreach (var r in outcome.Partitions) results[new TopicPartition(r.Topic, r.Partition)] = r.Error;

        var response = new OffsetDeleteResponse { Topics = new(request.Topics.Count) };
        foreach (var topic in request.Topics)
        {
            var entry = new OffsetDeleteResponse.OffsetDeleteResponseTopic { Name = topic.Name, Partitions = new(topic.Partitions.Count) };
            foreach (var p in topic.Partitions)
            {
                var id = new TopicPartition(topic.Name, p.PartitionIndex);
                ErrorCode error = current.GetPartition(topic.Name, p.PartitionIndex) is null ? ErrorCode.UnknownTopicOrPartition
                    : results.TryGetValue(id, out var e) ? e : ErrorCode.UnknownServerError;
                entry.Partitions.Add(new OffsetDeleteResponse.OffsetDeleteResponsePartition { PartitionIndex = p.PartitionIndex, ErrorCode = (short)error });
            }
            response.Topics.Add(entry);
        }
        return response;
    }
}

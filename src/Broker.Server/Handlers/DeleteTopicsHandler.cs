// DeleteTopics (key 20): v1-6 (Kafka 4 serves 1-6; kafkajs and librdkafka 2.0 send v1).
// Behaviour:
// * v1-5 name topics in TopicNames; v6 in Topics, each by name or (null name) by id. Naming both is
//   INVALID_REQUEST for that entry, as in Kafka.
// * The controller deletes every found topic in one metadata batch: unknown name -> UNKNOWN_TOPIC_OR_PARTITION,
//   unknown id -> UNKNOWN_TOPIC_ID, delete.topic.enable=false -> TOPIC_DELETION_DISABLED, a topic named more than
//   once -> INVALID_REQUEST (one result for it). Partition logs are removed by whoever follows the metadata image.
// * TimeoutMs > 0 bounds the wait for the controller; on expiry REQUEST_TIMED_OUT.
// * Results in request order: Name (null for an unknown id), TopicId (v6), ErrorCode, ErrorMessage (v5+).
using Broker.Core.Model;
using Broker.Metadata.Controller;
using Broker.Protocol.Codec;
using Broker.Protocol.Messages;
using Broker.Server.Admin;
using Broker.Server.Pipeline;

namespace Broker.Server.Handlers;

public sealed class DeleteTopicsHandler(ITopicAdmin admin) : KafkaHandler<DeleteTopicsRequest>
{
    public override ApiKey Key => ApiKey.DeleteTopics;
    public override short MinVersion => 1;
    public override short MaxVersion => 6;

    protected override DeleteTopicsRequest Parse(ref KafkaReader reader, short version) => DeleteTopicsRequest.Read(ref reader, version);

    protected override ValueTask<IKafkaMessage?> Handle(RequestContext context, DeleteTopicsRequest request)
    {
        int count = context.ApiVersion >= 6 ? request.Topics.Count : request.TopicNames.Count;
        var results = new DeleteTopicsResponse.DeletableTopicResult?[count];
        var references = new List<TopicReference>(count);
        var slots = new List<int>(count);
        for (int i = 0; i < count; i++)
        {
            TopicReference reference;
            if (context.ApiVersion >= 6)
            {
                var state = request.Topics[i];
                if (state.Name is not null && state.TopicId != Guid.Empty)
                {
                    results[i] = Result(state.Name, state.TopicId, ErrorCode.InvalidRequest, "You may not specify both topic name and topic id.");
                    continue;
                }
                reference = state.Name is not null ? TopicReference.ByName(state.Name) : TopicReference.ById(state.TopicId);
            }
            else reference = TopicReference.ByName(request.TopicNames[i]);
            references.Add(reference);
            slots.Add(i);
        }

        if (references.Count == 0) return new(Respond(results));
        return DeleteAsync(context, request, references, slots, results);
    }

    private async ValueTask<IKafkaMessage?> DeleteAsync(
        RequestContext context, DeleteTopicsRequest request, List<TopicReference> references, List<int> slots,
        DeleteTopicsResponse.DeletableTopicResult?[] results)
    {
        var outcome = await AdminTimeout.RunAsync(request.TimeoutMs, context.Connection.Closed,
            ct => admin.DeleteTopicsAsync(references, ct)).ConfigureAwait(false);
        var reportedNames = new HashSet<string>(StringComparer.Ordinal);
        var reportedIds = new HashSet<Guid>();
        for (int j = 0; j < slots.Count; j++)
        {
            var reference = references[j];
            // One result per topic, like Kafka: later mentions of a duplicated name or id are folded into the first.
            bool first = reference.Name is not null ? reportedNames.Add(reference.Name) : reportedIds.Add(reference.TopicId);
            if (!first) continue;
            if (outcome is null)
            {
                results[slots[j]] = Result(reference.Name, reference.TopicId, ErrorCode.RequestTimedOut, AdminTimeout.Message(request.TimeoutMs));
                continue;
            }
            var r = outcome[j];
            results[slots[j]] = Result(r.Name, r.TopicId, r.Error, r.Message);
        }
        return Respond(results);
    }

    private static DeleteTopicsResponse Respond(DeleteTopicsResponse.DeletableTopicResult?[] results)
    {
        var response = new DeleteTopicsResponse { Responses = new List<DeleteTopicsResponse.DeletableTopicResult>(results.Length) };
        foreach (var r in results)
            if (r is not null) response.Responses.Add(r);
        return response;
    }

    private static DeleteTopicsResponse.DeletableTopicResult Result(string? name, Guid topicId, ErrorCode error, string? message) => new()
    {
        Name = name,
        TopicId = topicId,
        ErrorCode = (short)error,
        ErrorMessage = error == ErrorCode.None ? null : message,
    };
}

// CreatePartitions (key 37): v0-3.
// Behaviour:
// * Per topic: Count is the new total. Assignments null = placed by the controller; otherwise one broker list per
//   new partition (count mismatch, unknown/duplicate brokers -> INVALID_REPLICA_ASSIGNMENT).
// * Errors from the controller: UNKNOWN_TOPIC_OR_PARTITION, INVALID_PARTITIONS (Count not above the current
//   count, or above the per-topic limit), INVALID_REPLICATION_FACTOR (too few brokers); a topic named more than
//   once -> INVALID_REQUEST, reported once.
// * ValidateOnly checks without writing. TimeoutMs > 0 bounds the wait; on expiry REQUEST_TIMED_OUT.
// * Results in request order: Name, ErrorCode, ErrorMessage (null on success). ThrottleTimeMs 0.
using Broker.Core.Model;
using Broker.Metadata.Controller;
using Broker.Protocol.Codec;
using Broker.Protocol.Messages;
using Broker.Server.Admin;
using Broker.Server.Pipeline;

namespace Broker.Server.Handlers;

public sealed class CreatePartitionsHandler(ITopicAdmin admin) : KafkaHandler<CreatePartitionsRequest>
{
    public override ApiKey Key => ApiKey.CreatePartitions;
    public override short MinVersion => 0;
    public override short MaxVersion => 3;

    protected override CreatePartitionsRequest Parse(ref KafkaReader reader, short version) => CreatePartitionsRequest.Read(ref reader, version);

    protected override ValueTask<IKafkaMessage?> Handle(RequestContext context, CreatePartitionsRequest request)
    {
        if (request.Topics.Count == 0) return new(new CreatePartitionsResponse());
        var specs = new List<NewPartitionsSpec>(request.Topics.Count);
        foreach (var topic in request.Topics)
        {
            List<int[]>? assignment = null;
            if (topic.Assignments is not null)
            {
                assignment = new List<int[]>(topic.Assignments.Count);
                foreach (var a in topic.Assignments) assignment.Add(a.BrokerIds.ToArray());
            }
            specs.Add(new NewPartitionsSpec(topic.Name, topic.Count, assignment));
        }
        return CreateAsync(context, request, specs);
    }

    private async ValueTask<IKafkaMessage?> CreateAsync(RequestContext context, CreatePartitionsRequest request, List<NewPartitionsSpec> specs)
    {
        var outcome = await AdminTimeout.RunAsync(request.TimeoutMs, context.Connection.Closed,
            ct => admin.CreatePartitionsAsync(specs, request.ValidateOnly, ct)).ConfigureAwait(false);
        var response = new CreatePartitionsResponse { Results = new List<CreatePartitionsResponse.CreatePartitionsTopicResult>(specs.Count) };
        var reported = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < specs.Count; i++)
        {
            if (!reported.Add(specs[i].Topic)) continue; // duplicates: one INVALID_REQUEST result per name
            var (error, message) = outcome is null
                ? (ErrorCode.RequestTimedOut, AdminTimeout.Message(request.TimeoutMs))
                : (outcome[i].Error, outcome[i].Message);
            response.Results.Add(new CreatePartitionsResponse.CreatePartitionsTopicResult
            {
                Name = specs[i].Topic,
                ErrorCode = (short)error,
                ErrorMessage = error == ErrorCode.None ? null : message,
            });
        }
        return response;
    }
}

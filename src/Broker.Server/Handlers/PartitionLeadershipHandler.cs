// PartitionLeadership (key 121): v0 only. A PRIVATE API of this broker, not an Apache Kafka key; register it on the
// controller listener with HandlerTable.RegisterInternal (served to other nodes, never advertised to clients).
// Behaviour:
// * The Raft leader of each partition reports itself as leader, its term as LeaderEpoch and its in-sync set; the
//   active controller records what changed (ClusterController.ApplyPartitionLeadershipAsync), all accepted
//   partitions of one request in one metadata batch, and answers once it is committed and applied.
// * Top-level ErrorCode: NOT_CONTROLLER when this node has no active controller (nothing is applied; every
//   partition carries NOT_CONTROLLER too); STALE_BROKER_EPOCH / BROKER_ID_NOT_REGISTERED / NOT_CONTROLLER when the
//   controller refused the whole request for that reason; otherwise 0.
// * Per partition (request order, grouped by topic as sent): 0 (recorded, or already so), FENCED_LEADER_EPOCH,
//   UNKNOWN_TOPIC_ID, UNKNOWN_TOPIC_OR_PARTITION, INVALID_REQUEST (not the leader / not a replica / bad ISR /
//   same epoch with another leader / reported twice), or the commit's error.
// * The request is bounded by the connection's lifetime only; the controller's commit timeout applies.
using Broker.Core.Model;
using Broker.Metadata.Controller;
using Broker.Protocol.Codec;
using Broker.Protocol.Messages;
using Broker.Server.Pipeline;

namespace Broker.Server.Handlers;

public sealed class PartitionLeadershipHandler(Func<ClusterController?> controller) : KafkaHandler<PartitionLeadershipRequest>
{
    public override ApiKey Key => ApiKey.PartitionLeadership;
    public override short MinVersion => 0;
    public override short MaxVersion => 0;

    protected override PartitionLeadershipRequest Parse(ref KafkaReader reader, short version) =>
        PartitionLeadershipRequest.Read(ref reader, version);

    protected override ValueTask<IKafkaMessage?> Handle(RequestContext context, PartitionLeadershipRequest request)
    {
        var active = controller();
        if (active is null || !active.IsActive) return new(Respond(request, ErrorCode.NotController, null));

        var reports = new List<PartitionLeadershipReport>();
        foreach (var topic in request.Topics)
            foreach (var p in topic.Partitions)
                reports.Add(new PartitionLeadershipReport(topic.TopicId, p.PartitionIndex, p.Leader, p.LeaderEpoch, p.Isr));
        if (reports.Count == 0) return new(new PartitionLeadershipResponse());
        return ApplyAsync(context, active, request, reports);
    }

    private static async ValueTask<IKafkaMessage?> ApplyAsync(
        RequestContext context, ClusterController active, PartitionLeadershipRequest request, List<PartitionLeadershipReport> reports)
    {
        var results = await active.ApplyPartitionLeadershipAsync(request.BrokerId, request.BrokerEpoch, reports, context.Connection.Closed)
            .ConfigureAwait(false);
        return Respond(request, WholeRequestError(results), results);
    }

    /// <summary>The broker-level error when every partition was refused for the same broker-level reason.</summary>
    private static ErrorCode WholeRequestError(IReadOnlyList<PartitionLeadershipResult> results)
    {
        var first = results[0].Error;
        if (first is not (ErrorCode.StaleBrokerEpoch or ErrorCode.BrokerIdNotRegistered or ErrorCode.NotController)) return ErrorCode.None;
        foreach (var r in results)
            if (r.Error != first) return ErrorCode.None;
        return first;
    }

    /// <summary>Mirrors the request's topics and partitions; <paramref name="results"/> null = all get <paramref name="error"/>.</summary>
    private static PartitionLeadershipResponse Respond(
        PartitionLeadershipRequest request, ErrorCode error, IReadOnlyList<PartitionLeadershipResult>? results)
    {
        var response = new PartitionLeadershipResponse
        {
            ErrorCode = (short)error,
            Topics = new List<PartitionLeadershipResponse.TopicResult>(request.Topics.Count),
        };
        int next = 0;
        foreach (var topic in request.Topics)
        {
            var topicResult = new PartitionLeadershipResponse.TopicResult
            {
                TopicId = topic.TopicId,
                Partitions = new List<PartitionLeadershipResponse.PartitionResult>(topic.Partitions.Count),
            };
            foreach (var p in topic.Partitions)
            {
                var code = results is null ? error : results[next++].Error;
                topicResult.Partitions.Add(new PartitionLeadershipResponse.PartitionResult { PartitionIndex = p.PartitionIndex, ErrorCode = (short)code });
            }
            response.Topics.Add(topicResult);
        }
        return response;
    }
}

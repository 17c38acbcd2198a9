// ElectLeaders (key 43): v0-2 (v2 flexible; v0 has no ElectionType and means preferred). Admin clients send it to any
// broker.
// Behaviour:
// * ElectionType 0 (preferred): each named partition's leadership goes to its preferred replica (the first listed)
//   when that replica is alive and in sync; see PreferredLeaderElector for the per-partition answers (NONE once it
//   leads, ELECTION_NOT_NEEDED, PREFERRED_LEADER_NOT_AVAILABLE, UNKNOWN_TOPIC_OR_PARTITION, REQUEST_TIMED_OUT).
//   Partitions led by another broker are forwarded to it over the inter-broker listener; requests forwarded to us
//   (client id ElectLeadersForwarder.ClientId) are answered from our own replicas only.
// * TopicPartitions null: every partition of the cluster; the answer then omits ELECTION_NOT_NEEDED (as Kafka).
// * ElectionType 1 (unclean) → INVALID_REQUEST for every named partition ("unclean leader election is not
//   supported: a new leader is always an up-to-date replica"), or, for null TopicPartitions, as the top-level error
//   with no results; any other type → INVALID_REQUEST likewise.
// * TimeoutMs bounds each election (at most PreferredLeaderElector.MaxTransferWait).
// * Results grouped by topic in the order topics first appear; top-level ErrorCode (v1+) NONE unless said above.
using Broker.Core.Model;
using Broker.Protocol.Codec;
using Broker.Protocol.Messages;
using Broker.Server.LogAdmin;
using Broker.Server.Pipeline;

namespace Broker.Server.Handlers;

public sealed class ElectLeadersHandler(PreferredLeaderElector elector) : KafkaHandler<ElectLeadersRequest>
{
    public const string UncleanNotSupported = "unclean leader election is not supported: a new leader is always an up-to-date replica";

    public override ApiKey Key => ApiKey.ElectLeaders;
    public override short MinVersion => 0;
    public override short MaxVersion => 2;

    protected override ElectLeadersRequest Parse(ref KafkaReader reader, short version) => ElectLeadersRequest.Read(ref reader, version);

    protected override ValueTask<IKafkaMessage?> Handle(RequestContext context, ElectLeadersRequest request)
    {
        bool all = request.TopicPartitions is null;
        var targets = all ? elector.AllPartitions() : Flatten(request.TopicPartitions!);
        int type = context.ApiVersion == 0 ? 0 : request.ElectionType;
        if (type != 0)
        {
            string message = type == 1 ? UncleanNotSupported : $"unknown election type {type}";
            if (all) return new(new ElectLeadersResponse { ErrorCode = (short)ErrorCode.InvalidRequest });
            var refused = new ElectionOutcome[targets.Count];
            Array.Fill(refused, new ElectionOutcome(ErrorCode.InvalidRequest, message));
            return new(Respond(targets, refused, omitNotNeeded: false));
        }
        return ElectAsync(context, request, targets, all);
    }

    private async ValueTask<IKafkaMessage?> ElectAsync(RequestContext context, ElectLeadersRequest request, List<ElectionTarget> targets, bool all)
    {
        bool forwarded = context.ClientId == ElectLeadersForwarder.ClientId;
        var timeout = TimeSpan.FromMilliseconds(Math.Max(0, request.TimeoutMs));
        ElectionOutcome[] outcomes;
        try
        {
            outcomes = await elector.ElectAsync(targets, forwarded, timeout, context.Connection.Closed).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return null; // the connection closed: nobody to answer
        }
        return Respond(targets, outcomes, omitNotNeeded: all);
    }

    private static List<ElectionTarget> Flatten(List<ElectLeadersRequest.ElectLeadersTopic> topics)
    {
        var targets = new List<ElectionTarget>();
        foreach (var t in topics)
            foreach (int p in t.Partitions)
                targets.Add(new ElectionTarget(t.Topic, p));
        return targets;
    }

    private static ElectLeadersResponse Respond(List<ElectionTarget> targets, ElectionOutcome[] outcomes, bool omitNotNeeded)
    {
        var response = new ElectLeadersResponse { ReplicaElectionResults = new() };
        var byTopic = new Dictionary<string, ElectLeadersResponse.ReplicaElectionResult>(StringComparer.Ordinal);
        for (int i = 0; i < targets.Count; i++)
        {
            var outcome = outcomes[i];
            if (omitNotNeeded && outcome.Error == ErrorCode.ElectionNotNeeded) continue;
            if (!byTopic.TryGetValue(targets[i].Topic, out var topic))
            {
                byTopic[targets[i].Topic] = topic = new ElectLeadersResponse.ReplicaElectionResult { Topic = targets[i].Topic, PartitionResult = new() };
                response.ReplicaElectionResults.Add(topic);
            }
            topic.PartitionResult.Add(new ElectLeadersResponse.ElectLeadersPartitionResult
            {
                PartitionId = targets[i].Partition,
                ErrorCode = (short)outcome.Error,
                ErrorMessage = outcome.Error == ErrorCode.None ? null : outcome.Message,
            });
        }
        return response;
    }
}

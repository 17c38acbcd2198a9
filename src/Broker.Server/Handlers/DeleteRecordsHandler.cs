// DeleteRecords (key 21): v0-2 (v2 flexible). Kafka's AdminClient.deleteRecords; sent to each partition's leader.
// Behaviour, per partition:
// * Unknown → UNKNOWN_TOPIC_OR_PARTITION; no replica here / not the leader → NOT_LEADER_OR_FOLLOWER; an internal
//   topic (__consumer_offsets) → INVALID_TOPIC_EXCEPTION; a topic whose cleanup.policy lacks "delete" →
//   POLICY_VIOLATION (as Kafka).
// * Offset -1 means the high watermark; a negative offset or one above the high watermark → OFFSET_OUT_OF_RANGE.
//   Otherwise the leader moves its log start offset there (inside a segment or a batch if need be; persisted before
//   it is visible), and the partition answers once every in-sync replica acknowledged a Raft message carrying it
//   (see RaftReplicatedLog.LogStart.cs), or REQUEST_TIMED_OUT after TimeoutMs (the leader's start has moved; the
//   followers learn it with their next heartbeat). An offset at or below the current log start changes nothing.
// * LowWatermark = the partition's log start offset afterwards; -1 with any error (as Kafka). Reads below it are
//   OFFSET_OUT_OF_RANGE, ListOffsets earliest returns it, Fetch carries it, and retention deletes the segments
//   wholly below it.
// * Partitions are handled concurrently; the response keeps the request's order (a partition named twice gets two
//   entries, the second a no-op).
using Broker.Consensus.Raft;
using Broker.Core.Model;
using Broker.Protocol.Codec;
using Broker.Protocol.Messages;
using Broker.Server.Admin;
using Broker.Server.LogAdmin;
using Broker.Server.Partitions;
using Broker.Server.Pipeline;

namespace Broker.Server.Handlers;

public sealed class DeleteRecordsHandler : KafkaHandler<DeleteRecordsRequest>
{
    private static readonly IReadOnlyList<string> DefaultPolicy = ["delete"];

    private readonly PartitionManager _partitions;
    private readonly IReadOnlyList<string> _brokerCleanupPolicy;

    /// <param name="brokerCleanupPolicy">log.cleanup.policy (topics without their own cleanup.policy); default delete.</param>
    public DeleteRecordsHandler(PartitionManager partitions, IReadOnlyList<string>? brokerCleanupPolicy = null)
    {
        ArgumentNullException.ThrowIfNull(partitions);
        _partitions = partitions;
        _brokerCleanupPolicy = brokerCleanupPolicy ?? DefaultPolicy;
    }

    public override ApiKey Key => ApiKey.DeleteRecords;
    public override short MinVersion => 0;
    public override short MaxVersion => 2;

    protected override DeleteRecordsRequest Parse(ref KafkaReader reader, short version) => DeleteRecordsRequest.Read(ref reader, version);

    protected override ValueTask<IKafkaMessage?> Handle(RequestContext context, DeleteRecordsRequest request)
    {
        var response = new DeleteRecordsResponse { Topics = new(request.Topics.Count) };
        var pending = new List<(DeleteRecordsResponse.DeleteRecordsPartitionResult Result, ValueTask<DeleteRecordsResult> Task)>();
        var timeout = TimeSpan.FromMilliseconds(Math.Max(0, request.TimeoutMs));
        foreach (var topic in request.Topics)
        {
            var topicResult = new DeleteRecordsResponse.DeleteRecordsTopicResult { Name = topic.Name, Partitions = new(topic.Partitions.Count) };
            response.Topics.Add(topicResult);
            foreach (var p in topic.Partitions)
            {
                var result = new DeleteRecordsResponse.DeleteRecordsPartitionResult { PartitionIndex = p.PartitionIndex, LowWatermark = -1 };
                topicResult.Partitions.Add(result);
                var error = Check(topic.Name, p.PartitionIndex, out var state);
                if (error != ErrorCode.None)
                {
                    result.ErrorCode = (short)error;
                    continue;
                }
                ValueTask<DeleteRecordsResult> task;
                try
                {
                    task = ReplicaLogAdmin.DeleteRecordsAsync(state!, p.Offset, timeout, context.Connection.Closed);
                }
                catch (ObjectDisposedException)
                {
                    result.ErrorCode = (short)ErrorCode.NotLeaderOrFollower; // removed meanwhile
                    continue;
                }
                if (task.IsCompletedSuccessfully) Apply(result, task.Result);
                else pending.Add((result, task));
            }
        }
        return pending.Count == 0 ? new(response) : AwaitAllAsync(response, pending);
    }

    private ErrorCode Check(string topic, int partition, out PartitionState? state)
    {
        state = null;
        if (InternalTopics.IsInternal(topic) && _partitions.Image?.GetTopic(topic) is not null) return ErrorCode.InvalidTopicException;
        var error = _partitions.Find(topic, partition, out state);
        if (error != ErrorCode.None) return error;
        if (!state!.IsLeader) return ErrorCode.NotLeaderOrFollower;
        if (!ReplicaLogAdmin.AllowsDeleteRecords(state.Topic.Configs, _brokerCleanupPolicy)) return ErrorCode.PolicyViolation;
        return ErrorCode.None;
    }

    private static async ValueTask<IKafkaMessage?> AwaitAllAsync(DeleteRecordsResponse response,
        List<(DeleteRecordsResponse.DeleteRecordsPartitionResult Result, ValueTask<DeleteRecordsResult> Task)> pending)
    {
        foreach (var (result, task) in pending)
        {
            DeleteRecordsResult outcome;
            try
            {
                outcome = await task.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                outcome = new DeleteRecordsResult(ErrorCode.RequestTimedOut, -1); // the connection closed
            }
            catch (ObjectDisposedException)
            {
                outcome = DeleteRecordsResult.NotLeader;
            }
            Apply(result, outcome);
        }
        return response;
    }

    private static void Apply(DeleteRecordsResponse.DeleteRecordsPartitionResult result, DeleteRecordsResult outcome)
    {
        result.ErrorCode = (short)outcome.Error;
        result.LowWatermark = outcome.Error == ErrorCode.None ? outcome.LowWatermark : -1;
    }
}

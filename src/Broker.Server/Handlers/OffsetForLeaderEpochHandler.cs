// OffsetForLeaderEpoch (key 23): v0-4 (v4 flexible). Consumers (ReplicaId -1, v3+) use it after a leader change to
// detect log truncation (KIP-320); ReplicaId is otherwise ignored (followers replicate through Raft, not this API).
// Behaviour, per partition:
// * Unknown → UNKNOWN_TOPIC_OR_PARTITION; CurrentLeaderEpoch (v2+) older than ours → FENCED_LEADER_EPOCH, newer →
//   UNKNOWN_LEADER_EPOCH, -1 not checked; no replica here / not the leader → NOT_LEADER_OR_FOLLOWER (checked in that
//   order, as Kafka).
// * Otherwise (LeaderEpoch, EndOffset) for the requested LeaderEpoch from the partition's epoch history (the Raft term
//   of each batch is its leader epoch): the largest epoch at or below the requested one, ending where the next epoch
//   starts, or at the log end offset for the current epoch. UNDEFINED (-1, -1) for a negative epoch, one above the
//   current epoch, or one below the epoch in force at the log start offset (its records are gone).
// * v0 responses carry no LeaderEpoch (only EndOffset); errors carry -1/-1.
using Broker.Core.Model;
using Broker.Protocol.Codec;
using Broker.Protocol.Messages;
using Broker.Server.LogAdmin;
using Broker.Server.Partitions;
using Broker.Server.Pipeline;

namespace Broker.Server.Handlers;

public sealed class OffsetForLeaderEpochHandler(PartitionManager partitions) : KafkaHandler<OffsetForLeaderEpochRequest>
{
    public override ApiKey Key => ApiKey.OffsetForLeaderEpoch;
    public override short MinVersion => 0;
    public override short MaxVersion => 4;

    protected override OffsetForLeaderEpochRequest Parse(ref KafkaReader reader, short version) =>
        OffsetForLeaderEpochRequest.Read(ref reader, version);

    protected override ValueTask<IKafkaMessage?> Handle(RequestContext context, OffsetForLeaderEpochRequest request)
    {
        var response = new OffsetForLeaderEpochResponse { Topics = new(request.Topics.Count) };
        foreach (var topic in request.Topics)
        {
            var topicResult = new OffsetForLeaderEpochResponse.OffsetForLeaderTopicResult { Topic = topic.Topic, Partitions = new(topic.Partitions.Count) };
            response.Topics.Add(topicResult);
            foreach (var p in topic.Partitions)
                topicResult.Partitions.Add(Lookup(topic.Topic, p));
        }
        return new(response);
    }

    private OffsetForLeaderEpochResponse.EpochEndOffset Lookup(string topic, OffsetForLeaderEpochRequest.OffsetForLeaderPartition p)
    {
        var result = new OffsetForLeaderEpochResponse.EpochEndOffset { Partition = p.Partition, LeaderEpoch = -1, EndOffset = -1 };
        var error = partitions.Find(topic, p.Partition, out var state);
        if (error == ErrorCode.None) error = state!.CheckLeaderEpoch(p.CurrentLeaderEpoch);
        if (error == ErrorCode.None && !state!.IsLeader) error = ErrorCode.NotLeaderOrFollower;
        if (error == ErrorCode.None)
        {
            try
            {
                (error, int epoch, long endOffset) = ReplicaLogAdmin.EndOffsetForEpoch(state!, p.LeaderEpoch);
                if (error == ErrorCode.None)
                {
                    result.LeaderEpoch = epoch;
                    result.EndOffset = endOffset;
                }
            }
            catch (ObjectDisposedException)
            {
                error = ErrorCode.NotLeaderOrFollower; // removed meanwhile
            }
        }
        result.ErrorCode = (short)error;
        return result;
    }
}

// ListOffsets (key 2): v1-7 (v0's multi-offset form is not served; librdkafka's OffsetTime check wants 1..1).
// Behaviour, per partition:
// * Unknown → UNKNOWN_TOPIC_OR_PARTITION; no replica here / not leader → NOT_LEADER_OR_FOLLOWER (ReplicaId -2, the
//   debug id, may read a non-leader); CurrentLeaderEpoch (v4+) as in Fetch: older → FENCED_LEADER_EPOCH, newer →
//   UNKNOWN_LEADER_EPOCH. A partition listed twice in one request → INVALID_REQUEST for each occurrence.
// * Timestamp -2 (earliest) and -4 (earliest local; no tiered storage) → LogStartOffset; -1 (latest) → the high
//   watermark for both isolation levels (no transactions: the last stable offset is the high watermark); both
//   with Timestamp -1.
// * -3 (max timestamp, v7) → the largest timestamp and the offset of its record (record exact for uncompressed
//   CreateTime batches, else the batch's base offset); -1/-1 when the log is empty.
// * Timestamp >= 0 → the first record at or after it (storage FindOffsetByTimestamp); -1/-1 when none.
// * Lookups only see offsets below the high watermark; a hit at or above it is "none" (-1/-1), as in Kafka.
// * LeaderEpoch (v4+) = the partition's current epoch on a hit, -1 when nothing was found.
using Broker.Core.Model;
using Broker.Core.Records;
using Broker.Protocol.Codec;
using Broker.Protocol.Messages;
using Broker.Server.Partitions;
using Broker.Server.Pipeline;

namespace Broker.Server.Handlers;

public sealed class ListOffsetsHandler(PartitionManager partitions) : KafkaHandler<ListOffsetsRequest>
{
    public const long LatestTimestamp = -1;
    public const long EarliestTimestamp = -2;
    public const long MaxTimestamp = -3;
    public const long EarliestLocalTimestamp = -4;
    private const int DebugReplicaId = -2;

    public override ApiKey Key => ApiKey.ListOffsets;
    public override short MinVersion => 1;
    public override short MaxVersion => 7;

    protected override ListOffsetsRequest Parse(ref KafkaReader reader, short version) => ListOffsetsRequest.Read(ref reader, version);

    protected override ValueTask<IKafkaMessage?> Handle(RequestContext context, ListOffsetsRequest request)
    {
        var duplicates = FindDuplicates(request);
        var response = new ListOffsetsResponse { Topics = new(request.Topics.Count) };
        foreach (var topic in request.Topics)
        {
            var topicResponse = new ListOffsetsResponse.ListOffsetsTopicResponse { Name = topic.Name, Partitions = new(topic.Partitions.Count) };
            response.Topics.Add(topicResponse);
            foreach (var p in topic.Partitions)
            {
                var result = new ListOffsetsResponse.ListOffsetsPartitionResponse { PartitionIndex = p.PartitionIndex };
                if (duplicates is not null && duplicates.Contains(new TopicPartition(topic.Name, p.PartitionIndex)))
                    result.ErrorCode = (short)ErrorCode.InvalidRequest;
                else
                    Lookup(topic.Name, p, request.ReplicaId, result);
                topicResponse.Partitions.Add(result);
            }
        }
        return new(response);
    }

    private void Lookup(string topic, ListOffsetsRequest.ListOffsetsPartition p, int replicaId, ListOffsetsResponse.ListOffsetsPartitionResponse result)
    {
        var error = partitions.Find(topic, p.PartitionIndex, out var state);
        if (error == ErrorCode.None) error = state!.CheckLeaderEpoch(p.CurrentLeaderEpoch);
        if (error == ErrorCode.None && replicaId != DebugReplicaId && !state!.IsLeader) error = ErrorCode.NotLeaderOrFollower;
        if (error != ErrorCode.None)
        {
            result.ErrorCode = (short)error;
            return;
        }

        (long Offset, long Timestamp)? found;
        try
        {
            found = Resolve(state!, p.Timestamp);
        }
        catch (ObjectDisposedException)
        {
            result.ErrorCode = (short)ErrorCode.NotLeaderOrFollower; // removed meanwhile
            return;
        }
        if (found is { } hit)
        {
            result.Offset = hit.Offset;
            result.Timestamp = hit.Timestamp;
            result.LeaderEpoch = state!.LeaderEpoch;
        }
    }

    private static (long Offset, long Timestamp)? Resolve(PartitionState state, long timestamp)
    {
        var log = state.Log;
        long highWatermark = state.Replica.HighWatermark;
        switch (timestamp)
        {
            case LatestTimestamp:
                return (highWatermark, -1);
            case EarliestTimestamp or EarliestLocalTimestamp:
                return (log.LogStartOffset, -1);
            case MaxTimestamp:
                if (log.FindMaxTimestamp() is not { } max || max.Offset >= highWatermark) return null;
                return (RecordOffsetOfMax(log, max.Offset, max.Timestamp, highWatermark), max.Timestamp);
            default:
                if (log.FindOffsetByTimestamp(timestamp) is not { } byTime || byTime.Offset >= highWatermark) return null;
                return byTime;
        }
    }

    /// <summary>Narrows the batch that holds the max timestamp down to the record that carries it.</summary>
    private static long RecordOffsetOfMax(Storage.IPartitionLog log, long batchOffset, long maxTimestamp, long highWatermark)
    {
        using var read = log.Read(batchOffset, 0, highWatermark, minOneBatch: true);
        var bytes = read.Records.Span;
        if (!RecordBatchHeader.TryRead(bytes, out var header) || header.TotalSize > bytes.Length) return batchOffset;
        // Compressed and LogAppendTime batches: batch granularity. A malformed record ends the walk.
        if (header.Compression != CompressionCodec.None || header.IsLogAppendTime || header.TotalSize < RecordBatchHeader.Size)
            return header.BaseOffset;
        var records = new RecordReader(bytes[..header.TotalSize]);
        while (records.TryRead(out var record, out _))
        {
            if (record.Timestamp == maxTimestamp) return record.Offset;
        }
        return header.BaseOffset;
    }

    /// <summary>Partitions listed more than once, or null when there are none.</summary>
    private static HashSet<TopicPartition>? FindDuplicates(ListOffsetsRequest request)
    {
        int total = 0;
        foreach (var topic in request.Topics) total += topic.Partitions.Count;
        if (total < 2) return null;
        var seen = new HashSet<TopicPartition>(total);
        HashSet<TopicPartition>? duplicates = null;
        foreach (var topic in request.Topics)
            foreach (var p in topic.Partitions)
            {
                var id = new TopicPartition(topic.Name, p.PartitionIndex);
                if (!seen.Add(id)) (duplicates ??= new()).Add(id);
            }
        return duplicates;
    }
}

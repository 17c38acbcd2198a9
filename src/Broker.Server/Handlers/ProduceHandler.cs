// Produce (key 0): advertised v0-11, implemented v3-11.
// Behaviour:
// * v0-2 (magic 0/1 message sets) are parsed and answered UNSUPPORTED_VERSION on every partition. They stay
//   advertised because librdkafka < 2.11.1 checks Produce 0..0/0..7 before it enables compression.
// * acks must be -1, 0 or 1, else INVALID_REQUIRED_ACKS on every partition.
// * Per partition: unknown topic/partition → UNKNOWN_TOPIC_OR_PARTITION; an internal topic (__consumer_offsets,
//   written by the group coordinator only) → INVALID_TOPIC_EXCEPTION; no replica here or not leader →
//   NOT_LEADER_OR_FOLLOWER; the records are validated by ProduceBatchCheck (exactly one magic-2 batch, CRC, size
//   against the topic's max.message.bytes, zstd only from v7, record framing of uncompressed batches); acks=-1 with
//   an ISR smaller than min.insync.replicas → NOT_ENOUGH_REPLICAS before appending. The log dir below
//   storage.min.free.bytes → KAFKA_STORAGE_ERROR (before validation, free bytes in ErrorMessage); an append
//   that fails with an I/O error (a full disk) → KAFKA_STORAGE_ERROR with the error text, nothing of it stored.
//   The client's baseOffset is ignored (overwritten with the assigned offset).
// * compression.type (topic, else broker) other than "producer" and different from the batch's codec: the batch is
//   rebuilt with that codec before the append (ProduceRecompression; control batches never). Only then are the
//   records of a compressed batch decompressed and checked against the header (count, offset deltas, framing →
//   CORRUPT_MESSAGE, as Kafka's LogValidator); a batch stored with the producer's codec keeps the zero-copy path
//   and its compressed records are not inspected. A rebuilt batch above max.message.bytes → MESSAGE_TOO_LARGE.
// * Transactional batches get INVALID_TXN_STATE (what Kafka answers for a batch whose partition is not part of an
//   ongoing transaction; we have no transaction coordinator yet).
// * Idempotent batches (producerId >= 0) are checked by the replica against the partition's producer state,
//   atomically with the append (Kafka's ProducerStateManager rules, state kept by the log on leader and followers
//   and rebuilt after restarts): a duplicate of one of the producer's last 5 batches (same epoch and sequence range)
//   is not appended and answers NONE with the original batch's base offset (acks=-1 waits for the original's commit);
//   an older epoch → INVALID_PRODUCER_EPOCH; a sequence that does not continue the producer's last one (or a new
//   epoch not starting at 0) → OUT_OF_ORDER_SEQUENCE_NUMBER, with the reason in ErrorMessage. A producer the
//   partition has no state for (new, expired after producer.id.expiration.ms, or its data removed) may start at any
//   sequence. Producer ids are not checked against the ones InitProducerId issued (no UNKNOWN_PRODUCER_ID).
// * message.timestamp.type=LogAppendTime: the broker clock's now is stamped by the log and returned in
//   LogAppendTimeMs; otherwise LogAppendTimeMs is -1. CreateTime skew (message.timestamp.difference.max.ms) is not
//   checked.
// * Appends happen synchronously in Handle, before any await, so requests of one connection append in order. Then
//   acks=-1 awaits commit (WaitForCommitAsync up to TimeoutMs: REQUEST_TIMED_OUT / NOT_LEADER_OR_FOLLOWER); acks=1
//   answers after the local append; acks=0 sends no response, and closes the connection when a partition failed
//   (Kafka's way of telling a fire-and-forget producer to refresh its metadata).
// * Response: BaseOffset (-1 on error), LogAppendTimeMs, LogStartOffset (v5+, -1 on error), RecordErrors empty and
//   ErrorMessage (v8+) with a reason on validation errors. Allocates per request and partition, never per record.
// * Metrics: each appended batch (not duplicates) adds its size to broker_topic_bytes_in_total{topic} and its record
//   count (from the batch header) to broker_topic_records_in_total{topic}: two counter adds per partition.
using Broker.Consensus;
using Broker.Core.Diagnostics;
using Broker.Core.Metrics;
using Broker.Core.Model;
using Broker.Core.Records;
using Broker.Network;
using Broker.Protocol.Codec;
using Broker.Protocol.Messages;
using Broker.Server.Admin;
using Broker.Server.Partitions;
using Broker.Server.Pipeline;

namespace Broker.Server.Handlers;

public sealed class ProduceHandler(PartitionManager partitions, IClock clock) : KafkaHandler<ProduceRequest>
{
    private static readonly Logger Logger = Log.For("produce");

    public override ApiKey Key => ApiKey.Produce;
    public override short MinVersion => 0;
    public override short MaxVersion => 11;

    /// <summary>Lowest version actually implemented; older ones get UNSUPPORTED_VERSION per partition.</summary>
    public const short MinImplementedVersion = 3;

    protected override ProduceRequest Parse(ref KafkaReader reader, short version) => ProduceRequest.Read(ref reader, version);

    protected override ValueTask<IKafkaMessage?> Handle(RequestContext context, ProduceRequest request)
    {
        short version = context.ApiVersion;
        short acks = request.Acks;
        var requestError = version < MinImplementedVersion ? ErrorCode.UnsupportedVersion
            : acks is -1 or 0 or 1 ? ErrorCode.None
            : ErrorCode.InvalidRequiredAcks;
        var timeout = TimeSpan.FromMilliseconds(Math.Max(0, request.TimeoutMs));

        var response = new ProduceResponse { Responses = new(request.TopicData.Count) };
        List<PendingCommit>? pending = null;
        ErrorCode firstError = ErrorCode.None;
        foreach (var topic in request.TopicData)
        {
            var topicResponse = new ProduceResponse.TopicProduceResponse
            {
                Name = topic.Name,
                PartitionResponses = new(topic.PartitionData.Count),
            };
            response.Responses.Add(topicResponse);
            foreach (var data in topic.PartitionData)
            {
                var result = new ProduceResponse.PartitionProduceResponse
                {
                    Index = data.Index,
                    BaseOffset = -1,
                    LogAppendTimeMs = -1,
                    LogStartOffset = -1,
                };
                topicResponse.PartitionResponses.Add(result);
                if (requestError != ErrorCode.None)
                    result.ErrorCode = (short)requestError;
                else
                    Append(topic.Name, data, acks, version, timeout, result, ref pending);
                if (result.ErrorCode != 0 && firstError == ErrorCode.None) firstError = (ErrorCode)result.ErrorCode;
            }
        }

        if (acks == 0)
        {
            if (firstError != ErrorCode.None && version >= MinImplementedVersion)
                throw new ProtocolViolationException($"acks=0 produce failed with {firstError}; closing so the client refreshes its metadata");
            return new((IKafkaMessage?)null);
        }
        return pending is null ? new(response) : AwaitCommitsAsync(response, pending);
    }

    private void Append(string topic, ProduceRequest.PartitionProduceData data, short acks, short version, TimeSpan timeout,
        ProduceResponse.PartitionProduceResponse result, ref List<PendingCommit>? pending)
    {
        var error = partitions.Find(topic, data.Index, out var state);
        if (error != ErrorCode.None)
        {
            result.ErrorCode = (short)error;
            return;
        }
        if (InternalTopics.IsInternal(topic))
        {
            result.ErrorCode = (short)ErrorCode.InvalidTopicException;
            result.ErrorMessage = $"Cannot append to internal topic {topic}";
            return;
        }
        if (!state!.IsLeader)
        {
            result.ErrorCode = (short)ErrorCode.NotLeaderOrFollower;
            return;
        }
        var records = data.Records.GetValueOrDefault().Span;
        if (partitions.CheckFreeSpace(records.Length, out string? spaceMessage) is var spaceError && spaceError != ErrorCode.None)
        {
            result.ErrorCode = (short)spaceError; // storage.min.free.bytes (PartitionManager.DiskSpace.cs)
            result.ErrorMessage = spaceMessage;
            return;
        }
        error = ProduceBatchCheck.Check(records, version, state.MaxMessageBytes, out string? message);
        if (error == ErrorCode.None && acks == -1)
        {
            int inSync = state.InSyncReplicaCount;
            if (inSync < state.MinInsyncReplicas)
            {
                error = ErrorCode.NotEnoughReplicas;
                message = $"{inSync} replicas are in sync, below min.insync.replicas={state.MinInsyncReplicas}";
            }
        }
        if (error != ErrorCode.None)
        {
            result.ErrorCode = (short)error;
            result.ErrorMessage = message;
            return;
        }
        // compression.type other than "producer": the batch is stored rebuilt with the topic's codec (pooled buffer,
        // returned when this method ends, after the synchronous append).
        using var recompressed = ProduceRecompression.Apply(records, state.LogOptions.TargetCompression, state.MaxMessageBytes,
            out error, out message);
        if (error != ErrorCode.None)
        {
            result.ErrorCode = (short)error;
            result.ErrorMessage = message;
            return;
        }
        var stored = recompressed.IsRecompressed ? recompressed.Span : records;

        ReplicatedAppendResult appended;
        try
        {
            appended = state.Replica.Append(stored, state.LogAppendTime ? clock.UnixTimeMilliseconds : null);
        }
        catch (ObjectDisposedException)
        {
            result.ErrorCode = (short)ErrorCode.NotLeaderOrFollower; // the replica was removed meanwhile
            return;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Logger.Error($"append to {state.Id} failed", ex);
            result.ErrorCode = (short)ErrorCode.KafkaStorageError;
            result.ErrorMessage = $"append to {state.Id} failed: {ex.Message}"; // e.g. no space left on device
            return;
        }
        if (appended.Error != ErrorCode.None)
        {
            result.ErrorCode = (short)appended.Error;
            result.ErrorMessage = appended.ErrorMessage;
            return;
        }
        if (!appended.IsDuplicate) CountAppended(topic, records);
        result.BaseOffset = appended.FirstOffset;
        result.LogAppendTimeMs = state.LogAppendTime ? appended.LogAppendTimeMs : -1;
        result.LogStartOffset = state.Log.LogStartOffset;
        if (acks != -1) return;

        var commit = state.Replica.WaitForCommitAsync(appended.LastOffset, timeout);
        if (commit.IsCompletedSuccessfully)
            result.ErrorCode = (short)commit.Result;
        else
            (pending ??= new()).Add(new PendingCommit(result, commit));
    }

    /// <summary>Bytes and records in, per topic; <paramref name="records"/> is the one checked batch.</summary>
    private static void CountAppended(string topic, ReadOnlySpan<byte> records)
    {
        var tag = new KeyValuePair<string, object?>("topic", topic);
        BrokerMeters.TopicBytesIn.Add(records.Length, tag);
        if (RecordBatchHeader.TryRead(records, out var header) && header.RecordsCount > 0)
            BrokerMeters.TopicRecordsIn.Add(header.RecordsCount, tag);
    }

    private static async ValueTask<IKafkaMessage?> AwaitCommitsAsync(ProduceResponse response, List<PendingCommit> pending)
    {
        foreach (var p in pending)
        {
            ErrorCode error;
            try
            {
                error = await p.Commit.ConfigureAwait(false);
            }
            catch (ObjectDisposedException)
            {
                error = ErrorCode.NotLeaderOrFollower;
            }
            p.Result.ErrorCode = (short)error;
        }
        return response;
    }

    private readonly record struct PendingCommit(ProduceResponse.PartitionProduceResponse Result, ValueTask<ErrorCode> Commit);
}

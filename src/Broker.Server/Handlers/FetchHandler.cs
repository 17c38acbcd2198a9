// Fetch (key 1): v4-12 (v4 is where magic-2 batches begin; v13+ would need topic ids).
// Behaviour:
// * Consumers (ReplicaId -1) and, until the cluster issue adds follower fetching, replicas (ReplicaId >= 0) take
//   the same path: reads stop at the high watermark.
// * IsolationLevel 0 and 1 read the same data: with no transactions LastStableOffset = HighWatermark, and
//   AbortedTransactions is always an empty array (never null; librdkafka consumers default to read_committed).
// * Fetch sessions (v7+, KIP-227) are never created: SessionEpoch -1 (sessionless) or 0 (a new full session, which
//   we decline) is a full fetch answered with SessionId 0, whatever SessionId says; any other epoch is an
//   incremental fetch of a session we do not have → top-level FETCH_SESSION_ID_NOT_FOUND with no partitions
//   (clients start over with a full fetch). ForgottenTopicsData and RackId are ignored.
// * Per partition: unknown → UNKNOWN_TOPIC_OR_PARTITION; no replica here / not leader → NOT_LEADER_OR_FOLLOWER;
//   CurrentLeaderEpoch (v9+) older than ours → FENCED_LEADER_EPOCH, newer → UNKNOWN_LEADER_EPOCH, -1 ok;
//   FetchOffset < LogStartOffset or > LogEndOffset → OFFSET_OUT_OF_RANGE; between the high watermark and the log end
//   → no records. Errors carry HighWatermark/LastStableOffset/LogStartOffset -1 and empty records.
// * Byte limits (KIP-74): each partition reads at most min(PartitionMaxBytes, what is left of MaxBytes, capped by
//   the broker's fetch.max.bytes), except that the first partition returning data always gets its first whole batch.
// * Zero copy: Records point into the mapped segment; the read lease goes to RequestContext.AddResponseLease and is
//   released after the response was sent.
// * Long poll: when fewer than MinBytes were gathered, no partition failed and MaxWaitMs > 0, the request waits
//   (asynchronously) for a high-watermark advance of a requested partition, then reads again (previous leases
//   released first) until MinBytes are there, MaxWaitMs elapsed or the connection closed.
// * Response: HighWatermark, LastStableOffset, LogStartOffset (v5+), PreferredReadReplica -1 (v11+); no tagged
//   fields in v12.
// * Metrics: per returned partition, its record bytes go to broker_topic_bytes_out_total{topic} and the record counts
//   of its complete batches (61-byte headers walked, records never decoded) to broker_topic_records_out_total{topic}.
using System.Buffers.Binary;
using Broker.Core.Metrics;
using Broker.Core.Model;
using Broker.Core.Records;
using Broker.Protocol.Codec;
using Broker.Protocol.Messages;
using Broker.Server.Fetching;
using Broker.Server.Partitions;
using Broker.Server.Pipeline;

namespace Broker.Server.Handlers;

public sealed class FetchHandler : KafkaHandler<FetchRequest>
{
    /// <summary>Kafka's fetch.max.bytes default (55 MiB): the cap on a response's MaxBytes.</summary>
    public const int DefaultFetchMaxBytes = 57_671_680;

    private readonly PartitionManager _partitions;
    private readonly int _fetchMaxBytes;

    /// <param name="fetchMaxBytes">Broker fetch.max.bytes: caps the request's MaxBytes.</param>
    public FetchHandler(PartitionManager partitions, int fetchMaxBytes = DefaultFetchMaxBytes)
    {
        ArgumentNullException.ThrowIfNull(partitions);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(fetchMaxBytes);
        _partitions = partitions;
        _fetchMaxBytes = fetchMaxBytes;
    }

    public override ApiKey Key => ApiKey.Fetch;
    public override short MinVersion => 4;
    public override short MaxVersion => 12;

    protected override FetchRequest Parse(ref KafkaReader reader, short version) => FetchRequest.Read(ref reader, version);

    protected override ValueTask<IKafkaMessage?> Handle(RequestContext context, FetchRequest request)
    {
        if (context.ApiVersion >= 7 && request.SessionEpoch is not (-1 or 0))
            return new(new FetchResponse { ErrorCode = (short)ErrorCode.FetchSessionIdNotFound, SessionId = 0 });

        var plan = FetchPlan.Create(_partitions, request, Math.Min(request.MaxBytes, _fetchMaxBytes));
        try
        {
            plan.Read();
            if (request.MaxWaitMs <= 0 || plan.IsEmpty || plan.HasErrors || plan.ReadableBytes >= request.MinBytes)
            {
                var response = plan.BuildResponse(context);
                plan.Dispose();
                CountFetched(response);
                return new(response);
            }
        }
        catch
        {
            plan.Dispose();
            throw;
        }
        return LongPollAsync(context, request, plan);
    }

    private static async ValueTask<IKafkaMessage?> LongPollAsync(RequestContext context, FetchRequest request, FetchPlan plan)
    {
        try
        {
            using var waiter = new HighWatermarkWaiter();
            plan.Watch(waiter);
            long deadline = Environment.TickCount64 + request.MaxWaitMs;
            var closed = context.Connection.Closed;
            while (true)
            {
                // An advance between the first read and the subscription above raised no event: look at the marks.
                var reason = plan.HighWatermarkMovedSinceRead()
                    ? WakeReason.Advanced
                    : await waiter.WaitAsync(TimeSpan.FromMilliseconds(Math.Max(0, deadline - Environment.TickCount64)), closed)
                        .ConfigureAwait(false);
                if (reason != WakeReason.Advanced) break;
                waiter.Rearm();
                plan.Read();
                if (plan.HasErrors || plan.ReadableBytes >= request.MinBytes || Environment.TickCount64 >= deadline) break;
            }
            var response = plan.BuildResponse(context);
            CountFetched(response);
            return response;
        }
        finally
        {
            plan.Dispose();
        }
    }

    /// <summary>Bytes and records out per topic: one pass over the batch headers of each returned partition.</summary>
    private static void CountFetched(FetchResponse response)
    {
        foreach (var topic in response.Responses)
        {
            long bytes = 0, records = 0;
            foreach (var partition in topic.Partitions)
            {
                var data = partition.Records.GetValueOrDefault().Span;
                if (data.IsEmpty) continue;
                bytes += data.Length;
                records += CountRecords(data);
            }
            if (bytes == 0) continue;
            var tag = new KeyValuePair<string, object?>("topic", topic.Topic);
            BrokerMeters.TopicBytesOut.Add(bytes, tag);
            if (records > 0) BrokerMeters.TopicRecordsOut.Add(records, tag);
        }
    }

    /// <summary>Sum of the record counts of the complete batches in <paramref name="batches"/> (a trailing partial batch,
    /// which a size limit can leave, is not counted).</summary>
    internal static long CountRecords(ReadOnlySpan<byte> batches)
    {
        long records = 0;
        while (batches.Length >= RecordBatchHeader.Size)
        {
            int size = BinaryPrimitives.ReadInt32BigEndian(batches[RecordBatchHeader.BatchLengthOffset..]) + RecordBatchHeader.LogOverhead;
            if (size < RecordBatchHeader.Size || size > batches.Length) break;
            int count = BinaryPrimitives.ReadInt32BigEndian(batches[RecordBatchHeader.RecordsCountOffset..]);
            if (count > 0) records += count;
            batches = batches[size..];
        }
        return records;
    }
}

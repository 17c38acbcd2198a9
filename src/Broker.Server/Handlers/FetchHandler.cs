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
using Broker.Core.Model;
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
            return plan.BuildResponse(context);
        }
        finally
        {
            plan.Dispose();
        }
    }
}

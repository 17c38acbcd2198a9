using Broker.Core.Diagnostics;
using Broker.Core.Model;
using Broker.Protocol.Messages;
using Broker.Server.Partitions;
using Broker.Server.Pipeline;
using Broker.Storage;

namespace Broker.Server.Fetching;

/// <summary>
/// One Fetch request's partitions, resolved once, and the latest read of each. <see cref="Read"/> (re)reads every
/// partition under the response byte budget (KIP-74: the first partition that returns data may exceed its limits by
/// one whole batch); the bytes stay in mapped memory, held by leases, until <see cref="BuildResponse"/> hands the
/// leases to the request context (they live until the response is sent) or <see cref="Dispose"/> releases them.
/// </summary>
internal sealed class FetchPlan : IDisposable
{
    private static readonly Logger Logger = Log.For("fetch");
    /// <summary>Shared, never mutated: no transactions means no aborted ones.</summary>
    private static readonly List<FetchResponse.AbortedTransaction> NoAbortedTransactions = new();

    private readonly FetchRequest _request;
    private readonly Slot[] _slots;
    private readonly int _maxBytes;

    private FetchPlan(FetchRequest request, Slot[] slots, int maxBytes)
    {
        _request = request;
        _slots = slots;
        _maxBytes = maxBytes;
    }

    /// <summary>Bytes of record data gathered by the last <see cref="Read"/>.</summary>
    public int ReadableBytes { get; private set; }
    /// <summary>True when some partition has an error (Kafka answers at once then).</summary>
    public bool HasErrors { get; private set; }
    public bool IsEmpty => _slots.Length == 0;

    /// <summary>Resolves the requested partitions (lookup, leadership and leader-epoch checks).</summary>
    public static FetchPlan Create(PartitionManager partitions, FetchRequest request, int maxBytes)
    {
        int count = 0;
        foreach (var topic in request.Topics) count += topic.Partitions.Count;
        var slots = new Slot[count];
        int i = 0;
        foreach (var topic in request.Topics)
        {
            foreach (var p in topic.Partitions)
            {
                ref var slot = ref slots[i++];
                var error = partitions.Find(topic.Topic, p.Partition, out var state);
                if (error == ErrorCode.None) error = state!.CheckLeaderEpoch(p.CurrentLeaderEpoch);
                if (error == ErrorCode.None && !state!.IsLeader) error = ErrorCode.NotLeaderOrFollower;
                slot.State = error == ErrorCode.None ? state : null;
                slot.FixedError = error;
            }
        }
        return new FetchPlan(request, slots, Math.Max(0, maxBytes));
    }

    /// <summary>Releases the previous read's leases and reads every partition again.</summary>
    public void Read()
    {
        ReleaseLeases();
        int remaining = _maxBytes;
        bool minOneBatch = true;
        int total = 0;
        bool errors = false;
        int i = 0;
        foreach (var topic in _request.Topics)
        {
            foreach (var p in topic.Partitions)
            {
                ref var slot = ref _slots[i++];
                slot.Error = slot.FixedError;
                if (slot.Error == ErrorCode.None) slot.Error = ReadOne(ref slot, p, remaining, minOneBatch);
                if (slot.Error != ErrorCode.None)
                {
                    errors = true;
                    continue;
                }
                int n = slot.Result.Records.Length;
                if (n == 0) continue;
                minOneBatch = false;
                remaining = Math.Max(0, remaining - n);
                total += n;
            }
        }
        ReadableBytes = total;
        HasErrors = errors;
    }

    /// <summary>True when a partition's high watermark moved after the last read (an event may have been missed).</summary>
    public bool HighWatermarkMovedSinceRead()
    {
        foreach (ref var slot in _slots.AsSpan())
            if (slot.Error == ErrorCode.None && slot.State!.Replica.HighWatermark != slot.HighWatermark) return true;
        return false;
    }

    /// <summary>Subscribes <paramref name="waiter"/> to every readable partition.</summary>
    public void Watch(HighWatermarkWaiter waiter)
    {
        foreach (ref var slot in _slots.AsSpan())
            if (slot.Error == ErrorCode.None) waiter.Watch(slot.State!.Replica);
    }

    /// <summary>
    /// The response for the last read, partitions in request order. The record bytes are referenced, not copied:
    /// their leases move to <paramref name="context"/> and are released after the response was sent.
    /// </summary>
    public FetchResponse BuildResponse(RequestContext context)
    {
        var response = new FetchResponse { Responses = new(_request.Topics.Count) };
        int i = 0;
        foreach (var topic in _request.Topics)
        {
            var topicResponse = new FetchResponse.FetchableTopicResponse { Topic = topic.Topic, Partitions = new(topic.Partitions.Count) };
            response.Responses.Add(topicResponse);
            foreach (var p in topic.Partitions)
            {
                ref var slot = ref _slots[i++];
                var data = new FetchResponse.PartitionData
                {
                    PartitionIndex = p.Partition,
                    ErrorCode = (short)slot.Error,
                    HighWatermark = -1,
                    LastStableOffset = -1,
                    LogStartOffset = -1,
                    AbortedTransactions = NoAbortedTransactions,
                    PreferredReadReplica = -1,
                    Records = ReadOnlyMemory<byte>.Empty,
                };
                if (slot.Error == ErrorCode.None)
                {
                    // No transactions: the last stable offset is the high watermark.
                    data.HighWatermark = slot.HighWatermark;
                    data.LastStableOffset = slot.HighWatermark;
                    data.LogStartOffset = slot.LogStartOffset;
                    data.Records = slot.Result.Records;
                    if (slot.Result.Lease is { } lease) context.AddResponseLease(lease);
                    slot.Result = default;
                }
                topicResponse.Partitions.Add(data);
            }
        }
        return response;
    }

    /// <summary>Releases leases not handed to a response.</summary>
    public void Dispose() => ReleaseLeases();

    private static ErrorCode ReadOne(ref Slot slot, FetchRequest.FetchPartition p, int remaining, bool minOneBatch)
    {
        var state = slot.State!;
        var replica = state.Replica;
        try
        {
            // High watermark first: everything below it is in the log, so the range check below cannot race it.
            long highWatermark = replica.HighWatermark;
            var log = replica.Log;
            long logStart = log.LogStartOffset;
            slot.HighWatermark = highWatermark;
            slot.LogStartOffset = logStart;
            if (p.FetchOffset < logStart || p.FetchOffset > log.LogEndOffset) return ErrorCode.OffsetOutOfRange;
            int maxBytes = Math.Max(0, Math.Min(p.PartitionMaxBytes, remaining));
            if (maxBytes == 0 && !minOneBatch) return ErrorCode.None;
            var result = log.Read(p.FetchOffset, maxBytes, highWatermark, minOneBatch);
            if (result.OutOfRange)
            {
                result.Dispose();
                return ErrorCode.OffsetOutOfRange;
            }
            slot.Result = result;
            return ErrorCode.None;
        }
        catch (ObjectDisposedException)
        {
            return ErrorCode.NotLeaderOrFollower; // the replica was removed while we read
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Logger.Error($"read of {state.Id} at {p.FetchOffset} failed", ex);
            return ErrorCode.KafkaStorageError;
        }
    }

    private void ReleaseLeases()
    {
        foreach (ref var slot in _slots.AsSpan())
        {
            slot.Result.Dispose();
            slot.Result = default;
        }
    }

    private struct Slot
    {
        public PartitionState? State;
        /// <summary>Lookup / leadership / epoch error, fixed for the request.</summary>
        public ErrorCode FixedError;
        /// <summary>Error of the last read (FixedError or a read error).</summary>
        public ErrorCode Error;
        public long HighWatermark;
        public long LogStartOffset;
        public LogReadResult Result;
    }
}

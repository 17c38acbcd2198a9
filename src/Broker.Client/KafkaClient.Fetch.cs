using Broker.Client.Records;
using Broker.Core.Model;
using Broker.Protocol.Messages;

namespace Broker.Client;

// Fetch and ListOffsets: leader-routed reads with retries.
public sealed partial class KafkaClient
{
    private const short FetchMinVersion = 4;
    private const short FetchMaxVersion = 12;
    private const short ListOffsetsMinVersion = 1;
    private const short ListOffsetsMaxVersion = 7;

    /// <summary>Fetches from one partition's leader, waiting up to <paramref name="maxWait"/> for data.</summary>
    public async Task<FetchResult> FetchAsync(string topic, int partition, long offset, int maxBytes, TimeSpan maxWait,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(topic);
        ArgumentOutOfRangeException.ThrowIfNegative(partition);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxBytes);
        if (maxWait < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(maxWait), "maxWait must not be negative");
        ThrowIfDisposed();

        var retry = new RetryState(_options.RetryBudget);
        bool refresh = false;
        while (true)
        {
            FetchResult failed;
            try
            {
                var leader = await LeaderForAsync(topic, partition, refresh, cancellationToken).ConfigureAwait(false);
                if (leader.Error != ErrorCode.None)
                {
                    failed = Failed(topic, partition, offset, leader.Error);
                    if (leader.Error == ErrorCode.UnknownTopicOrPartition && retry.Elapsed >= UnknownTopicGrace) return failed;
                }
                else
                {
                    var result = await SendFetchAsync(leader.Leader, topic, partition, offset, maxBytes, maxWait, cancellationToken)
                        .ConfigureAwait(false);
                    if (result.Error == ErrorCode.None || !KafkaErrors.IsRetriable(result.Error)) return result;
                    failed = result;
                }
            }
            catch (KafkaException ex)
            {
                failed = Failed(topic, partition, offset, ex.Error);
            }
            if (!KafkaErrors.IsRetriable(failed.Error) || !retry.CanRetry) return failed;
            refresh = KafkaErrors.NeedsMetadataRefresh(failed.Error);
            await retry.BackoffAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>ListOffsets: -1 latest, -2 earliest, else the first offset with timestamp &gt;= the value (-1 when none).</summary>
    public async Task<long> ListOffsetAsync(string topic, int partition, long timestamp, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(topic);
        ArgumentOutOfRangeException.ThrowIfNegative(partition);
        ThrowIfDisposed();
        var retry = new RetryState(_options.RetryBudget);
        bool refresh = false;
        while (true)
        {
            ErrorCode error;
            string message;
            try
            {
                var leader = await LeaderForAsync(topic, partition, refresh, cancellationToken).ConfigureAwait(false);
                if (leader.Error != ErrorCode.None)
                {
                    (error, message) = (leader.Error, leader.Message ?? leader.Error.ToString());
                    if (error == ErrorCode.UnknownTopicOrPartition && retry.Elapsed >= UnknownTopicGrace)
                        throw new KafkaException(error, message);
                }
                else
                {
                    var response = await SendAsync(leader.Leader, (short)ApiKey.ListOffsets, ListOffsetsMinVersion, ListOffsetsMaxVersion,
                        version => BuildListOffsets(topic, partition, timestamp), ListOffsetsResponse.Read, cancellationToken)
                        .ConfigureAwait(false);
                    var p = FindListOffsetsPartition(response, topic, partition);
                    if (p is null)
                        throw new KafkaException(ErrorCode.UnknownServerError, $"the ListOffsets response does not mention {topic}-{partition}");
                    error = (ErrorCode)p.ErrorCode;
                    if (error == ErrorCode.None) return p.Offset;
                    message = $"ListOffsets {topic}-{partition} at {timestamp}: {error}";
                }
            }
            catch (KafkaException ex) when (KafkaErrors.IsRetriable(ex.Error) && ex.Error != ErrorCode.UnknownTopicOrPartition)
            {
                (error, message) = (ex.Error, ex.Message);
            }
            if (!KafkaErrors.IsRetriable(error) || !retry.CanRetry) throw new KafkaException(error, message);
            refresh = KafkaErrors.NeedsMetadataRefresh(error);
            await retry.BackoffAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<FetchResult> SendFetchAsync(int leader, string topic, int partition, long offset, int maxBytes, TimeSpan maxWait,
        CancellationToken cancellationToken)
    {
        var connection = await ConnectionForAsync(leader, cancellationToken).ConfigureAwait(false);
        var request = new FetchRequest
        {
            MaxWaitMs = (int)Math.Min(int.MaxValue, maxWait.TotalMilliseconds),
            MinBytes = 1,
            MaxBytes = maxBytes,
            IsolationLevel = 0,
            SessionId = 0,
            SessionEpoch = -1,
            Topics =
            {
                new FetchRequest.FetchTopic
                {
                    Topic = topic,
                    Partitions = { new FetchRequest.FetchPartition { Partition = partition, FetchOffset = offset, PartitionMaxBytes = maxBytes } },
                },
            },
        };
        // The broker may legitimately hold the request for maxWait before answering.
        var response = await SendOnAsync(connection, (short)ApiKey.Fetch, FetchMinVersion, FetchMaxVersion, _ => request,
            FetchResponse.Read, _options.RequestTimeout + maxWait, cancellationToken).ConfigureAwait(false);
        if (response.ErrorCode != 0) return Failed(topic, partition, offset, (ErrorCode)response.ErrorCode);
        foreach (var t in response.Responses)
        {
            if (t.Topic != topic) continue;
            foreach (var p in t.Partitions)
            {
                if (p.PartitionIndex != partition) continue;
                var error = (ErrorCode)p.ErrorCode;
                if (error != ErrorCode.None)
                    return new FetchResult(topic, partition, error, p.HighWatermark, p.LogStartOffset, Array.Empty<ConsumedRecord>(), offset);
                var records = new List<ConsumedRecord>();
                var outcome = p.Records is { } memory
                    ? FetchDecoder.Decode(topic, partition, memory.Span, offset, records)
                    : new FetchDecodeOutcome(offset, ErrorCode.None, null);
                // A bad batch after good ones: return the good ones; the next fetch starts at the bad batch and reports it.
                var reported = outcome.Error != ErrorCode.None && outcome.NextOffset == offset ? outcome.Error : ErrorCode.None;
                return new FetchResult(topic, partition, reported, p.HighWatermark, p.LogStartOffset, records, outcome.NextOffset);
            }
        }
        return Failed(topic, partition, offset, ErrorCode.UnknownServerError);
    }

    private static FetchResult Failed(string topic, int partition, long offset, ErrorCode error) =>
        new(topic, partition, error, -1, -1, Array.Empty<ConsumedRecord>(), offset);

    private static ListOffsetsRequest BuildListOffsets(string topic, int partition, long timestamp) => new()
    {
        ReplicaId = -1,
        IsolationLevel = 0,
        Topics =
        {
            new ListOffsetsRequest.ListOffsetsTopic
            {
                Name = topic,
                Partitions = { new ListOffsetsRequest.ListOffsetsPartition { PartitionIndex = partition, Timestamp = timestamp } },
            },
        },
    };

    private static ListOffsetsResponse.ListOffsetsPartitionResponse? FindListOffsetsPartition(ListOffsetsResponse response,
        string topic, int partition)
    {
        foreach (var t in response.Topics)
        {
            if (t.Name != topic) continue;
            foreach (var p in t.Partitions)
                if (p.PartitionIndex == partition) return p;
        }
        return null;
    }
}

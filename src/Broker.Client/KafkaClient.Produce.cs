using Broker.Core.Records;
using Broker.Client.Partitioning;
using Broker.Client.Records;
using Broker.Compression;
using Broker.Core.Model;
using Broker.Protocol.Messages;

namespace Broker.Client;

// Produce: partition choice and one-batch produce with leader routing and retries.
public sealed partial class KafkaClient
{
    private const short ProduceMinVersion = 3; // magic 2 batches
    private const short ProduceMaxVersion = 11;
    /// <summary>How long an UNKNOWN_TOPIC_OR_PARTITION from the metadata itself is retried (brokers may lag a creation).</summary>
    private static readonly TimeSpan UnknownTopicGrace = TimeSpan.FromSeconds(1);

    private int _roundRobin = -1;

    /// <summary>Kafka's default partitioner: murmur2 of the key for keyed records, round robin otherwise.</summary>
    public int ChoosePartition(ReadOnlySpan<byte> key, bool keyIsNull, int partitionCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(partitionCount);
        if (!keyIsNull) return Murmur2.Partition(key, partitionCount);
        uint next = (uint)Interlocked.Increment(ref _roundRobin);
        return (int)(next % (uint)partitionCount);
    }

    /// <summary>Produces <paramref name="records"/> as one batch to one partition's leader. Errors come back in the result.</summary>
    public async Task<ProduceResult> ProduceAsync(string topic, int partition, IReadOnlyList<ProducerRecord> records, short acks = -1,
        CompressionCodec compression = CompressionCodec.None, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(topic);
        ArgumentOutOfRangeException.ThrowIfNegative(partition);
        if (acks is not (-1 or 0 or 1)) throw new ArgumentOutOfRangeException(nameof(acks), acks, "acks must be -1, 0 or 1");
        ThrowIfDisposed();
        byte[] batch;
        try
        {
            batch = ProduceBatchEncoder.Encode(records, compression, NowMs());
        }
        catch (KafkaException ex)
        {
            return new ProduceResult(topic, partition, ex.Error, ex.Message, -1);
        }

        var retry = new RetryState(_options.RetryBudget);
        bool refresh = false;
        while (true)
        {
            ErrorCode error;
            string? message;
            try
            {
                var leader = await LeaderForAsync(topic, partition, refresh, cancellationToken).ConfigureAwait(false);
                if (leader.Error != ErrorCode.None)
                {
                    (error, message) = (leader.Error, leader.Message);
                    if (error == ErrorCode.UnknownTopicOrPartition && retry.Elapsed >= UnknownTopicGrace)
                        return new ProduceResult(topic, partition, error, message, -1);
                }
                else
                {
                    var outcome = await SendProduceAsync(leader.Leader, topic, partition, batch, acks, cancellationToken).ConfigureAwait(false);
                    if (outcome.Error == ErrorCode.None) return outcome;
                    (error, message) = (outcome.Error, outcome.ErrorMessage);
                }
            }
            catch (KafkaException ex)
            {
                (error, message) = (ex.Error, ex.Message);
            }
            if (!KafkaErrors.IsRetriable(error) || !retry.CanRetry)
                return new ProduceResult(topic, partition, error, message ?? error.ToString(), -1);
            refresh = KafkaErrors.NeedsMetadataRefresh(error);
            await retry.BackoffAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<ProduceResult> SendProduceAsync(int leader, string topic, int partition, byte[] batch, short acks,
        CancellationToken cancellationToken)
    {
        var connection = await ConnectionForAsync(leader, cancellationToken).ConfigureAwait(false);
        short version = RequireVersion(connection, (short)ApiKey.Produce, ProduceMinVersion, ProduceMaxVersion);
        var request = new ProduceRequest
        {
            Acks = acks,
            TimeoutMs = (int)Math.Min(int.MaxValue, _options.RequestTimeout.TotalMilliseconds),
            TopicData =
            {
                new ProduceRequest.TopicProduceData
                {
                    Name = topic,
                    PartitionData = { new ProduceRequest.PartitionProduceData { Index = partition, Records = batch } },
                },
            },
        };
        if (acks == 0)
        {
            await connection.SendAsync((short)ApiKey.Produce, version, request, expectResponse: false, _options.RequestTimeout,
                cancellationToken).ConfigureAwait(false);
            return new ProduceResult(topic, partition, ErrorCode.None, null, -1);
        }
        var frame = await connection.SendAsync((short)ApiKey.Produce, version, request, expectResponse: true, _options.RequestTimeout,
            cancellationToken).ConfigureAwait(false);
        var response = Parse(connection, (short)ApiKey.Produce, version, frame, ProduceResponse.Read);
        foreach (var t in response.Responses)
        {
            if (t.Name != topic) continue;
            foreach (var p in t.PartitionResponses)
            {
                if (p.Index != partition) continue;
                var error = (ErrorCode)p.ErrorCode;
                if (error == ErrorCode.None) return new ProduceResult(topic, partition, error, null, p.BaseOffset);
                string message = p.ErrorMessage ?? FirstRecordError(p) ?? $"{error} from broker {leader}";
                return new ProduceResult(topic, partition, error, message, -1);
            }
        }
        return new ProduceResult(topic, partition, ErrorCode.UnknownServerError,
            $"the Produce response of broker {leader} does not mention {topic}-{partition}", -1);
    }

    private static string? FirstRecordError(ProduceResponse.PartitionProduceResponse p)
    {
        foreach (var e in p.RecordErrors)
            if (e.BatchIndexErrorMessage is not null) return $"record {e.BatchIndex}: {e.BatchIndexErrorMessage}";
        return null;
    }
}

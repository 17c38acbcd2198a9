using Broker.Compression;
using Broker.Core.Model;
using Broker.Protocol.Codec;

namespace Broker.Client;

/// <summary>Reads a generated response message (e.g. <c>JoinGroupResponse.Read</c>).</summary>
public delegate T KafkaMessageReader<out T>(ref KafkaReader reader, short version);

// CONTRACT (lead): signatures used by the HTTP proxy and the CLI. The client-core helper implements this file (and
// may split it into partial files); the client-groups helper implements KafkaClient.Groups.cs and GroupConsumer.
/// <summary>
/// A Kafka client: one connection per broker (ApiVersions negotiated on connect, versions chosen as the highest both
/// sides support), metadata cached and refreshed on NOT_LEADER/UNKNOWN_TOPIC errors, requests routed to partition
/// leaders, retriable errors retried within <see cref="KafkaClientOptions.RetryBudget"/>. Thread-safe.
/// </summary>
public sealed partial class KafkaClient : IAsyncDisposable
{
    public KafkaClient(KafkaClientOptions options) => throw new NotImplementedException();

    public KafkaClientOptions Options => throw new NotImplementedException();

    /// <summary>Metadata for <paramref name="topics"/> (null = all topics).</summary>
    public Task<ClusterInfo> GetMetadataAsync(IReadOnlyList<string>? topics, bool allowAutoCreate = false,
        CancellationToken cancellationToken = default) => throw new NotImplementedException();

    /// <summary>Kafka's default partitioner: murmur2 of the key for keyed records, round robin otherwise.</summary>
    public int ChoosePartition(ReadOnlySpan<byte> key, bool keyIsNull, int partitionCount) => throw new NotImplementedException();

    /// <summary>Produces <paramref name="records"/> as one batch to one partition's leader. Errors come back in the result.</summary>
    public Task<ProduceResult> ProduceAsync(string topic, int partition, IReadOnlyList<ProducerRecord> records, short acks = -1,
        CompressionCodec compression = CompressionCodec.None, CancellationToken cancellationToken = default) =>
        throw new NotImplementedException();

    /// <summary>Fetches from one partition's leader, waiting up to <paramref name="maxWait"/> for data.</summary>
    public Task<FetchResult> FetchAsync(string topic, int partition, long offset, int maxBytes, TimeSpan maxWait,
        CancellationToken cancellationToken = default) => throw new NotImplementedException();

    /// <summary>ListOffsets: -1 latest, -2 earliest, else the first offset with timestamp &gt;= the value (-1 when none).</summary>
    public Task<long> ListOffsetAsync(string topic, int partition, long timestamp, CancellationToken cancellationToken = default) =>
        throw new NotImplementedException();

    public Task<IReadOnlyList<TopicOperationResult>> CreateTopicsAsync(IReadOnlyList<NewTopic> topics, bool validateOnly = false,
        CancellationToken cancellationToken = default) => throw new NotImplementedException();

    public Task<IReadOnlyList<TopicOperationResult>> DeleteTopicsAsync(IReadOnlyList<string> topics,
        CancellationToken cancellationToken = default) => throw new NotImplementedException();

    public Task<IReadOnlyList<ConfigResourceResult>> DescribeConfigsAsync(IReadOnlyList<(ConfigResourceKind Kind, string Name)> resources,
        CancellationToken cancellationToken = default) => throw new NotImplementedException();

    /// <summary>IncrementalAlterConfigs of one resource; the result carries no entries.</summary>
    public Task<ConfigResourceResult> IncrementalAlterConfigsAsync(ConfigResourceKind kind, string name,
        IReadOnlyList<ConfigAlteration> alterations, bool validateOnly = false, CancellationToken cancellationToken = default) =>
        throw new NotImplementedException();

    /// <summary>
    /// Low level: sends one request to broker <paramref name="brokerId"/> (-1 = any bootstrap/known broker) at the highest
    /// version both sides support within [<paramref name="minVersion"/>, <paramref name="maxVersion"/>] and reads the
    /// response with <paramref name="read"/>. Throws <see cref="KafkaException"/> on connection failure or timeout.
    /// </summary>
    public Task<T> SendAsync<T>(int brokerId, short apiKey, short minVersion, short maxVersion, Func<short, IKafkaMessage> request,
        KafkaMessageReader<T> read, CancellationToken cancellationToken = default) => throw new NotImplementedException();

    public ValueTask DisposeAsync() => throw new NotImplementedException();
}

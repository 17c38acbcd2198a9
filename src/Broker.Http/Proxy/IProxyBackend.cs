using Broker.Client;
using Broker.Core.Model;

namespace Broker.Http.Proxy;

/// <summary>
/// What the HTTP proxy needs from the cluster. Production: <see cref="KafkaProxyBackend"/> over our Kafka client;
/// tests substitute an in-memory cluster so the HTTP layer is checked on its own.
/// </summary>
internal interface IProxyBackend : IAsyncDisposable
{
    /// <summary>Metadata of <paramref name="topics"/> (null = every topic).</summary>
    Task<ClusterInfo> GetMetadataAsync(IReadOnlyList<string>? topics, bool allowAutoCreate, CancellationToken cancellationToken);

    /// <summary>The default partitioner (murmur2 for keyed records, round robin otherwise).</summary>
    int ChoosePartition(ReadOnlySpan<byte> key, bool keyIsNull, int partitionCount);

    Task<ProduceResult> ProduceAsync(string topic, int partition, IReadOnlyList<ProducerRecord> records,
        CancellationToken cancellationToken);

    Task<FetchResult> FetchAsync(string topic, int partition, long offset, int maxBytes, TimeSpan maxWait,
        CancellationToken cancellationToken);

    /// <summary>A new (not yet joined) member of <paramref name="groupId"/>; it joins on its first poll.</summary>
    IProxyConsumer CreateConsumer(string groupId);
}

/// <summary>One consumer-group member behind a proxy consumer instance. Calls are serialized by the caller.</summary>
internal interface IProxyConsumer : IAsyncDisposable
{
    Task SubscribeAsync(IReadOnlyList<string> topics, CancellationToken cancellationToken);

    Task<IReadOnlyList<ConsumedRecord>> PollAsync(TimeSpan timeout, int maxBytes, CancellationToken cancellationToken);

    /// <summary>Commits <paramref name="offsets"/>, or when null the positions of everything polled so far.</summary>
    Task CommitAsync(IReadOnlyList<TopicPartitionOffset>? offsets, CancellationToken cancellationToken);

    Task<IReadOnlyList<CommittedOffset>> CommittedAsync(IReadOnlyList<TopicPartition> partitions, CancellationToken cancellationToken);
}

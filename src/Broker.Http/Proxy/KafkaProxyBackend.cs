using Broker.Client;
using Broker.Core.Model;

namespace Broker.Http.Proxy;

/// <summary>
/// The proxy's view of the cluster through our Kafka client. A broker answers one connection's requests in order,
/// so a long-polling fetch would hold up produce requests queued behind it: metadata and produce share one client,
/// partition fetches use a second one, and every consumer instance gets a client (connections) of its own.
/// </summary>
internal sealed class KafkaProxyBackend : IProxyBackend
{
    private readonly string _bootstrap;
    private readonly KafkaClient _main;
    private readonly KafkaClient _fetch;

    public KafkaProxyBackend(string bootstrapServers)
    {
        _bootstrap = bootstrapServers;
        _main = new KafkaClient(Options("http-proxy"));
        _fetch = new KafkaClient(Options("http-proxy-fetch"));
    }

    private KafkaClientOptions Options(string clientId) => new()
    {
        BootstrapServers = _bootstrap,
        ClientId = clientId,
        RequestTimeout = TimeSpan.FromSeconds(30),
        RetryBudget = TimeSpan.FromSeconds(10),
    };

    public Task<ClusterInfo> GetMetadataAsync(IReadOnlyList<string>? topics, bool allowAutoCreate, CancellationToken cancellationToken) =>
        _main.GetMetadataAsync(topics, allowAutoCreate, cancellationToken);

    public int ChoosePartition(ReadOnlySpan<byte> key, bool keyIsNull, int partitionCount) =>
        _main.ChoosePartition(key, keyIsNull, partitionCount);

    public Task<ProduceResult> ProduceAsync(string topic, int partition, IReadOnlyList<ProducerRecord> records,
        CancellationToken cancellationToken) =>
        _main.ProduceAsync(topic, partition, records, acks: -1, cancellationToken: cancellationToken);

    public Task<FetchResult> FetchAsync(string topic, int partition, long offset, int maxBytes, TimeSpan maxWait,
        CancellationToken cancellationToken) =>
        _fetch.FetchAsync(topic, partition, offset, maxBytes, maxWait, cancellationToken);

    public IProxyConsumer CreateConsumer(string groupId)
    {
        var client = new KafkaClient(Options("http-proxy-consumer"));
        try
        {
            var consumer = new GroupConsumer(client, new GroupConsumerOptions { GroupId = groupId, AutoOffsetReset = "earliest" });
            return new GroupProxyConsumer(client, consumer);
        }
        catch
        {
            _ = client.DisposeAsync().AsTask();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _fetch.DisposeAsync().ConfigureAwait(false);
        await _main.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>A <see cref="GroupConsumer"/> and the client it owns.</summary>
    private sealed class GroupProxyConsumer(KafkaClient client, GroupConsumer consumer) : IProxyConsumer
    {
        public Task SubscribeAsync(IReadOnlyList<string> topics, CancellationToken cancellationToken) =>
            consumer.SubscribeAsync(topics, cancellationToken);

        public Task<IReadOnlyList<ConsumedRecord>> PollAsync(TimeSpan timeout, int maxBytes, CancellationToken cancellationToken) =>
            consumer.PollAsync(timeout, maxBytes, cancellationToken);

        public Task CommitAsync(IReadOnlyList<TopicPartitionOffset>? offsets, CancellationToken cancellationToken) =>
            consumer.CommitAsync(offsets, cancellationToken);

        public Task<IReadOnlyList<CommittedOffset>> CommittedAsync(IReadOnlyList<TopicPartition> partitions,
            CancellationToken cancellationToken) =>
            consumer.CommittedAsync(partitions, cancellationToken);

        public async ValueTask DisposeAsync()
        {
            try
            {
                await consumer.DisposeAsync().ConfigureAwait(false);
            }
            finally
            {
                await client.DisposeAsync().ConfigureAwait(false);
            }
        }
    }
}

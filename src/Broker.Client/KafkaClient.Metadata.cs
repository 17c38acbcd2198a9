using Broker.Client.Metadata;
using Broker.Core.Model;
using Broker.Protocol.Messages;

namespace Broker.Client;

// Metadata: requests, the cached snapshot, and partition leader lookup.
public sealed partial class KafkaClient
{
    private const short MetadataMinVersion = 1; // v0 cannot ask for "all topics" with a null list
    private const short MetadataMaxVersion = 12;

    private readonly object _metadataLock = new();
    private MetadataSnapshot _metadata = MetadataSnapshot.Empty;

    /// <summary>Metadata for <paramref name="topics"/> (null = all topics).</summary>
    public async Task<ClusterInfo> GetMetadataAsync(IReadOnlyList<string>? topics, bool allowAutoCreate = false,
        CancellationToken cancellationToken = default)
    {
        var retry = new RetryState(_options.RetryBudget);
        while (true)
        {
            try
            {
                return await RequestMetadataAsync(topics, allowAutoCreate, cancellationToken).ConfigureAwait(false);
            }
            catch (KafkaException ex) when (KafkaErrors.IsRetriable(ex.Error) && retry.CanRetry)
            {
            }
            await retry.BackoffAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The cached cluster view (no request): brokers and every topic seen so far.</summary>
    public ClusterInfo CachedMetadata
    {
        get
        {
            var snapshot = Volatile.Read(ref _metadata);
            return new ClusterInfo(snapshot.ClusterId, snapshot.ControllerId, snapshot.BrokerList, new List<TopicInfo>(snapshot.Topics.Values));
        }
    }

    /// <summary>Forgets the cached metadata of <paramref name="topic"/>: the next request for it asks the cluster.</summary>
    public void InvalidateMetadata(string topic)
    {
        lock (_metadataLock) _metadata = _metadata.Without(topic);
    }

    /// <summary>One Metadata request to any broker (no retry); updates the cache.</summary>
    internal Task<ClusterInfo> RefreshMetadataAsync(IReadOnlyList<string>? topics, CancellationToken cancellationToken) =>
        RequestMetadataAsync(topics, allowAutoCreate: false, cancellationToken);

    private async Task<ClusterInfo> RequestMetadataAsync(IReadOnlyList<string>? topics, bool allowAutoCreate,
        CancellationToken cancellationToken)
    {
        var response = await SendAsync(-1, (short)ApiKey.Metadata, MetadataMinVersion, MetadataMaxVersion,
            version => BuildMetadataRequest(topics, allowAutoCreate),
            MetadataResponse.Read, cancellationToken).ConfigureAwait(false);
        var info = ToClusterInfo(response);
        lock (_metadataLock) _metadata = _metadata.With(info, full: topics is null);
        return info;
    }

    private static MetadataRequest BuildMetadataRequest(IReadOnlyList<string>? topics, bool allowAutoCreate)
    {
        var request = new MetadataRequest { AllowAutoTopicCreation = allowAutoCreate };
        if (topics is null)
        {
            request.Topics = null;
        }
        else
        {
            request.Topics = new List<MetadataRequest.MetadataRequestTopic>(topics.Count);
            foreach (var name in topics) request.Topics.Add(new MetadataRequest.MetadataRequestTopic { Name = name });
        }
        return request;
    }

    private static ClusterInfo ToClusterInfo(MetadataResponse response)
    {
        var brokers = new List<BrokerInfo>(response.Brokers.Count);
        foreach (var b in response.Brokers) brokers.Add(new BrokerInfo(b.NodeId, b.Host, b.Port, b.Rack));
        var topics = new List<TopicInfo>(response.Topics.Count);
        foreach (var t in response.Topics)
        {
            if (t.Name is null) continue; // addressed by topic id only: we never ask that way
            var partitions = new List<PartitionInfo>(t.Partitions.Count);
            foreach (var p in t.Partitions)
            {
                partitions.Add(new PartitionInfo(p.PartitionIndex, (ErrorCode)p.ErrorCode, p.LeaderId, p.LeaderEpoch,
                    p.ReplicaNodes.ToArray(), p.IsrNodes.ToArray()));
            }
            partitions.Sort(static (a, b) => a.Partition.CompareTo(b.Partition));
            topics.Add(new TopicInfo(t.Name, t.TopicId, (ErrorCode)t.ErrorCode, t.IsInternal, partitions));
        }
        return new ClusterInfo(response.ClusterId, response.ControllerId, brokers, topics);
    }

    private BrokerInfo? FindBroker(int brokerId) =>
        Volatile.Read(ref _metadata).Brokers.TryGetValue(brokerId, out var broker) ? broker : null;

    /// <summary>
    /// The leader of topic-partition: from the cache unless <paramref name="refresh"/> (or unknown), else from a Metadata
    /// request. Topic-level problems come back as an error (UnknownTopicOrPartition, LeaderNotAvailable, ...); network
    /// failures throw <see cref="KafkaException"/>.
    /// </summary>
    internal async Task<LeaderLookup> LeaderForAsync(string topic, int partition, bool refresh, CancellationToken cancellationToken)
    {
        if (!refresh && Volatile.Read(ref _metadata).Topics.TryGetValue(topic, out var cached))
        {
            var hit = LeaderIn(cached, partition);
            if (hit.Error == ErrorCode.None) return hit;
        }
        var info = await RefreshMetadataAsync(new[] { topic }, cancellationToken).ConfigureAwait(false);
        foreach (var t in info.Topics)
        {
            if (t.Name != topic) continue;
            if (t.Error != ErrorCode.None) return new LeaderLookup(-1, t.Error, $"topic '{topic}': {t.Error}");
            return LeaderIn(t, partition);
        }
        return new LeaderLookup(-1, ErrorCode.UnknownTopicOrPartition, $"topic '{topic}' is not in the metadata answer");
    }

    private static LeaderLookup LeaderIn(TopicInfo topic, int partition)
    {
        foreach (var p in topic.Partitions)
        {
            if (p.Partition != partition) continue;
            if (p.Leader < 0)
                return new LeaderLookup(-1, ErrorCode.LeaderNotAvailable, $"{topic.Name}-{partition} has no leader ({p.Error})");
            return new LeaderLookup(p.Leader, ErrorCode.None, null);
        }
        return new LeaderLookup(-1, ErrorCode.UnknownTopicOrPartition,
            $"topic '{topic.Name}' has {topic.Partitions.Count} partitions, no partition {partition}");
    }

    internal readonly record struct LeaderLookup(int Leader, ErrorCode Error, string? Message);
}

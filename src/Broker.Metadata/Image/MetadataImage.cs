using System.Collections.Immutable;

namespace Broker.Metadata.Image;

/// <summary>
/// An immutable snapshot of cluster metadata as of <see cref="LastAppliedOffset"/> of the metadata log: topics
/// (by name and by id), broker registrations, dynamic broker configs, finalized features and the active
/// controller. New images are built by <see cref="MetadataImageBuilder"/> and swapped in atomically, so a reader
/// holding one image sees a consistent state. Lookups are dictionary reads.
/// </summary>
public sealed class MetadataImage
{
    private static readonly IReadOnlyDictionary<string, string> NoConfigs = new Dictionary<string, string>();

    internal MetadataImage(
        string clusterId,
        int controllerId,
        long lastAppliedOffset,
        Dictionary<string, TopicImage> topicsByName,
        Dictionary<Guid, TopicImage> topicsById,
        Dictionary<int, BrokerRegistration> brokers,
        ImmutableArray<int> unfencedBrokerIds,
        Dictionary<string, IReadOnlyDictionary<string, string>> brokerConfigs,
        Dictionary<string, short> features,
        long nextProducerId)
    {
        ClusterId = clusterId;
        ControllerId = controllerId;
        LastAppliedOffset = lastAppliedOffset;
        TopicsByNameMap = topicsByName;
        TopicsByIdMap = topicsById;
        BrokersMap = brokers;
        UnfencedBrokerIds = unfencedBrokerIds;
        BrokerConfigsMap = brokerConfigs;
        FeaturesMap = features;
        NextProducerId = nextProducerId;
    }

    /// <summary>The image before any record was applied.</summary>
    public static MetadataImage Empty(string clusterId, int controllerId) => new(
        clusterId, controllerId, -1, new(StringComparer.Ordinal), new(), new(), ImmutableArray<int>.Empty,
        new(StringComparer.Ordinal), new(StringComparer.Ordinal), 0);

    public string ClusterId { get; }
    /// <summary>Node id of the active controller (today always the local node).</summary>
    public int ControllerId { get; }
    /// <summary>Offset of the last metadata log record reflected here; -1 for the empty image.</summary>
    public long LastAppliedOffset { get; }
    /// <summary>Next producer id not yet handed out (from ProducerIdsRecord).</summary>
    public long NextProducerId { get; }

    public IReadOnlyDictionary<string, TopicImage> TopicsByName => TopicsByNameMap;
    public IReadOnlyDictionary<Guid, TopicImage> TopicsById => TopicsByIdMap;
    public IReadOnlyDictionary<int, BrokerRegistration> Brokers => BrokersMap;
    /// <summary>Ids of registered, unfenced brokers, ascending.</summary>
    public ImmutableArray<int> UnfencedBrokerIds { get; }
    /// <summary>Dynamic broker configs by resource name: "" is the cluster-wide default, "N" is broker N.</summary>
    public IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> BrokerConfigs => BrokerConfigsMap;
    /// <summary>Finalized feature levels (e.g. metadata.version).</summary>
    public IReadOnlyDictionary<string, short> Features => FeaturesMap;

    internal Dictionary<string, TopicImage> TopicsByNameMap { get; }
    internal Dictionary<Guid, TopicImage> TopicsByIdMap { get; }
    internal Dictionary<int, BrokerRegistration> BrokersMap { get; }
    internal Dictionary<string, IReadOnlyDictionary<string, string>> BrokerConfigsMap { get; }
    internal Dictionary<string, short> FeaturesMap { get; }

    public TopicImage? GetTopic(string name) => TopicsByNameMap.GetValueOrDefault(name);

    public TopicImage? GetTopic(Guid topicId) => TopicsByIdMap.GetValueOrDefault(topicId);

    public PartitionImage? GetPartition(string topic, int partitionId) => GetTopic(topic)?.GetPartition(partitionId);

    public BrokerRegistration? GetBroker(int brokerId) => BrokersMap.GetValueOrDefault(brokerId);

    /// <summary>The finalized level of a feature, or 0 when it is not finalized.</summary>
    public short GetFeatureLevel(string feature) => FeaturesMap.GetValueOrDefault(feature);

    /// <summary>Dynamic configs of a broker resource ("" = cluster default); empty when none.</summary>
    public IReadOnlyDictionary<string, string> GetBrokerConfigs(string resourceName) =>
        BrokerConfigsMap.GetValueOrDefault(resourceName) ?? NoConfigs;

    public override string ToString() =>
        $"MetadataImage(cluster {ClusterId}, offset {LastAppliedOffset}, {TopicsByNameMap.Count} topics, {BrokersMap.Count} brokers)";
}

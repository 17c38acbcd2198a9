using System.Collections.Immutable;

namespace Broker.Metadata.Image;

/// <summary>
/// Accumulates changes on top of a base <see cref="MetadataImage"/> and produces the next image. Copy-on-write:
/// a collection is copied the first time it changes, and each changed topic is edited through a mutable draft,
/// so applying a batch of N partition records costs O(N), not O(N²). Single-threaded; used by the state machine.
/// </summary>
public sealed class MetadataImageBuilder
{
    private readonly MetadataImage _base;
    private readonly Dictionary<Guid, TopicDraft> _drafts = new();
    private Dictionary<string, TopicImage>? _topicsByName;
    private Dictionary<Guid, TopicImage>? _topicsById;
    private Dictionary<int, BrokerRegistration>? _brokers;
    private Dictionary<string, IReadOnlyDictionary<string, string>>? _brokerConfigs;
    private Dictionary<string, short>? _features;

    public MetadataImageBuilder(MetadataImage baseImage)
    {
        _base = baseImage;
        LastAppliedOffset = baseImage.LastAppliedOffset;
        NextProducerId = baseImage.NextProducerId;
        ControllerId = baseImage.ControllerId;
    }

    public long LastAppliedOffset { get; set; }
    public long NextProducerId { get; set; }
    public int ControllerId { get; set; }
    public bool HasChanges { get; private set; }

    private Dictionary<string, TopicImage> TopicsByName => _topicsByName ?? _base.TopicsByNameMap;
    private Dictionary<Guid, TopicImage> TopicsById => _topicsById ?? _base.TopicsByIdMap;
    private Dictionary<int, BrokerRegistration> Brokers => _brokers ?? _base.BrokersMap;

    public Guid? FindTopicId(string name) => TopicsByName.TryGetValue(name, out var t) ? t.TopicId : null;

    public bool TopicExists(Guid topicId) => TopicsById.ContainsKey(topicId);

    public BrokerRegistration? FindBroker(int brokerId) => Brokers.GetValueOrDefault(brokerId);

    /// <summary>Adds an empty topic; false when the name or the id is already taken.</summary>
    public bool AddTopic(string name, Guid topicId)
    {
        if (TopicsByName.ContainsKey(name) || TopicsById.ContainsKey(topicId)) return false;
        var image = new TopicImage(name, topicId, ImmutableArray<PartitionImage>.Empty, null);
        MutableTopicsByName()[name] = image;
        MutableTopicsById()[topicId] = image;
        _drafts[topicId] = new TopicDraft(image);
        HasChanges = true;
        return true;
    }

    /// <summary>The editable draft of a topic, or null when no such topic exists.</summary>
    public TopicDraft? EditTopic(Guid topicId)
    {
        if (_drafts.TryGetValue(topicId, out var draft)) { HasChanges = true; return draft; }
        if (!TopicsById.TryGetValue(topicId, out var image)) return null;
        draft = new TopicDraft(image);
        _drafts[topicId] = draft;
        HasChanges = true;
        return draft;
    }

    public bool RemoveTopic(Guid topicId)
    {
        if (!TopicsById.TryGetValue(topicId, out var image)) return false;
        MutableTopicsById().Remove(topicId);
        MutableTopicsByName().Remove(image.Name);
        _drafts.Remove(topicId);
        HasChanges = true;
        return true;
    }

    public void SetBroker(BrokerRegistration registration)
    {
        (_brokers ??= new Dictionary<int, BrokerRegistration>(_base.BrokersMap))[registration.BrokerId] = registration;
        HasChanges = true;
    }

    public bool RemoveBroker(int brokerId)
    {
        if (!Brokers.ContainsKey(brokerId)) return false;
        (_brokers ??= new Dictionary<int, BrokerRegistration>(_base.BrokersMap)).Remove(brokerId);
        HasChanges = true;
        return true;
    }

    /// <summary>Sets (value not null) or deletes one dynamic broker config of resource "" (default) or "N".</summary>
    public void SetBrokerConfig(string resourceName, string name, string? value)
    {
        _brokerConfigs ??= new Dictionary<string, IReadOnlyDictionary<string, string>>(_base.BrokerConfigsMap, StringComparer.Ordinal);
        var configs = _brokerConfigs.TryGetValue(resourceName, out var existing)
            ? new Dictionary<string, string>(existing, StringComparer.Ordinal)
            : new Dictionary<string, string>(StringComparer.Ordinal);
        if (value is null) configs.Remove(name); else configs[name] = value;
        if (configs.Count == 0) _brokerConfigs.Remove(resourceName); else _brokerConfigs[resourceName] = configs;
        HasChanges = true;
    }

    /// <summary>Finalizes a feature level; level 0 removes it.</summary>
    public void SetFeature(string name, short level)
    {
        _features ??= new Dictionary<string, short>(_base.FeaturesMap, StringComparer.Ordinal);
        if (level == 0) _features.Remove(name); else _features[name] = level;
        HasChanges = true;
    }

    /// <summary>Produces the new image. The builder must not be used afterwards.</summary>
    public MetadataImage Build(string? clusterId = null)
    {
        if (_drafts.Count > 0)
        {
            var byName = MutableTopicsByName();
            var byId = MutableTopicsById();
            foreach (var draft in _drafts.Values)
            {
                var image = draft.ToImage();
                byName[image.Name] = image;
                byId[image.TopicId] = image;
            }
        }
        var unfenced = _brokers is null ? _base.UnfencedBrokerIds : ComputeUnfenced(_brokers);
        return new MetadataImage(
            clusterId ?? _base.ClusterId, ControllerId, LastAppliedOffset, TopicsByName, TopicsById, Brokers, unfenced,
            _brokerConfigs ?? _base.BrokerConfigsMap, _features ?? _base.FeaturesMap, NextProducerId);
    }

    private Dictionary<string, TopicImage> MutableTopicsByName() =>
        _topicsByName ??= new Dictionary<string, TopicImage>(_base.TopicsByNameMap, StringComparer.Ordinal);

    private Dictionary<Guid, TopicImage> MutableTopicsById() =>
        _topicsById ??= new Dictionary<Guid, TopicImage>(_base.TopicsByIdMap);

    private static ImmutableArray<int> ComputeUnfenced(Dictionary<int, BrokerRegistration> brokers)
    {
        var ids = ImmutableArray.CreateBuilder<int>(brokers.Count);
        foreach (var b in brokers.Values)
            if (!b.Fenced) ids.Add(b.BrokerId);
        ids.Sort();
        return ids.ToImmutable();
    }
}

/// <summary>A topic being edited inside a <see cref="MetadataImageBuilder"/>.</summary>
public sealed class TopicDraft
{
    private readonly List<PartitionImage> _partitions;
    private readonly Dictionary<string, string> _configs;

    internal TopicDraft(TopicImage image)
    {
        Name = image.Name;
        TopicId = image.TopicId;
        _partitions = new List<PartitionImage>(image.Partitions);
        _configs = new Dictionary<string, string>(image.Configs, StringComparer.Ordinal);
    }

    public string Name { get; }
    public Guid TopicId { get; }
    public int PartitionCount => _partitions.Count;

    public PartitionImage? GetPartition(int partitionId) =>
        (uint)partitionId < (uint)_partitions.Count ? _partitions[partitionId] : null;

    /// <summary>Adds the next partition or replaces an existing one; false if it would leave a gap.</summary>
    public bool SetPartition(PartitionImage partition)
    {
        int id = partition.PartitionId;
        if (id == _partitions.Count) _partitions.Add(partition);
        else if ((uint)id < (uint)_partitions.Count) _partitions[id] = partition;
        else return false;
        return true;
    }

    public void SetConfig(string name, string? value)
    {
        if (value is null) _configs.Remove(name); else _configs[name] = value;
    }

    internal TopicImage ToImage() => new(Name, TopicId, _partitions.ToImmutableArray(),
        _configs.Count == 0 ? null : new Dictionary<string, string>(_configs, StringComparer.Ordinal));
}

using Broker.Core.Model;

namespace Broker.Client.Metadata;

/// <summary>
/// An immutable view of what the client knows about the cluster: brokers by id and topics by name, replaced
/// (copy on write) by every Metadata answer. A full answer replaces the topic set; a partial one merges into it.
/// </summary>
internal sealed class MetadataSnapshot
{
    public static readonly MetadataSnapshot Empty = new(null, -1, new Dictionary<int, BrokerInfo>(), new Dictionary<string, TopicInfo>());

    private MetadataSnapshot(string? clusterId, int controllerId, Dictionary<int, BrokerInfo> brokers, Dictionary<string, TopicInfo> topics)
    {
        ClusterId = clusterId;
        ControllerId = controllerId;
        _brokers = brokers;
        _topics = topics;
        var list = new List<BrokerInfo>(brokers.Values);
        list.Sort(static (a, b) => a.NodeId.CompareTo(b.NodeId));
        BrokerList = list;
    }

    private readonly Dictionary<int, BrokerInfo> _brokers;
    private readonly Dictionary<string, TopicInfo> _topics;

    public string? ClusterId { get; }
    public int ControllerId { get; }
    public IReadOnlyDictionary<int, BrokerInfo> Brokers => _brokers;
    public IReadOnlyList<BrokerInfo> BrokerList { get; }
    public IReadOnlyDictionary<string, TopicInfo> Topics => _topics;

    /// <summary>This snapshot updated by <paramref name="answer"/>; <paramref name="full"/> when all topics were asked for.</summary>
    public MetadataSnapshot With(ClusterInfo answer, bool full)
    {
        var brokers = new Dictionary<int, BrokerInfo>(answer.Brokers.Count);
        foreach (var b in answer.Brokers) brokers[b.NodeId] = b;
        var topics = full ? new Dictionary<string, TopicInfo>(StringComparer.Ordinal)
            : new Dictionary<string, TopicInfo>(_topics, StringComparer.Ordinal);
        foreach (var t in answer.Topics)
        {
            if (t.Error == ErrorCode.None) topics[t.Name] = t;
            else topics.Remove(t.Name);
        }
        return new MetadataSnapshot(answer.ClusterId, answer.ControllerId, brokers, topics);
    }

    /// <summary>This snapshot without <paramref name="topic"/> (so the next lookup asks the cluster).</summary>
    public MetadataSnapshot Without(string topic)
    {
        if (!_topics.ContainsKey(topic)) return this;
        var topics = new Dictionary<string, TopicInfo>(_topics, StringComparer.Ordinal);
        topics.Remove(topic);
        return new MetadataSnapshot(ClusterId, ControllerId, _brokers, topics);
    }
}

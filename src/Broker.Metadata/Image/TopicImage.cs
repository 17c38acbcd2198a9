using System.Collections.Immutable;

namespace Broker.Metadata.Image;

/// <summary>One partition's replica set and leadership, as of the image it belongs to.</summary>
public sealed record PartitionImage(
    int PartitionId,
    int Leader,
    int LeaderEpoch,
    int PartitionEpoch,
    ImmutableArray<int> Replicas,
    ImmutableArray<int> Isr);

/// <summary>
/// A topic in a <see cref="MetadataImage"/>: its id, partitions indexed by partition id, and its dynamic
/// (explicitly set) configs. Immutable.
/// </summary>
public sealed class TopicImage
{
    private static readonly IReadOnlyDictionary<string, string> NoConfigs = new Dictionary<string, string>();

    public TopicImage(string name, Guid topicId, ImmutableArray<PartitionImage> partitions, IReadOnlyDictionary<string, string>? configs)
    {
        Name = name;
        TopicId = topicId;
        Partitions = partitions.IsDefault ? ImmutableArray<PartitionImage>.Empty : partitions;
        Configs = configs ?? NoConfigs;
    }

    public string Name { get; }
    public Guid TopicId { get; }
    /// <summary>Partitions by id: Partitions[i].PartitionId == i.</summary>
    public ImmutableArray<PartitionImage> Partitions { get; }
    public IReadOnlyDictionary<string, string> Configs { get; }

    public int PartitionCount => Partitions.Length;
    /// <summary>Replication factor of partition 0 (all partitions share it when created by the controller).</summary>
    public int ReplicationFactor => Partitions.Length == 0 ? 0 : Partitions[0].Replicas.Length;

    public PartitionImage? GetPartition(int partitionId) =>
        (uint)partitionId < (uint)Partitions.Length ? Partitions[partitionId] : null;

    public override string ToString() => $"{Name} ({TopicId}, {Partitions.Length} partitions)";
}

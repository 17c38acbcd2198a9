namespace Broker.Core.Model;

/// <summary>A partition of a topic, by name. Directory names on disk are "{Topic}-{Partition}".</summary>
public readonly record struct TopicPartition(string Topic, int Partition)
{
    public override string ToString() => $"{Topic}-{Partition}";
}

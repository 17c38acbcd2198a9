using Broker.Consensus;
using Broker.Core.Model;
using Broker.Groups;
using Broker.Metadata.Image;
using Broker.Server.Admin;
using Broker.Server.Partitions;

namespace Broker.Server.Groups;

/// <summary>
/// <see cref="IOffsetsTopic"/> over this broker's partitions: the partition count comes from the metadata image
/// (0 while __consumer_offsets does not exist), the replicas from the <see cref="PartitionManager"/>. A partition
/// without a replica on this node is answered from the image without touching the manager's lock, so the
/// coordinator may poll every partition often.
/// </summary>
public sealed class OffsetsTopicView(PartitionManager partitions, Func<MetadataImage?> image) : IOffsetsTopic
{
    public int PartitionCount => image()?.GetTopic(InternalTopics.ConsumerOffsets)?.PartitionCount ?? 0;

    public IReplicatedLog? Replica(int partition)
    {
        var error = partitions.Find(InternalTopics.ConsumerOffsets, partition, out var state);
        return error == ErrorCode.None ? state!.Replica : null;
    }
}

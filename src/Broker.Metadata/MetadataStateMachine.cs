using System.Runtime.InteropServices;
using Broker.Core.Diagnostics;
using Broker.Metadata.Image;
using Broker.Metadata.Records;

namespace Broker.Metadata;

/// <summary>
/// Applies committed metadata records, in log order, to a <see cref="MetadataImageBuilder"/>. Deterministic and
/// free of I/O, so every node replaying the same log reaches the same image. Records that make no sense against
/// the current state (a partition of an unknown topic, a stale broker epoch) and records of unknown types are
/// logged and skipped rather than failing replay.
/// </summary>
public sealed class MetadataStateMachine
{
    private readonly Logger _log;

    public MetadataStateMachine(Logger? logger = null) => _log = logger ?? Log.For("metadata");

    /// <summary>Applies records to <paramref name="image"/> and returns the resulting image.</summary>
    public MetadataImage Apply(MetadataImage image, IEnumerable<(long Offset, MetadataRecord Record)> records)
    {
        var builder = new MetadataImageBuilder(image);
        foreach (var (offset, record) in records) Apply(builder, offset, record);
        return builder.Build();
    }

    public void Apply(MetadataImageBuilder builder, long offset, MetadataRecord record)
    {
        switch (record)
        {
            case TopicRecord r:
                if (!builder.AddTopic(r.Name, r.TopicId))
                    Skip(offset, $"TopicRecord for '{r.Name}' ({r.TopicId}): name or id already exists");
                break;
            case PartitionRecord r: ApplyPartition(builder, offset, r); break;
            case PartitionChangeRecord r: ApplyPartitionChange(builder, offset, r); break;
            case RemoveTopicRecord r:
                if (!builder.RemoveTopic(r.TopicId)) Skip(offset, $"RemoveTopicRecord for unknown topic id {r.TopicId}");
                break;
            case ConfigRecord r: ApplyConfig(builder, offset, r); break;
            case RegisterBrokerRecord r:
                builder.SetBroker(new BrokerRegistration(r.BrokerId, r.IncarnationId, r.BrokerEpoch, r.Endpoints, r.Rack, r.Fenced));
                break;
            case UnregisterBrokerRecord r:
                if (!builder.RemoveBroker(r.BrokerId)) Skip(offset, $"UnregisterBrokerRecord for unknown broker {r.BrokerId}");
                break;
            case FenceBrokerRecord r: ChangeBroker(builder, offset, r.Id, r.Epoch, fenced: true, null); break;
            case UnfenceBrokerRecord r: ChangeBroker(builder, offset, r.Id, r.Epoch, fenced: false, null); break;
            case BrokerRegistrationChangeRecord r:
                ChangeBroker(builder, offset, r.BrokerId, r.BrokerEpoch,
                    r.Fenced switch { 1 => true, -1 => false, _ => null },
                    r.InControlledShutdown == 1 ? true : null);
                break;
            case FeatureLevelRecord r: builder.SetFeature(r.Name, r.FeatureLevel); break;
            case ProducerIdsRecord r:
                if (r.NextProducerId > builder.NextProducerId) builder.NextProducerId = r.NextProducerId;
                break;
            case UnknownMetadataRecord r:
                _log.Warn($"skipping metadata record at offset {offset}: unknown type {r.TypeId} version {r.Version}");
                break;
            default:
                Skip(offset, $"record type {record.GetType().Name} has no handler");
                break;
        }
        if (offset > builder.LastAppliedOffset) builder.LastAppliedOffset = offset;
    }

    private void ApplyPartition(MetadataImageBuilder builder, long offset, PartitionRecord r)
    {
        var topic = builder.EditTopic(r.TopicId);
        if (topic is null) { Skip(offset, $"PartitionRecord {r.PartitionId} for unknown topic id {r.TopicId}"); return; }
        var partition = new PartitionImage(r.PartitionId, r.Leader, r.LeaderEpoch, r.PartitionEpoch,
            ImmutableCollectionsMarshal.AsImmutableArray((int[])r.Replicas.Clone()),
            ImmutableCollectionsMarshal.AsImmutableArray((int[])r.Isr.Clone()));
        if (!topic.SetPartition(partition))
            Skip(offset, $"PartitionRecord {r.PartitionId} of '{topic.Name}' leaves a gap (topic has {topic.PartitionCount})");
    }

    private void ApplyPartitionChange(MetadataImageBuilder builder, long offset, PartitionChangeRecord r)
    {
        var topic = builder.EditTopic(r.TopicId);
        var current = topic?.GetPartition(r.PartitionId);
        if (topic is null || current is null)
        {
            Skip(offset, $"PartitionChangeRecord for unknown partition {r.TopicId}/{r.PartitionId}");
            return;
        }
        bool leaderChanged = r.Leader != MetadataConstants.NoLeaderChange && r.Leader != current.Leader;
        // An exact epoch (>= 0) comes from the partition's Raft group (its term); -1 keeps the controller-driven rule.
        int leaderEpoch = r.LeaderEpoch >= 0 ? r.LeaderEpoch
            : leaderChanged ? current.LeaderEpoch + 1 : current.LeaderEpoch;
        topic.SetPartition(current with
        {
            Leader = leaderChanged ? r.Leader : current.Leader,
            LeaderEpoch = leaderEpoch,
            PartitionEpoch = current.PartitionEpoch + 1,
            Isr = r.Isr is null ? current.Isr : ImmutableCollectionsMarshal.AsImmutableArray((int[])r.Isr.Clone()),
            Replicas = r.Replicas is null ? current.Replicas : ImmutableCollectionsMarshal.AsImmutableArray((int[])r.Replicas.Clone()),
        });
    }

    private void ApplyConfig(MetadataImageBuilder builder, long offset, ConfigRecord r)
    {
        switch (r.ResourceType)
        {
            case ConfigResourceType.Topic:
                var id = builder.FindTopicId(r.ResourceName);
                var topic = id is null ? null : builder.EditTopic(id.Value);
                if (topic is null) { Skip(offset, $"ConfigRecord {r.Name} for unknown topic '{r.ResourceName}'"); return; }
                topic.SetConfig(r.Name, r.Value);
                break;
            case ConfigResourceType.Broker:
                builder.SetBrokerConfig(r.ResourceName, r.Name, r.Value);
                break;
            default:
                Skip(offset, $"ConfigRecord {r.Name} for unsupported resource type {(int)r.ResourceType}");
                break;
        }
    }

    private void ChangeBroker(MetadataImageBuilder builder, long offset, int brokerId, long epoch, bool? fenced, bool? shutdown)
    {
        var broker = builder.FindBroker(brokerId);
        if (broker is null) { Skip(offset, $"state change for unregistered broker {brokerId}"); return; }
        if (broker.BrokerEpoch != epoch)
        {
            Skip(offset, $"state change for broker {brokerId} with stale epoch {epoch} (current {broker.BrokerEpoch})");
            return;
        }
        builder.SetBroker(broker with
        {
            Fenced = fenced ?? broker.Fenced,
            InControlledShutdown = shutdown ?? (fenced == false ? false : broker.InControlledShutdown),
        });
    }

    private void Skip(long offset, string why) => _log.Warn($"skipping metadata record at offset {offset}: {why}");
}

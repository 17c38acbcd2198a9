using Broker.Metadata.Image;
using Broker.Metadata.Records;

namespace Broker.Metadata.Tests;

public class StateMachineTests
{
    private readonly MetadataStateMachine _machine = new();
    private readonly MetadataImage _empty = MetadataImage.Empty("c1", 1);
    private static readonly Guid Orders = Guid.NewGuid();

    private MetadataImage Apply(MetadataImage image, params MetadataRecord[] records)
    {
        long next = image.LastAppliedOffset + 1;
        return _machine.Apply(image, records.Select(r => (next++, r)));
    }

    private MetadataImage WithOrders() => Apply(_empty,
        new TopicRecord("orders", Orders),
        new PartitionRecord(0, Orders, [1, 2], [1, 2], 1, 0, 0),
        new PartitionRecord(1, Orders, [2, 1], [2, 1], 2, 0, 0),
        new ConfigRecord(ConfigResourceType.Topic, "orders", "retention.ms", "60000"));

    [Fact]
    public void Creating_a_topic_indexes_it_by_name_and_id()
    {
        var image = WithOrders();
        var topic = image.GetTopic("orders")!;
        Assert.Same(topic, image.GetTopic(Orders));
        Assert.Equal(2, topic.PartitionCount);
        Assert.Equal(2, topic.ReplicationFactor);
        Assert.Equal(new[] { 2, 1 }, topic.Partitions[1].Replicas);
        Assert.Equal(2, image.GetPartition("orders", 1)!.Leader);
        Assert.Equal("60000", topic.Configs["retention.ms"]);
        Assert.Equal(3, image.LastAppliedOffset);
        Assert.Equal("c1", image.ClusterId);
    }

    [Fact]
    public void Images_are_immutable_snapshots()
    {
        var before = WithOrders();
        var after = Apply(before, new PartitionRecord(2, Orders, [1], [1], 1, 0, 0), new RemoveTopicRecord(Guid.NewGuid()));
        Assert.Equal(2, before.GetTopic("orders")!.PartitionCount);
        Assert.Equal(3, after.GetTopic("orders")!.PartitionCount);
        Assert.Null(_empty.GetTopic("orders"));
        Assert.Equal(-1, _empty.LastAppliedOffset);
    }

    [Fact]
    public void Config_records_set_and_delete()
    {
        var image = Apply(WithOrders(),
            new ConfigRecord(ConfigResourceType.Topic, "orders", "cleanup.policy", "compact"),
            new ConfigRecord(ConfigResourceType.Topic, "orders", "retention.ms", null),
            new ConfigRecord(ConfigResourceType.Broker, "", "log.retention.ms", "5"),
            new ConfigRecord(ConfigResourceType.Broker, "1", "x", "y"),
            new ConfigRecord(ConfigResourceType.Broker, "1", "x", null));
        var configs = image.GetTopic("orders")!.Configs;
        Assert.Equal("compact", configs["cleanup.policy"]);
        Assert.False(configs.ContainsKey("retention.ms"));
        Assert.Equal("5", image.GetBrokerConfigs("")["log.retention.ms"]);
        Assert.Empty(image.GetBrokerConfigs("1"));
    }

    [Fact]
    public void Partition_change_moves_leader_and_bumps_epochs()
    {
        var image = Apply(WithOrders(), new PartitionChangeRecord(0, Orders, 2, [2], null));
        var p = image.GetPartition("orders", 0)!;
        Assert.Equal((2, 1, 1), (p.Leader, p.LeaderEpoch, p.PartitionEpoch));
        Assert.Equal(new[] { 2 }, p.Isr);
        Assert.Equal(new[] { 1, 2 }, p.Replicas);

        image = Apply(image, new PartitionChangeRecord(0, Orders, MetadataConstants.NoLeaderChange, [2, 1], null));
        p = image.GetPartition("orders", 0)!;
        Assert.Equal((2, 1, 2), (p.Leader, p.LeaderEpoch, p.PartitionEpoch));
    }

    [Fact]
    public void Removing_a_topic_drops_it_and_its_configs()
    {
        var image = Apply(WithOrders(), new RemoveTopicRecord(Orders));
        Assert.Null(image.GetTopic("orders"));
        Assert.Null(image.GetTopic(Orders));
        Assert.Empty(image.TopicsByName);

        // The name can be reused; the new topic starts without the old configs.
        var again = Guid.NewGuid();
        image = Apply(image, new TopicRecord("orders", again));
        Assert.Empty(image.GetTopic("orders")!.Configs);
        Assert.Equal(again, image.GetTopic("orders")!.TopicId);
    }

    [Fact]
    public void Broker_registration_fencing_and_unfencing()
    {
        var inc = Guid.NewGuid();
        var image = Apply(_empty,
            new RegisterBrokerRecord(2, inc, 0, [new BrokerEndpoint("PLAINTEXT", "h2", 9092, 0)], "r", Fenced: true),
            new RegisterBrokerRecord(1, Guid.NewGuid(), 1, [new BrokerEndpoint("PLAINTEXT", "h1", 9092, 0)], null, Fenced: true));
        Assert.Empty(image.UnfencedBrokerIds);
        Assert.True(image.GetBroker(2)!.Fenced);

        image = Apply(image, new UnfenceBrokerRecord(2, 0), new UnfenceBrokerRecord(1, 1));
        Assert.Equal(new[] { 1, 2 }, image.UnfencedBrokerIds);
        Assert.Equal("h2", image.GetBroker(2)!.FindEndpoint("PLAINTEXT")!.Host);

        image = Apply(image, new FenceBrokerRecord(2, 0));
        Assert.Equal(new[] { 1 }, image.UnfencedBrokerIds);

        image = Apply(image, new BrokerRegistrationChangeRecord(2, 0, Fenced: -1, InControlledShutdown: 1));
        Assert.False(image.GetBroker(2)!.Fenced);
        Assert.True(image.GetBroker(2)!.InControlledShutdown);

        image = Apply(image, new UnregisterBrokerRecord(1, 1));
        Assert.Null(image.GetBroker(1));
        Assert.Equal(new[] { 2 }, image.UnfencedBrokerIds);
    }

    [Fact]
    public void Stale_epochs_and_unknown_targets_are_skipped()
    {
        var image = Apply(_empty, new RegisterBrokerRecord(1, Guid.NewGuid(), 5, [], null, Fenced: true));
        image = Apply(image,
            new UnfenceBrokerRecord(1, 4),                                  // stale epoch
            new UnfenceBrokerRecord(9, 0),                                  // unknown broker
            new PartitionRecord(0, Guid.NewGuid(), [1], [1], 1, 0, 0),      // unknown topic
            new ConfigRecord(ConfigResourceType.Topic, "nope", "a", "b"),   // unknown topic
            new RemoveTopicRecord(Guid.NewGuid()));
        Assert.True(image.GetBroker(1)!.Fenced);
        Assert.Empty(image.TopicsByName);
        Assert.Equal(5, image.LastAppliedOffset); // skipped records still count as applied
    }

    [Fact]
    public void Partition_gaps_and_duplicate_topics_are_skipped()
    {
        var image = Apply(WithOrders(),
            new PartitionRecord(5, Orders, [1], [1], 1, 0, 0),
            new TopicRecord("orders", Guid.NewGuid()),
            new TopicRecord("other", Orders));
        Assert.Equal(2, image.GetTopic("orders")!.PartitionCount);
        Assert.Equal(Orders, image.GetTopic("orders")!.TopicId);
        Assert.Null(image.GetTopic("other"));
    }

    [Fact]
    public void Features_producer_ids_and_unknown_records()
    {
        var image = Apply(_empty,
            new FeatureLevelRecord("metadata.version", 19),
            new UnknownMetadataRecord(99, 0),
            new ProducerIdsRecord(1, 0, 1000),
            new ProducerIdsRecord(1, 0, 500));
        Assert.Equal(19, image.GetFeatureLevel("metadata.version"));
        Assert.Equal(1000, image.NextProducerId);
        Assert.Equal(3, image.LastAppliedOffset);

        image = Apply(image, new FeatureLevelRecord("metadata.version", 0));
        Assert.Equal(0, image.GetFeatureLevel("metadata.version"));
        Assert.Empty(image.Features);
    }

    [Fact]
    public void Large_topic_is_applied_in_linear_time()
    {
        var id = Guid.NewGuid();
        var records = new List<MetadataRecord> { new TopicRecord("big", id) };
        for (int p = 0; p < 50_000; p++) records.Add(new PartitionRecord(p, id, [1], [1], 1, 0, 0));
        var started = System.Diagnostics.Stopwatch.StartNew();
        var image = Apply(_empty, records.ToArray());
        Assert.Equal(50_000, image.GetTopic("big")!.PartitionCount);
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(5), $"took {started.Elapsed}");
    }
}

using Broker.Core.Model;
using Broker.Metadata.Controller;
using Broker.Metadata.Records;

namespace Broker.Metadata.Tests;

public class ControllerChangeTests
{
    [Fact]
    public async Task Create_partitions_grows_a_topic()
    {
        using var f = await ControllerFixture.StartAsync(brokers: 2);
        await f.CreateTopicAsync("t", partitions: 2, replicationFactor: 2);
        Assert.Equal(ErrorCode.InvalidPartitions, (await f.Controller.CreatePartitionsAsync("t", 2, null, false)).Error);
        Assert.Equal(ErrorCode.InvalidPartitions, (await f.Controller.CreatePartitionsAsync("t", 1, null, false)).Error);
        Assert.Equal(ErrorCode.UnknownTopicOrPartition, (await f.Controller.CreatePartitionsAsync("nope", 5, null, false)).Error);

        Assert.Equal(ErrorCode.None, (await f.Controller.CreatePartitionsAsync("t", 4, null, validateOnly: true)).Error);
        Assert.Equal(2, f.Image.GetTopic("t")!.PartitionCount);

        Assert.Equal(ErrorCode.None, (await f.Controller.CreatePartitionsAsync("t", 5, null, false)).Error);
        var topic = f.Image.GetTopic("t")!;
        Assert.Equal(5, topic.PartitionCount);
        Assert.All(topic.Partitions, p => Assert.Equal(2, p.Replicas.Length));
        Assert.Equal([0, 1, 2, 3, 4], topic.Partitions.Select(p => p.PartitionId));
    }

    [Fact]
    public async Task Create_partitions_with_assignment()
    {
        using var f = await ControllerFixture.StartAsync(brokers: 3);
        await f.CreateTopicAsync("t", partitions: 1, replicationFactor: 2);
        Assert.Equal(ErrorCode.InvalidReplicaAssignment, (await f.Controller.CreatePartitionsAsync("t", 3, [[1, 2]], false)).Error);
        Assert.Equal(ErrorCode.InvalidReplicaAssignment, (await f.Controller.CreatePartitionsAsync("t", 2, [[1]], false)).Error);
        Assert.Equal(ErrorCode.InvalidReplicaAssignment, (await f.Controller.CreatePartitionsAsync("t", 2, [[1, 7]], false)).Error);
        Assert.Equal(ErrorCode.None, (await f.Controller.CreatePartitionsAsync("t", 3, [[3, 2], [2, 1]], false)).Error);
        var topic = f.Image.GetTopic("t")!;
        Assert.Equal(new[] { 3, 2 }, topic.Partitions[1].Replicas);
        Assert.Equal(2, topic.Partitions[2].Leader);
    }

    [Fact]
    public async Task Duplicate_topics_in_create_partitions_are_invalid()
    {
        using var f = await ControllerFixture.StartAsync();
        await f.CreateTopicAsync("t");
        var results = await f.Controller.CreatePartitionsAsync([new NewPartitionsSpec("t", 3), new NewPartitionsSpec("t", 4)], false);
        Assert.All(results, r => Assert.Equal(ErrorCode.InvalidRequest, r.Error));
        Assert.Equal(1, f.Image.GetTopic("t")!.PartitionCount);
    }

    [Fact]
    public async Task Alter_topic_configs_set_delete_and_no_op()
    {
        using var f = await ControllerFixture.StartAsync(validateTopicConfig: (n, v) => n == "bad" ? "bad config" : null);
        await f.CreateTopicAsync("t", configs: new Dictionary<string, string?> { ["a"] = "1", ["b"] = "2" });

        var result = await f.Controller.AlterTopicConfigsAsync("t", new Dictionary<string, string?> { ["a"] = "10", ["b"] = null, ["c"] = "3" }, false);
        Assert.Equal(ErrorCode.None, result.Error);
        var configs = f.Image.GetTopic("t")!.Configs;
        Assert.Equal(new Dictionary<string, string> { ["a"] = "10", ["c"] = "3" }, configs);

        long before = f.Storage.LogEndOffset;
        Assert.Equal(ErrorCode.None, (await f.Controller.AlterTopicConfigsAsync("t", new Dictionary<string, string?> { ["a"] = "10", ["zz"] = null }, false)).Error);
        Assert.Equal(before, f.Storage.LogEndOffset); // nothing changed, nothing written

        Assert.Equal(ErrorCode.InvalidConfig, (await f.Controller.AlterTopicConfigsAsync("t", new Dictionary<string, string?> { ["bad"] = "x" }, false)).Error);
        Assert.Equal(ErrorCode.UnknownTopicOrPartition, (await f.Controller.AlterTopicConfigsAsync("nope", new Dictionary<string, string?> { ["a"] = "1" }, false)).Error);
        Assert.Equal(ErrorCode.None, (await f.Controller.AlterTopicConfigsAsync("t", new Dictionary<string, string?> { ["a"] = "99" }, validateOnly: true)).Error);
        Assert.Equal("10", f.Image.GetTopic("t")!.Configs["a"]);
    }

    [Fact]
    public async Task Alter_broker_configs()
    {
        using var f = await ControllerFixture.StartAsync();
        var results = await f.Controller.AlterConfigsAsync(
        [
            new ConfigResourceChange(ConfigResourceType.Broker, "", new Dictionary<string, string?> { ["log.retention.ms"] = "100" }),
            new ConfigResourceChange(ConfigResourceType.Broker, "1", new Dictionary<string, string?> { ["x"] = "y" }),
            new ConfigResourceChange(ConfigResourceType.Broker, "abc", new Dictionary<string, string?> { ["x"] = "y" }),
        ], false);
        Assert.Equal([ErrorCode.None, ErrorCode.None, ErrorCode.InvalidRequest], results.Select(r => r.Error));
        Assert.Equal("100", f.Image.GetBrokerConfigs("")["log.retention.ms"]);
        Assert.Equal("y", f.Image.GetBrokerConfigs("1")["x"]);
    }

    [Fact]
    public async Task Registration_epoch_is_the_record_offset_and_broker_is_unfenced()
    {
        using var f = await ControllerFixture.StartAsync(brokers: 0);
        long offset = f.Storage.LogEndOffset;
        var incarnation = Guid.NewGuid();
        var result = await f.Controller.RegisterBrokerAsync(5, incarnation, [ControllerFixture.Endpoint(9092)], "rack1");
        Assert.Equal(ErrorCode.None, result.Error);
        Assert.Equal(offset, result.BrokerEpoch);
        Assert.Equal(offset + 2, f.Storage.LogEndOffset); // register + unfence
        var broker = f.Image.GetBroker(5)!;
        Assert.Equal((offset, false, "rack1", incarnation), (broker.BrokerEpoch, broker.Fenced, broker.Rack, broker.IncarnationId));
        Assert.Equal([5], f.Image.UnfencedBrokerIds.ToArray());

        // Same incarnation: idempotent. New incarnation (restart): new epoch.
        Assert.Equal(offset, (await f.Controller.RegisterBrokerAsync(5, incarnation, [ControllerFixture.Endpoint(9092)], "rack1")).BrokerEpoch);
        Assert.Equal(offset + 2, f.Storage.LogEndOffset);
        var again = await f.Controller.RegisterBrokerAsync(5, Guid.NewGuid(), [ControllerFixture.Endpoint(9093)], null);
        Assert.Equal(offset + 2, again.BrokerEpoch);
        Assert.Equal(9093, f.Image.GetBroker(5)!.Endpoints[0].Port);
    }

    [Fact]
    public async Task Registration_without_auto_unfence_leaves_broker_fenced()
    {
        using var f = await ControllerFixture.StartAsync(brokers: 0, options: new ControllerOptions { NodeId = 1, UnfenceOnRegistration = false });
        var reg = await f.Controller.RegisterBrokerAsync(1, Guid.NewGuid(), [ControllerFixture.Endpoint(9092)], null);
        Assert.True(f.Image.GetBroker(1)!.Fenced);
        Assert.Equal(ErrorCode.InvalidReplicationFactor, (await f.CreateTopicAsync("t")).Error);

        Assert.Equal(ErrorCode.StaleBrokerEpoch, (await f.Controller.UnfenceBrokerAsync(1, reg.BrokerEpoch + 7)).Error);
        Assert.Equal(ErrorCode.BrokerIdNotRegistered, (await f.Controller.UnfenceBrokerAsync(2, 0)).Error);
        Assert.True((await f.Controller.UnfenceBrokerAsync(1, reg.BrokerEpoch)).IsSuccess);
        Assert.False(f.Image.GetBroker(1)!.Fenced);
        Assert.Equal(ErrorCode.None, (await f.CreateTopicAsync("t")).Error);

        Assert.True((await f.Controller.FenceBrokerAsync(1, reg.BrokerEpoch)).IsSuccess);
        Assert.Empty(f.Image.UnfencedBrokerIds);
    }

    [Fact]
    public async Task Invalid_registrations_are_refused()
    {
        using var f = await ControllerFixture.StartAsync(brokers: 0);
        Assert.Equal(ErrorCode.InvalidRequest, (await f.Controller.RegisterBrokerAsync(-1, Guid.NewGuid(), [ControllerFixture.Endpoint(1)], null)).Error);
        Assert.Equal(ErrorCode.InvalidRequest, (await f.Controller.RegisterBrokerAsync(1, Guid.NewGuid(), [], null)).Error);
        Assert.Equal(ErrorCode.InvalidRequest, (await f.Controller.RegisterBrokerAsync(1, Guid.NewGuid(), [ControllerFixture.Endpoint(70000)], null)).Error);
        Assert.Equal(ErrorCode.InvalidRequest, (await f.Controller.RegisterBrokerAsync(1, Guid.NewGuid(),
            [ControllerFixture.Endpoint(1), ControllerFixture.Endpoint(2)], null)).Error);
        Assert.Empty(f.Image.Brokers);
    }

    [Fact]
    public async Task Producer_id_blocks_do_not_overlap()
    {
        using var f = await ControllerFixture.StartAsync();
        long epoch = f.Image.GetBroker(1)!.BrokerEpoch;
        var first = await f.Controller.AllocateProducerIdsAsync(1, epoch, 100);
        var second = await f.Controller.AllocateProducerIdsAsync(1, epoch, 100);
        Assert.Equal((ErrorCode.None, 0L), (first.Error, first.FirstProducerId));
        Assert.Equal((ErrorCode.None, 100L), (second.Error, second.FirstProducerId));
        Assert.Equal(200, f.Image.NextProducerId);
        Assert.Equal(ErrorCode.StaleBrokerEpoch, (await f.Controller.AllocateProducerIdsAsync(1, epoch + 1)).Error);
    }

    [Fact]
    public async Task Bootstrap_writes_metadata_version_once()
    {
        using var f = await ControllerFixture.StartAsync(brokers: 0, options: new ControllerOptions { NodeId = 1, MetadataVersion = 21 });
        Assert.Equal(21, f.Image.GetFeatureLevel(MetadataConstants.MetadataVersionFeature));
        Assert.Equal(1, f.Storage.LogEndOffset);
        Assert.True((await f.Controller.BootstrapAsync()).IsSuccess);
        Assert.Equal(1, f.Storage.LogEndOffset);
    }

    [Fact]
    public async Task Concurrent_requests_are_serialised()
    {
        using var f = await ControllerFixture.StartAsync(brokers: 3);
        var tasks = Enumerable.Range(0, 20).Select(i => Task.Run(() => f.CreateTopicAsync($"t{i % 10}", partitions: 2))).ToArray();
        var results = await Task.WhenAll(tasks);
        Assert.Equal(10, results.Count(r => r.Error == ErrorCode.None));
        Assert.Equal(10, results.Count(r => r.Error == ErrorCode.TopicAlreadyExists));
        Assert.Equal(10, f.Image.TopicsByName.Count);
        Assert.All(f.Image.TopicsByName.Values, t => Assert.Equal(2, t.PartitionCount));
    }
}

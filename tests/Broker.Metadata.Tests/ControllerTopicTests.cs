using Broker.Core.Model;
using Broker.Metadata.Controller;
using Broker.Metadata.Records;

namespace Broker.Metadata.Tests;

public class ControllerTopicTests
{
    [Theory]
    [InlineData("")]
    [InlineData(".")]
    [InlineData("..")]
    [InlineData("a/b")]
    [InlineData("spaces are bad")]
    [InlineData("ümlaut")]
    [InlineData("__cluster_metadata")]
    public async Task Illegal_names_are_refused(string name)
    {
        using var f = await ControllerFixture.StartAsync();
        var result = await f.CreateTopicAsync(name);
        Assert.Equal(ErrorCode.InvalidTopicException, result.Error);
        Assert.NotNull(result.Message);
        Assert.Equal(Guid.Empty, result.TopicId);
    }

    [Fact]
    public async Task Name_length_limit_is_249()
    {
        using var f = await ControllerFixture.StartAsync();
        Assert.Equal(ErrorCode.None, (await f.CreateTopicAsync(new string('a', 249))).Error);
        Assert.Equal(ErrorCode.InvalidTopicException, (await f.CreateTopicAsync(new string('b', 250))).Error);
        Assert.Equal(ErrorCode.None, (await f.CreateTopicAsync("Valid.name_with-all-1")).Error);
    }

    [Fact]
    public async Task Create_topic_writes_records_and_returns_resolved_values()
    {
        using var f = await ControllerFixture.StartAsync(options: new ControllerOptions { NodeId = 1, NumPartitions = 3 });
        long before = f.Storage.LogEndOffset;
        var result = (await f.Controller.CreateTopicsAsync(
            [new NewTopicSpec("orders", Configs: new Dictionary<string, string?> { ["retention.ms"] = "1000" })], validateOnly: false))[0];

        Assert.Equal(ErrorCode.None, result.Error);
        Assert.Equal(3, result.NumPartitions);
        Assert.Equal(1, result.ReplicationFactor);
        Assert.Equal("1000", result.Configs["retention.ms"]);
        Assert.NotEqual(Guid.Empty, result.TopicId);
        Assert.Equal(before + 5, f.Storage.LogEndOffset); // topic + 3 partitions + 1 config

        var topic = f.Image.GetTopic("orders")!;
        Assert.Equal(result.TopicId, topic.TopicId);
        Assert.Equal(3, topic.PartitionCount);
        Assert.All(topic.Partitions, p => Assert.Equal((1, 0), (p.Leader, p.LeaderEpoch)));
        Assert.Equal("1000", topic.Configs["retention.ms"]);
    }

    [Fact]
    public async Task Existing_duplicate_and_colliding_names()
    {
        using var f = await ControllerFixture.StartAsync();
        Assert.Equal(ErrorCode.None, (await f.CreateTopicAsync("a.b")).Error);
        Assert.Equal(ErrorCode.TopicAlreadyExists, (await f.CreateTopicAsync("a.b")).Error);
        var collide = await f.CreateTopicAsync("a_b");
        Assert.Equal(ErrorCode.InvalidTopicException, collide.Error);
        Assert.Contains("collides", collide.Message);

        var results = await f.Controller.CreateTopicsAsync(
            [new NewTopicSpec("x"), new NewTopicSpec("x"), new NewTopicSpec("y.z"), new NewTopicSpec("y_z")], validateOnly: false);
        Assert.Equal([ErrorCode.InvalidRequest, ErrorCode.InvalidRequest, ErrorCode.None, ErrorCode.InvalidTopicException],
            results.Select(r => r.Error));
        Assert.Null(f.Image.GetTopic("x"));
    }

    [Fact]
    public async Task Partition_and_replication_factor_validation()
    {
        using var f = await ControllerFixture.StartAsync(brokers: 2);
        Assert.Equal(ErrorCode.InvalidPartitions, (await f.CreateTopicAsync("t", partitions: 0)).Error);
        Assert.Equal(ErrorCode.InvalidPartitions, (await f.CreateTopicAsync("t", partitions: -5)).Error);
        Assert.Equal(ErrorCode.InvalidPartitions, (await f.CreateTopicAsync("t", partitions: 1_000_000)).Error);
        Assert.Equal(ErrorCode.InvalidReplicationFactor, (await f.CreateTopicAsync("t", replicationFactor: 0)).Error);
        var tooMany = await f.CreateTopicAsync("t", replicationFactor: 3);
        Assert.Equal(ErrorCode.InvalidReplicationFactor, tooMany.Error);
        Assert.Contains("2 unfenced", tooMany.Message);
        Assert.Equal(ErrorCode.None, (await f.CreateTopicAsync("t", replicationFactor: 2)).Error);
        Assert.Equal(2, f.Image.GetTopic("t")!.ReplicationFactor);
    }

    [Fact]
    public async Task Config_validation_uses_the_pluggable_validator()
    {
        using var f = await ControllerFixture.StartAsync(validateTopicConfig: (name, value) =>
            name == "retention.ms" && !long.TryParse(value, out _) ? $"Invalid value {value} for configuration {name}" : null);
        var bad = await f.CreateTopicAsync("t", configs: new Dictionary<string, string?> { ["retention.ms"] = "soon" });
        Assert.Equal(ErrorCode.InvalidConfig, bad.Error);
        Assert.Equal("Invalid value soon for configuration retention.ms", bad.Message);
        var nullValue = await f.CreateTopicAsync("t", configs: new Dictionary<string, string?> { ["retention.ms"] = null });
        Assert.Equal(ErrorCode.InvalidConfig, nullValue.Error);
        Assert.Null(f.Image.GetTopic("t"));
    }

    [Fact]
    public async Task Validate_only_writes_nothing()
    {
        using var f = await ControllerFixture.StartAsync();
        long before = f.Storage.LogEndOffset;
        var result = (await f.Controller.CreateTopicsAsync([new NewTopicSpec("t", 4, 1)], validateOnly: true))[0];
        Assert.Equal(ErrorCode.None, result.Error);
        Assert.Equal(4, result.NumPartitions);
        Assert.Equal(before, f.Storage.LogEndOffset);
        Assert.Null(f.Image.GetTopic("t"));
    }

    [Fact]
    public async Task One_request_is_one_batch()
    {
        using var f = await ControllerFixture.StartAsync();
        int readsBefore = f.Storage.ReadCount;
        long before = f.Storage.LogEndOffset;
        var results = await f.Controller.CreateTopicsAsync([new NewTopicSpec("a", 2, 1), new NewTopicSpec("b", 1, 1)], validateOnly: false);
        Assert.All(results, r => Assert.Equal(ErrorCode.None, r.Error));
        using var read = f.Storage.Read(before, int.MaxValue, long.MaxValue, minOneBatch: true);
        Core.Records.RecordBatchHeader.TryRead(read.Records.Span, out var header);
        Assert.Equal(before, header.BaseOffset);
        Assert.Equal(5, header.RecordsCount);          // 2 topic records + 3 partition records
        Assert.Equal(read.Records.Length, header.TotalSize);
        Assert.True(f.Storage.ReadCount > readsBefore);
    }

    [Fact]
    public async Task Manual_assignment_is_validated_and_used()
    {
        using var f = await ControllerFixture.StartAsync(brokers: 3);
        async Task<CreateTopicResult> Create(Dictionary<int, int[]> assignment, int partitions = -1) =>
            (await f.Controller.CreateTopicsAsync([new NewTopicSpec("m", partitions, -1, assignment)], false))[0];

        Assert.Equal(ErrorCode.InvalidRequest, (await Create(new() { [0] = [1] }, partitions: 1)).Error);
        Assert.Equal(ErrorCode.InvalidReplicaAssignment, (await Create(new() { [1] = [1] })).Error);
        Assert.Equal(ErrorCode.InvalidReplicaAssignment, (await Create(new() { [0] = [1, 1] })).Error);
        Assert.Equal(ErrorCode.InvalidReplicaAssignment, (await Create(new() { [0] = [9] })).Error);
        Assert.Equal(ErrorCode.InvalidReplicaAssignment, (await Create(new() { [0] = [1, 2], [1] = [3] })).Error);
        Assert.Equal(ErrorCode.InvalidReplicaAssignment, (await Create(new() { [0] = [] })).Error);

        var ok = await Create(new() { [0] = [3, 1], [1] = [2, 3] });
        Assert.Equal(ErrorCode.None, ok.Error);
        Assert.Equal((2, (short)2), (ok.NumPartitions, ok.ReplicationFactor));
        var topic = f.Image.GetTopic("m")!;
        Assert.Equal(new[] { 3, 1 }, topic.Partitions[0].Replicas);
        Assert.Equal(3, topic.Partitions[0].Leader);
        Assert.Equal(2, topic.Partitions[1].Leader);
    }

    [Fact]
    public async Task Delete_topics_by_name_and_id()
    {
        using var f = await ControllerFixture.StartAsync();
        var a = await f.CreateTopicAsync("a");
        await f.CreateTopicAsync("b");
        var unknownId = Guid.NewGuid();
        var results = await f.Controller.DeleteTopicsAsync(
            [TopicReference.ByName("b"), TopicReference.ById(a.TopicId), TopicReference.ByName("nope"), TopicReference.ById(unknownId)]);

        Assert.Equal([ErrorCode.None, ErrorCode.None, ErrorCode.UnknownTopicOrPartition, ErrorCode.UnknownTopicId], results.Select(r => r.Error));
        Assert.Equal("a", results[1].Name);
        Assert.Empty(f.Image.TopicsByName);
        Assert.Equal(ErrorCode.UnknownTopicOrPartition, (await f.Controller.DeleteTopicsAsync(["a"]))[0].Error);
    }

    [Fact]
    public async Task Delete_can_be_disabled()
    {
        using var f = await ControllerFixture.StartAsync(options: new ControllerOptions { NodeId = 1, DeleteTopicEnable = false });
        await f.CreateTopicAsync("a");
        Assert.Equal(ErrorCode.TopicDeletionDisabled, (await f.Controller.DeleteTopicsAsync(["a"]))[0].Error);
        Assert.NotNull(f.Image.GetTopic("a"));
    }

    [Fact]
    public async Task Writes_on_a_follower_fail_with_not_controller()
    {
        var storage = new InMemoryPartitionLog();
        using (var leader = await ControllerFixture.StartAsync(storage: storage)) { }
        var follower = new FollowerLog(storage);
        using var applier = new MetadataApplier(follower, "c", () => 2);
        applier.Replay();
        using var controller = new ClusterController(new ControllerOptions { NodeId = 2 }, follower, applier);
        var result = (await controller.CreateTopicsAsync([new NewTopicSpec("t")], false))[0];
        Assert.Equal(ErrorCode.NotController, result.Error);
        Assert.False(controller.IsActive);
        Assert.Single(applier.Current.Brokers); // the follower still sees what the leader wrote
    }

    [Fact]
    public async Task Oversized_request_is_refused_before_appending()
    {
        using var f = await ControllerFixture.StartAsync();
        f.Storage.UpdateOptions(f.Storage.Options with { MaxMessageBytes = 2000 });
        long before = f.Storage.LogEndOffset;
        var result = await f.CreateTopicAsync("big", partitions: 200);
        Assert.Equal(ErrorCode.PolicyViolation, result.Error);
        Assert.Equal(before, f.Storage.LogEndOffset);
    }
}

using Broker.Config;
using Broker.Core.Model;
using Broker.Metadata.Controller;
using Broker.Protocol.Messages;
using Broker.Server.Admin;
using Xunit;

namespace Broker.Server.Tests.Admin;

public class CreateTopicsHandlerTests
{
    private const short Key = 19;

    private static CreateTopicsRequest.CreatableTopic Topic(string name, int partitions = 1, short replicationFactor = 1, params (string Name, string? Value)[] configs)
    {
        var topic = new CreateTopicsRequest.CreatableTopic { Name = name, NumPartitions = partitions, ReplicationFactor = replicationFactor };
        foreach (var (n, v) in configs) topic.Configs.Add(new CreateTopicsRequest.CreatableTopicConfig { Name = n, Value = v });
        return topic;
    }

    private static CreateTopicsRequest Request(params CreateTopicsRequest.CreatableTopic[] topics) =>
        new() { Topics = [.. topics], TimeoutMs = 30_000 };

    [Fact]
    public async Task CreatesTopicsAndReportsFullConfigsAndIdAtV7()
    {
        using var f = await AdminFixture.StartAsync();
        var response = await f.CallAsync(Key, 7, Request(Topic("orders", 3, 1, ("retention.ms", "1000"), ("cleanup.policy", "compact"))), CreateTopicsResponse.Read);

        var result = Assert.Single(response.Topics);
        Assert.Equal("orders", result.Name);
        Assert.Equal(0, result.ErrorCode);
        Assert.Null(result.ErrorMessage);
        Assert.Equal(3, result.NumPartitions);
        Assert.Equal(1, result.ReplicationFactor);
        Assert.Equal(0, result.TopicConfigErrorCode);
        var topic = f.Image.GetTopic("orders");
        Assert.NotNull(topic);
        Assert.Equal(topic.TopicId, result.TopicId);
        Assert.Equal(3, topic.PartitionCount);
        Assert.Equal("1000", topic.Configs["retention.ms"]);

        // Every catalog key exactly once, sorted, explicit ones marked DYNAMIC_TOPIC_CONFIG.
        var configs = result.Configs!;
        Assert.Equal(TopicConfigCatalog.Keys.OrderBy(k => k, StringComparer.Ordinal), configs.Select(c => c.Name));
        var retention = configs.Single(c => c.Name == "retention.ms");
        Assert.Equal("1000", retention.Value);
        Assert.Equal(ConfigSources.DynamicTopicConfig, retention.ConfigSource);
        Assert.Equal("compact", configs.Single(c => c.Name == "cleanup.policy").Value);
        var segment = configs.Single(c => c.Name == "segment.bytes");
        Assert.Equal(ConfigSources.DefaultConfig, segment.ConfigSource);
        Assert.False(string.IsNullOrEmpty(segment.Value));
        Assert.All(configs, c => { Assert.False(c.ReadOnly); Assert.False(c.IsSensitive); });
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    public async Task EachVersionRoundTrips(short version)
    {
        using var f = await AdminFixture.StartAsync();
        var response = await f.CallAsync(Key, version, Request(Topic("t1"), Topic("t1", 1, 1), Topic("t2", 2)), CreateTopicsResponse.Read);
        Assert.Equal(["t1", "t2"], response.Topics.Select(t => t.Name));
        Assert.Equal((short)ErrorCode.InvalidRequest, response.Topics[0].ErrorCode);
        Assert.Equal(0, response.Topics[1].ErrorCode);
        Assert.Equal(version >= 5 ? 2 : -1, response.Topics[1].NumPartitions);
        Assert.Equal(2, f.Image.GetTopic("t2")!.PartitionCount);
        Assert.Null(f.Image.GetTopic("t1"));
    }

    [Fact]
    public async Task ValidateOnlyCreatesNothing()
    {
        using var f = await AdminFixture.StartAsync();
        var request = Request(Topic("dry", 4));
        request.ValidateOnly = true;
        var response = await f.CallAsync(Key, 5, request, CreateTopicsResponse.Read);
        var result = Assert.Single(response.Topics);
        Assert.Equal(0, result.ErrorCode);
        Assert.Equal(4, result.NumPartitions);
        Assert.Null(f.Image.GetTopic("dry"));
        Assert.Empty(f.Image.TopicsByName);
    }

    [Fact]
    public async Task ExistingTopicIsTopicAlreadyExists()
    {
        using var f = await AdminFixture.StartAsync();
        await f.CreateTopicAsync("taken");
        var response = await f.CallAsync(Key, 7, Request(Topic("taken")), CreateTopicsResponse.Read);
        var result = Assert.Single(response.Topics);
        Assert.Equal((short)ErrorCode.TopicAlreadyExists, result.ErrorCode);
        Assert.Contains("taken", result.ErrorMessage);
        Assert.Equal(-1, result.NumPartitions);
        Assert.Equal(Guid.Empty, result.TopicId);
        Assert.Empty(result.Configs!);
    }

    [Theory]
    [InlineData("retention.ms", "soon")]
    [InlineData("no.such.config", "1")]
    [InlineData("cleanup.policy", "shred")]
    public async Task BadConfigIsInvalidConfigNamingTheKey(string name, string value)
    {
        using var f = await AdminFixture.StartAsync();
        var response = await f.CallAsync(Key, 7, Request(Topic("cfg", 1, 1, (name, value)), Topic("fine")), CreateTopicsResponse.Read);
        Assert.Equal((short)ErrorCode.InvalidConfig, response.Topics[0].ErrorCode);
        Assert.Contains(name, response.Topics[0].ErrorMessage);
        Assert.Equal(0, response.Topics[1].ErrorCode);
        Assert.Null(f.Image.GetTopic("cfg"));
        Assert.NotNull(f.Image.GetTopic("fine"));
    }

    [Fact]
    public async Task BadCountsAndNamesAreRefused()
    {
        using var f = await AdminFixture.StartAsync();
        var response = await f.CallAsync(Key, 7,
            Request(Topic("zero", 0), Topic("negative", -5), Topic("too-many-replicas", 1, 3), Topic("bad/name")),
            CreateTopicsResponse.Read);
        Assert.Equal(
            [ErrorCode.InvalidPartitions, ErrorCode.InvalidPartitions, ErrorCode.InvalidReplicationFactor, ErrorCode.InvalidTopicException],
            response.Topics.Select(t => (ErrorCode)t.ErrorCode));
        Assert.All(response.Topics, t => Assert.False(string.IsNullOrEmpty(t.ErrorMessage)));
        Assert.Empty(f.Image.TopicsByName);
    }

    [Fact]
    public async Task MinusOneUsesTheControllerDefaults()
    {
        using var f = await AdminFixture.StartAsync(controllerOptions: new ControllerOptions { NodeId = 1, NumPartitions = 5 });
        var response = await f.CallAsync(Key, 4, Request(Topic("defaults", -1, -1)), CreateTopicsResponse.Read);
        Assert.Equal(0, Assert.Single(response.Topics).ErrorCode);
        Assert.Equal(5, f.Image.GetTopic("defaults")!.PartitionCount);
    }

    [Fact]
    public async Task ManualAssignments()
    {
        using var f = await AdminFixture.StartAsync();
        var good = Topic("manual", -1, -1);
        good.Assignments.Add(new CreateTopicsRequest.CreatableReplicaAssignment { PartitionIndex = 0, BrokerIds = [1] });
        good.Assignments.Add(new CreateTopicsRequest.CreatableReplicaAssignment { PartitionIndex = 1, BrokerIds = [1] });
        var twice = Topic("twice", -1, -1);
        twice.Assignments.Add(new CreateTopicsRequest.CreatableReplicaAssignment { PartitionIndex = 0, BrokerIds = [1] });
        twice.Assignments.Add(new CreateTopicsRequest.CreatableReplicaAssignment { PartitionIndex = 0, BrokerIds = [1] });
        var unknownBroker = Topic("unknown-broker", -1, -1);
        unknownBroker.Assignments.Add(new CreateTopicsRequest.CreatableReplicaAssignment { PartitionIndex = 0, BrokerIds = [9] });

        var response = await f.CallAsync(Key, 7, Request(good, twice, unknownBroker), CreateTopicsResponse.Read);

        Assert.Equal(0, response.Topics[0].ErrorCode);
        Assert.Equal(2, response.Topics[0].NumPartitions);
        Assert.Equal((short)ErrorCode.InvalidReplicaAssignment, response.Topics[1].ErrorCode);
        Assert.Equal((short)ErrorCode.InvalidReplicaAssignment, response.Topics[2].ErrorCode);
        Assert.Equal(2, f.Image.GetTopic("manual")!.PartitionCount);
        Assert.Null(f.Image.GetTopic("twice"));
    }

    [Fact]
    public async Task TimeoutGivesRequestTimedOut()
    {
        using var f = await AdminFixture.StartAsync(admin: new StalledTopicAdmin());
        var request = Request(Topic("slow"));
        request.TimeoutMs = 50;
        var response = await f.CallAsync(Key, 7, request, CreateTopicsResponse.Read);
        var result = Assert.Single(response.Topics);
        Assert.Equal((short)ErrorCode.RequestTimedOut, result.ErrorCode);
        Assert.Contains("50 ms", result.ErrorMessage);
    }

    [Fact]
    public void DefaultsReflectWhereTheBrokerValueCameFrom()
    {
        var dir = Directory.CreateTempSubdirectory("broker-admin-defaults-");
        try
        {
            var config = BrokerConfig.Load(null, dir.FullName, new Dictionary<string, string> { ["log.retention.bytes"] = "12345" }).Config;
            var defaults = TopicConfigDefaults.FromBrokerConfig(config);
            Assert.Equal(TopicConfigCatalog.Keys.Count, defaults.Entries.Count);
            var retention = defaults.Entries.Single(e => e.Name == "retention.bytes");
            Assert.Equal("12345", retention.Value);
            Assert.Equal(ConfigSources.StaticBrokerConfig, retention.Source);
            Assert.Equal(ConfigSources.DefaultConfig, defaults.Entries.Single(e => e.Name == "segment.bytes").Source);
        }
        finally { dir.Delete(recursive: true); }
    }
}

/// <summary>A controller that never answers (until cancelled).</summary>
internal sealed class StalledTopicAdmin : ITopicAdmin
{
    public async Task<IReadOnlyList<CreateTopicResult>> CreateTopicsAsync(IReadOnlyList<NewTopicSpec> topics, bool validateOnly, CancellationToken cancellationToken)
    {
        await Task.Delay(Timeout.Infinite, cancellationToken);
        throw new InvalidOperationException("unreachable");
    }

    public async Task<IReadOnlyList<DeleteTopicResult>> DeleteTopicsAsync(IReadOnlyList<TopicReference> topics, CancellationToken cancellationToken)
    {
        await Task.Delay(Timeout.Infinite, cancellationToken);
        throw new InvalidOperationException("unreachable");
    }

    public async Task<IReadOnlyList<CreatePartitionsResult>> CreatePartitionsAsync(IReadOnlyList<NewPartitionsSpec> specs, bool validateOnly, CancellationToken cancellationToken)
    {
        await Task.Delay(Timeout.Infinite, cancellationToken);
        throw new InvalidOperationException("unreachable");
    }
}

using Broker.Core.Model;
using Broker.Metadata.Image;
using Broker.Protocol.Messages;
using Broker.Server.Admin;
using Xunit;

namespace Broker.Server.Tests.Admin;

public class MetadataHandlerTests
{
    private const short Key = 3;

    private static MetadataRequest Named(params string[] names)
    {
        var request = new MetadataRequest { Topics = new() };
        foreach (var n in names) request.Topics.Add(new MetadataRequest.MetadataRequestTopic { Name = n });
        return request;
    }

    private static MetadataRequest AllTopics(short version) => new() { Topics = version == 0 ? new() : null };

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(4)]
    [InlineData(7)]
    [InlineData(9)]
    [InlineData(12)]
    public async Task AllTopicsAtEachVersionDescribesClusterAndTopicsSortedByName(short version)
    {
        using var f = await AdminFixture.StartAsync();
        var beta = await f.CreateTopicAsync("beta", partitions: 2);
        var alpha = await f.CreateTopicAsync("alpha");

        var response = await f.CallAsync(Key, version, AllTopics(version), MetadataResponse.Read);

        var broker = Assert.Single(response.Brokers);
        Assert.Equal(1, broker.NodeId);
        Assert.Equal("localhost", broker.Host);
        Assert.Equal(9092, broker.Port);
        Assert.Equal(version >= 1 ? "rack-a" : null, broker.Rack);
        Assert.Equal(version >= 2 ? f.Image.ClusterId : null, response.ClusterId);
        Assert.Equal(version >= 1 ? 1 : -1, response.ControllerId);

        Assert.Equal(["alpha", "beta"], response.Topics.Select(t => t.Name));
        var topic = response.Topics[1];
        Assert.Equal(0, topic.ErrorCode);
        Assert.False(topic.IsInternal);
        Assert.Equal(version >= 10 ? beta.TopicId : Guid.Empty, topic.TopicId);
        Assert.Equal(version >= 10 ? alpha.TopicId : Guid.Empty, response.Topics[0].TopicId);
        Assert.Equal([0, 1], topic.Partitions.Select(p => p.PartitionIndex));
        foreach (var p in topic.Partitions)
        {
            Assert.Equal(0, p.ErrorCode);
            Assert.Equal(1, p.LeaderId);
            Assert.Equal(version >= 7 ? 0 : -1, p.LeaderEpoch);
            Assert.Equal([1], p.ReplicaNodes);
            Assert.Equal([1], p.IsrNodes);
            Assert.Empty(p.OfflineReplicas);
        }
    }

    [Fact]
    public async Task EmptyTopicListAboveV0MeansNoTopics()
    {
        using var f = await AdminFixture.StartAsync();
        await f.CreateTopicAsync("alpha");
        var response = await f.CallAsync(Key, 1, new MetadataRequest { Topics = new() }, MetadataResponse.Read);
        Assert.Empty(response.Topics);
        Assert.Single(response.Brokers);
    }

    [Fact]
    public async Task NamedTopicsOnlyThoseAndUnknownWithoutAutoCreate()
    {
        using var f = await AdminFixture.StartAsync();
        await f.CreateTopicAsync("alpha");
        await f.CreateTopicAsync("beta");

        var response = await f.CallAsync(Key, 9, Named("missing", "beta", "beta"), MetadataResponse.Read);

        Assert.Equal(["beta", "missing"], response.Topics.Select(t => t.Name));
        Assert.Equal(0, response.Topics[0].ErrorCode);
        Assert.Equal((short)ErrorCode.UnknownTopicOrPartition, response.Topics[1].ErrorCode);
        Assert.Empty(response.Topics[1].Partitions);
        Assert.Null(f.Image.GetTopic("missing"));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    [InlineData(12)]
    public async Task AutoCreateReturnsTheNewTopicWithBrokerDefaults(short version)
    {
        using var f = await AdminFixture.StartAsync(new AdminOptions { NodeId = 1, AutoCreateTopicsEnable = true, DefaultNumPartitions = 3, DefaultReplicationFactor = 1 });

        var response = await f.CallAsync(Key, version, Named("fresh"), MetadataResponse.Read);

        var topic = Assert.Single(response.Topics);
        Assert.Equal("fresh", topic.Name);
        Assert.Equal(0, topic.ErrorCode);
        Assert.Equal(3, topic.Partitions.Count);
        Assert.All(topic.Partitions, p => Assert.Equal(1, p.LeaderId));
        var created = f.Image.GetTopic("fresh");
        Assert.NotNull(created);
        Assert.Equal(3, created.PartitionCount);
        if (version >= 10) Assert.Equal(created.TopicId, topic.TopicId);

        // A second request finds it and creates nothing new.
        var again = await f.CallAsync(Key, version, Named("fresh"), MetadataResponse.Read);
        Assert.Equal(0, Assert.Single(again.Topics).ErrorCode);
        Assert.Same(created, f.Image.GetTopic("fresh"));
    }

    [Fact]
    public async Task AutoCreateWithControllerDefaultsWhenOptionsSayMinusOne()
    {
        using var f = await AdminFixture.StartAsync(
            new AdminOptions { NodeId = 1, AutoCreateTopicsEnable = true },
            new Broker.Metadata.Controller.ControllerOptions { NodeId = 1, NumPartitions = 2 });
        var response = await f.CallAsync(Key, 4, Named("fresh"), MetadataResponse.Read);
        Assert.Equal(2, Assert.Single(response.Topics).Partitions.Count);
    }

    [Fact]
    public async Task RequestFlagFalseOrBrokerSettingOffPreventsCreation()
    {
        using (var on = await AdminFixture.StartAsync(new AdminOptions { NodeId = 1, AutoCreateTopicsEnable = true }))
        {
            var request = Named("fresh");
            request.AllowAutoTopicCreation = false;
            var response = await on.CallAsync(Key, 4, request, MetadataResponse.Read);
            Assert.Equal((short)ErrorCode.UnknownTopicOrPartition, Assert.Single(response.Topics).ErrorCode);
            Assert.Null(on.Image.GetTopic("fresh"));
        }
        using var off = await AdminFixture.StartAsync(new AdminOptions { NodeId = 1, AutoCreateTopicsEnable = false });
        var v12 = await off.CallAsync(Key, 12, Named("fresh"), MetadataResponse.Read);
        Assert.Equal((short)ErrorCode.UnknownTopicOrPartition, Assert.Single(v12.Topics).ErrorCode);
        var v1 = await off.CallAsync(Key, 1, Named("fresh"), MetadataResponse.Read); // v1 has no flag: "allowed"
        Assert.Equal((short)ErrorCode.UnknownTopicOrPartition, Assert.Single(v1.Topics).ErrorCode);
        Assert.Null(off.Image.GetTopic("fresh"));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task InvalidNameIsInvalidTopicAndNeverCreated(bool autoCreate)
    {
        using var f = await AdminFixture.StartAsync(new AdminOptions { NodeId = 1, AutoCreateTopicsEnable = autoCreate });
        var response = await f.CallAsync(Key, 9, Named("bad name!", new string('x', 250)), MetadataResponse.Read);
        Assert.Equal(2, response.Topics.Count);
        Assert.All(response.Topics, t => Assert.Equal((short)ErrorCode.InvalidTopicException, t.ErrorCode));
        Assert.Empty(f.Image.TopicsByName);
    }

    [Fact]
    public async Task AutoCreateRefusedByTheControllerReportsItsError()
    {
        using var f = await AdminFixture.StartAsync(new AdminOptions { NodeId = 1, AutoCreateTopicsEnable = true, DefaultReplicationFactor = 3 });
        var response = await f.CallAsync(Key, 9, Named("fresh"), MetadataResponse.Read);
        Assert.Equal((short)ErrorCode.InvalidReplicationFactor, Assert.Single(response.Topics).ErrorCode);
        Assert.Null(f.Image.GetTopic("fresh"));
    }

    [Fact]
    public async Task AllTopicsRequestNeverAutoCreates()
    {
        using var f = await AdminFixture.StartAsync(new AdminOptions { NodeId = 1, AutoCreateTopicsEnable = true });
        var response = await f.CallAsync(Key, 12, AllTopics(12), MetadataResponse.Read);
        Assert.Empty(response.Topics);
        Assert.Empty(f.Image.TopicsByName);
    }

    [Fact]
    public async Task V12LooksTopicsUpById()
    {
        using var f = await AdminFixture.StartAsync();
        var alpha = await f.CreateTopicAsync("alpha");
        var unknown = Guid.NewGuid();
        var request = new MetadataRequest { Topics = new() };
        request.Topics.Add(new MetadataRequest.MetadataRequestTopic { Name = null, TopicId = unknown });
        request.Topics.Add(new MetadataRequest.MetadataRequestTopic { Name = null, TopicId = alpha.TopicId });
        request.Topics.Add(new MetadataRequest.MetadataRequestTopic { Name = "alpha" }); // same topic by name: listed once

        var response = await f.CallAsync(Key, 12, request, MetadataResponse.Read);

        Assert.Equal(2, response.Topics.Count);
        Assert.Equal("alpha", response.Topics[0].Name);
        Assert.Equal(alpha.TopicId, response.Topics[0].TopicId);
        Assert.Single(response.Topics[0].Partitions);
        Assert.Null(response.Topics[1].Name);
        Assert.Equal(unknown, response.Topics[1].TopicId);
        Assert.Equal((short)ErrorCode.UnknownTopicId, response.Topics[1].ErrorCode);
    }

    [Fact]
    public async Task TopicIdsBeforeV12AreInvalidRequests()
    {
        using var f = await AdminFixture.StartAsync();
        var alpha = await f.CreateTopicAsync("alpha");
        var request = new MetadataRequest { Topics = new() };
        request.Topics.Add(new MetadataRequest.MetadataRequestTopic { Name = "alpha", TopicId = alpha.TopicId });
        var response = await f.CallAsync(Key, 11, request, MetadataResponse.Read);
        Assert.Equal((short)ErrorCode.InvalidRequest, Assert.Single(response.Topics).ErrorCode);
    }

    [Fact]
    public async Task BrokersAreListedWithTheEndpointOfTheRequestListener()
    {
        using var f = await AdminFixture.StartAsync();
        await f.RegisterBrokerAsync(2, "rack-b", new BrokerEndpoint("PLAINTEXT", "host2", 9192, 0), new BrokerEndpoint(AdminFixture.External, "broker2.example", 19192, 0));
        await f.RegisterBrokerAsync(3, null, new BrokerEndpoint(AdminFixture.External, "broker3.example", 19292, 0));
        long epoch4 = await f.RegisterBrokerAsync(4, null, new BrokerEndpoint("PLAINTEXT", "host4", 9392, 0));
        Assert.True((await f.Controller.FenceBrokerAsync(4, epoch4)).IsSuccess);

        var plain = await f.CallAsync(Key, 9, AllTopics(9), MetadataResponse.Read);
        Assert.Equal([(1, "localhost", 9092, "rack-a"), (2, "host2", 9192, "rack-b")],
            plain.Brokers.Select(b => (b.NodeId, b.Host, b.Port, b.Rack)));

        var external = await f.CallOnListenerAsync(AdminFixture.External, Key, 9, AllTopics(9), MetadataResponse.Read);
        Assert.Equal([(1, "broker1.example", 19092), (2, "broker2.example", 19192), (3, "broker3.example", 19292)],
            external.Brokers.Select(b => (b.NodeId, b.Host, b.Port)));
        Assert.Equal(1, external.ControllerId);

        var nowhere = await f.CallOnListenerAsync("UNKNOWN_LISTENER", Key, 9, AllTopics(9), MetadataResponse.Read);
        Assert.Empty(nowhere.Brokers);
        Assert.Equal(-1, nowhere.ControllerId);
    }

    [Theory]
    [InlineData(5, ErrorCode.LeaderNotAvailable)]
    [InlineData(6, ErrorCode.ListenerNotFound)]
    [InlineData(12, ErrorCode.ListenerNotFound)]
    public async Task PartitionsWhoseLeaderIsFencedOrUnreachableReportNoLeader(short version, ErrorCode listenerError)
    {
        using var f = await AdminFixture.StartAsync();
        long epoch2 = await f.RegisterBrokerAsync(2, null, new BrokerEndpoint("PLAINTEXT", "host2", 9192, 0));
        await f.RegisterBrokerAsync(3, null, new BrokerEndpoint(AdminFixture.External, "broker3.example", 19292, 0));
        await f.CreateTopicAsync("on-fenced", manual: new Dictionary<int, int[]> { [0] = [2, 1] });
        await f.CreateTopicAsync("external-only", manual: new Dictionary<int, int[]> { [0] = [3] });
        await f.CreateTopicAsync("healthy", manual: new Dictionary<int, int[]> { [0] = [1] });
        Assert.True((await f.Controller.FenceBrokerAsync(2, epoch2)).IsSuccess);

        var response = await f.CallAsync(Key, version, AllTopics(version), MetadataResponse.Read);

        var partitions = response.Topics.ToDictionary(t => t.Name!, t => Assert.Single(t.Partitions));
        Assert.Equal((short)listenerError, partitions["external-only"].ErrorCode);
        Assert.Equal(-1, partitions["external-only"].LeaderId);
        Assert.Equal([3], partitions["external-only"].ReplicaNodes);
        Assert.Equal((short)ErrorCode.LeaderNotAvailable, partitions["on-fenced"].ErrorCode);
        Assert.Equal(-1, partitions["on-fenced"].LeaderId);
        Assert.Equal([2, 1], partitions["on-fenced"].ReplicaNodes);
        Assert.Equal(0, partitions["healthy"].ErrorCode);
        Assert.Equal(1, partitions["healthy"].LeaderId);

        // On the listener broker 3 advertises, its partition is fine.
        var external = await f.CallOnListenerAsync(AdminFixture.External, Key, version, Named("external-only"), MetadataResponse.Read);
        var p = Assert.Single(Assert.Single(external.Topics).Partitions);
        Assert.Equal(0, p.ErrorCode);
        Assert.Equal(3, p.LeaderId);
    }

    [Theory]
    [InlineData(8)]
    [InlineData(10)]
    [InlineData(11)]
    public async Task AuthorizedOperationsOnlyWhenAsked(short version)
    {
        using var f = await AdminFixture.StartAsync();
        await f.CreateTopicAsync("alpha");
        var plain = await f.CallAsync(Key, version, Named("alpha"), MetadataResponse.Read);
        Assert.Equal(int.MinValue, plain.Topics[0].TopicAuthorizedOperations);
        Assert.Equal(int.MinValue, plain.ClusterAuthorizedOperations);

        var asked = Named("alpha");
        asked.IncludeTopicAuthorizedOperations = true;
        asked.IncludeClusterAuthorizedOperations = true;
        var response = await f.CallAsync(Key, version, asked, MetadataResponse.Read);
        Assert.Equal(AuthorizedOperations.AllTopicOperations, response.Topics[0].TopicAuthorizedOperations);
        Assert.Equal(3576, AuthorizedOperations.AllTopicOperations);
        // The cluster field exists in v8-10 only.
        Assert.Equal(version <= 10 ? 8096 : int.MinValue, response.ClusterAuthorizedOperations);
    }
}

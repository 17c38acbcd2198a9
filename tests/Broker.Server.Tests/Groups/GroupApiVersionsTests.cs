using Broker.Consensus;
using Broker.Core.Diagnostics;
using Broker.Core.Model;
using Broker.Groups;
using Broker.Protocol.Messages;
using Broker.Server.Groups;
using Broker.Server.Handlers;
using Broker.Server.Pipeline;
using Broker.Server.Producers;
using Broker.Server.Tests.Harness;
using Broker.Server.Tests.Producers;
using Xunit;

namespace Broker.Server.Tests.Groups;

/// <summary>
/// The version ranges a client learns from ApiVersions for the group and producer-id APIs, read back over the wire
/// from a handler table wired like BrokerNode's (ApiVersionsHandler over the real group handlers and InitProducerId).
/// </summary>
public sealed class GroupApiVersionsTests : IAsyncDisposable
{
    private sealed class NoOffsetsTopic : IOffsetsTopic
    {
        public int PartitionCount => 0;
        public IReplicatedLog? Replica(int partition) => null;
    }

    private readonly GroupCoordinator _coordinator = new(new GroupCoordinatorOptions(), new NoOffsetsTopic(), SystemClock.Instance);
    private readonly ProducerIdManager _producerIds = new(new FakeAllocator(), () => 1, () => 1);
    private readonly HandlerHarness _harness;

    public GroupApiVersionsTests()
    {
        var image = GroupImages.Build([GroupImages.Broker(1)]);
        var creator = new OffsetsTopicCreator(new CapturingTopicAdmin(), new OffsetsTopicSettings { Partitions = 3, ReplicationFactor = 1 });
        var table = new HandlerTable();
        table.Register(new ApiVersionsHandler(table))
            .Register(new FindCoordinatorHandler(() => image, _coordinator.PartitionFor, creator))
            .Register(new JoinGroupHandler(_coordinator))
            .Register(new SyncGroupHandler(_coordinator))
            .Register(new HeartbeatHandler(_coordinator))
            .Register(new LeaveGroupHandler(_coordinator))
            .Register(new OffsetCommitHandler(_coordinator, () => image))
            .Register(new OffsetFetchHandler(_coordinator))
            .Register(new DescribeGroupsHandler(_coordinator))
            .Register(new ListGroupsHandler(_coordinator))
            .Register(new DeleteGroupsHandler(_coordinator))
            .Register(new OffsetDeleteHandler(_coordinator, () => image))
            .Register(new InitProducerIdHandler(_producerIds));
        _harness = new HandlerHarness(new KafkaRequestDispatcher(table));
    }

    public async ValueTask DisposeAsync()
    {
        await _producerIds.DisposeAsync();
        await _coordinator.DisposeAsync();
    }

    public static TheoryData<ApiKey, short, short> Expected => new()
    {
        { ApiKey.FindCoordinator, 0, 4 },
        { ApiKey.JoinGroup, 0, 9 },
        { ApiKey.SyncGroup, 0, 5 },
        { ApiKey.Heartbeat, 0, 4 },
        { ApiKey.LeaveGroup, 0, 5 },
        { ApiKey.OffsetCommit, 0, 9 },
        { ApiKey.OffsetFetch, 0, 9 },
        { ApiKey.DescribeGroups, 0, 5 },
        { ApiKey.ListGroups, 0, 4 },
        { ApiKey.DeleteGroups, 0, 2 },
        { ApiKey.OffsetDelete, 0, 0 },
        { ApiKey.InitProducerId, 0, 4 },
    };

    [Theory]
    [MemberData(nameof(Expected))]
    public async Task ApiVersions_advertises_the_range_of_each_group_and_producer_api(ApiKey key, short min, short max)
    {
        var response = await _harness.CallAsync(18, 3, new ApiVersionsRequest { ClientSoftwareName = "t", ClientSoftwareVersion = "1" }, ApiVersionsResponse.Read);
        Assert.Equal((short)ErrorCode.None, response.ErrorCode);
        var entry = Assert.Single(response.ApiKeys, k => k.ApiKey == (short)key);
        Assert.Equal(((short)key, min, max), (entry.ApiKey, entry.MinVersion, entry.MaxVersion));
    }

    [Fact]
    public async Task ApiVersions_lists_exactly_the_registered_apis()
    {
        var response = await _harness.CallAsync(18, 0, new ApiVersionsRequest(), ApiVersionsResponse.Read);
        var keys = response.ApiKeys.Select(k => k.ApiKey).Order().ToArray();
        var expected = Expected.Select(row => (short)(ApiKey)row[0]).Append((short)ApiKey.ApiVersions).Order().ToArray();
        Assert.Equal(expected, keys);
    }
}

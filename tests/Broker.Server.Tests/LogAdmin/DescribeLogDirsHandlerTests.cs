using Broker.Core.Model;
using Broker.Protocol.Messages;
using Xunit;

namespace Broker.Server.Tests.LogAdmin;

/// <summary>DescribeLogDirs v0-4: the local replicas per log directory, sizes, filters and file-system space.</summary>
public sealed class DescribeLogDirsHandlerTests : IAsyncLifetime
{
    private LogAdminFixture _fixture = null!;

    public async Task InitializeAsync()
    {
        _fixture = await LogAdminFixture.StartAsync(1);
        _fixture.CreateTopic("events", partitions: 2);
        _fixture.CreateTopic("audit");
    }

    public async Task DisposeAsync() => await _fixture.DisposeAsync();

    private Task<DescribeLogDirsResponse> DescribeAsync(short version, List<DescribeLogDirsRequest.DescribableLogDirTopic>? topics) =>
        _fixture.NodeById(1).Harness.CallAsync((short)ApiKey.DescribeLogDirs, version,
            new DescribeLogDirsRequest { Topics = topics }, DescribeLogDirsResponse.Read);

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public async Task Every_local_replica_is_listed_under_its_directory_with_its_size(short version)
    {
        await _fixture.ProduceAsync("events", batches: 3, records: 2, partition: 1);
        var response = await DescribeAsync(version, null);
        Assert.Equal(0, response.ErrorCode);
        Assert.Equal(2, response.Results.Count);
        var data = response.Results[0];
        Assert.Equal((0, _fixture.NodeById(1).Logs.LogDir), (data.ErrorCode, data.LogDir));
        Assert.Equal(["audit", "events"], data.Topics.Select(t => t.Name));
        var events = data.Topics[1].Partitions;
        Assert.Equal([0, 1], events.Select(p => p.PartitionIndex));
        Assert.True(_fixture.NodeById(1).Partitions.TryGetPartition("events", 1, out var state));
        Assert.Equal(state.Log.SizeInBytes, events[1].PartitionSize);
        Assert.True(events[1].PartitionSize > 0);
        Assert.Equal(0, events[0].PartitionSize);
        Assert.All(events, p => Assert.Equal((0L, false), (p.OffsetLag, p.IsFutureKey)));
        Assert.Empty(response.Results[1].Topics); // the second log directory holds nothing

        if (version >= 4)
        {
            Assert.True(data.TotalBytes > 0);
            Assert.InRange(data.UsableBytes, 0, data.TotalBytes);
        }
        else Assert.Equal((-1L, -1L), (data.TotalBytes, data.UsableBytes)); // not on the wire before v4
    }

    [Fact]
    public async Task Named_topics_and_partitions_filter_the_answer()
    {
        var response = await DescribeAsync(2,
        [
            new() { Topic = "events", Partitions = [1, 7] },
            new() { Topic = "missing", Partitions = [0] },
        ]);
        var data = response.Results[0];
        var topic = Assert.Single(data.Topics);
        Assert.Equal("events", topic.Name);
        Assert.Equal(1, Assert.Single(topic.Partitions).PartitionIndex);

        var none = await DescribeAsync(4, []);
        Assert.All(none.Results, r => Assert.Empty(r.Topics));
    }
}

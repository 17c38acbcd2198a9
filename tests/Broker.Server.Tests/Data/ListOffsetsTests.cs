using Broker.Core.Model;
using Broker.Protocol.Messages;
using Xunit;

namespace Broker.Server.Tests.Data;

public sealed class ListOffsetsTests : IDisposable
{
    private readonly DataFixture _f = new();

    public void Dispose() => _f.Dispose();

    /// <summary>Offsets 0-2 at 1000-1002; 3-5 at 2000, 5000, 3000 (the max sits mid-batch, at offset 4); 6 at 4000.</summary>
    private async Task ProduceTimeline(string topic)
    {
        await _f.ProduceAsync(topic, 0, TestBatches.Build(3, baseTimestamp: 1000));
        await _f.ProduceAsync(topic, 0, TestBatches.Build(3, timestamps: [2000, 5000, 3000]));
        await _f.ProduceAsync(topic, 0, TestBatches.Build(1, timestamps: [4000]));
    }

    [Theory]
    [InlineData(-2, 0, -1)]
    [InlineData(-4, 0, -1)]
    [InlineData(-1, 7, -1)]
    [InlineData(-3, 4, 5000)]
    [InlineData(0, 0, 1000)]
    [InlineData(1001, 1, 1001)]
    [InlineData(1500, 3, 2000)]
    [InlineData(2500, 4, 5000)]
    [InlineData(4000, 4, 5000)]
    [InlineData(5000, 4, 5000)]
    public async Task ResolvesSpecialAndRealTimestamps(long timestamp, long offset, long expectedTimestamp)
    {
        _f.CreateTopic("t", leaderEpoch: 2);
        await ProduceTimeline("t");
        var r = await _f.ListOffsetAsync("t", 0, timestamp);
        Assert.Equal((short)ErrorCode.None, r.ErrorCode);
        Assert.Equal(offset, r.Offset);
        Assert.Equal(expectedTimestamp, r.Timestamp);
        Assert.Equal(2, r.LeaderEpoch);
    }

    [Fact]
    public async Task NothingLateEnoughIsMinusOne()
    {
        _f.CreateTopic("t");
        await ProduceTimeline("t");
        var r = await _f.ListOffsetAsync("t", 0, 6000);
        Assert.Equal((short)ErrorCode.None, r.ErrorCode);
        Assert.Equal(-1, r.Offset);
        Assert.Equal(-1, r.Timestamp);
        Assert.Equal(-1, r.LeaderEpoch);
    }

    [Fact]
    public async Task EmptyLog()
    {
        _f.CreateTopic("t");
        Assert.Equal(0, (await _f.ListOffsetAsync("t", 0, -2)).Offset);
        Assert.Equal(0, (await _f.ListOffsetAsync("t", 0, -1)).Offset);
        var max = await _f.ListOffsetAsync("t", 0, -3);
        Assert.Equal((-1L, -1L), (max.Offset, max.Timestamp));
        Assert.Equal(-1, (await _f.ListOffsetAsync("t", 0, 0)).Offset);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    [InlineData(7)]
    public async Task EveryVersionDecodesCleanly(short version)
    {
        _f.CreateTopic("t");
        await ProduceTimeline("t");
        var latest = await _f.ListOffsetAsync("t", 0, -1, version);
        Assert.Equal(7, latest.Offset);
        Assert.Equal(version >= 4 ? 0 : -1, latest.LeaderEpoch);
        Assert.Equal(3, (await _f.ListOffsetAsync("t", 0, 1500, version)).Offset);
    }

    [Fact]
    public async Task MaxTimestampOfCompressedOrLogAppendTimeBatchesIsTheBatchBaseOffset()
    {
        _f.CreateTopic("lat", configs: new() { ["message.timestamp.type"] = "LogAppendTime" });
        await _f.ProduceAsync("lat", 0, TestBatches.Build(2));
        _f.Clock.Now += 10;
        await _f.ProduceAsync("lat", 0, TestBatches.Build(3));
        var r = await _f.ListOffsetAsync("lat", 0, -3);
        Assert.Equal(2, r.Offset);
        Assert.Equal(DataFixture.StartTime + 10, r.Timestamp);
    }

    [Fact]
    public async Task ErrorsPerPartition()
    {
        _f.CreateTopic("t", leaderEpoch: 5);
        _f.CreateTopic("follower", leader: 2, replicas: [2, DataFixture.NodeId]);
        Assert.Equal((short)ErrorCode.UnknownTopicOrPartition, (await _f.ListOffsetAsync("nope", 0, -1)).ErrorCode);
        Assert.Equal((short)ErrorCode.UnknownTopicOrPartition, (await _f.ListOffsetAsync("t", 9, -1)).ErrorCode);
        Assert.Equal((short)ErrorCode.NotLeaderOrFollower, (await _f.ListOffsetAsync("follower", 0, -1)).ErrorCode);
        Assert.Equal((short)ErrorCode.FencedLeaderEpoch, (await _f.ListOffsetAsync("t", 0, -1, currentLeaderEpoch: 4)).ErrorCode);
        Assert.Equal((short)ErrorCode.UnknownLeaderEpoch, (await _f.ListOffsetAsync("t", 0, -1, currentLeaderEpoch: 6)).ErrorCode);
        Assert.Equal((short)ErrorCode.None, (await _f.ListOffsetAsync("t", 0, -1, currentLeaderEpoch: 5)).ErrorCode);
        Assert.Equal((short)ErrorCode.None, (await _f.ListOffsetAsync("t", 0, -1, version: 3, currentLeaderEpoch: 4)).ErrorCode);
    }

    [Fact]
    public async Task DuplicatePartitionsAreInvalidRequest()
    {
        _f.CreateTopic("t", partitions: 2);
        var request = new ListOffsetsRequest
        {
            ReplicaId = -1,
            Topics =
            [
                new ListOffsetsRequest.ListOffsetsTopic { Name = "t", Partitions = [new() { PartitionIndex = 0, Timestamp = -1 }, new() { PartitionIndex = 1, Timestamp = -1 }] },
                new ListOffsetsRequest.ListOffsetsTopic { Name = "t", Partitions = [new() { PartitionIndex = 0, Timestamp = -2 }] },
            ],
        };
        var response = await _f.Harness.CallAsync(2, 7, request, ListOffsetsResponse.Read);
        Assert.Equal((short)ErrorCode.InvalidRequest, response.Topics[0].Partitions[0].ErrorCode);
        Assert.Equal((short)ErrorCode.None, response.Topics[0].Partitions[1].ErrorCode);
        Assert.Equal((short)ErrorCode.InvalidRequest, response.Topics[1].Partitions[0].ErrorCode);
    }
}

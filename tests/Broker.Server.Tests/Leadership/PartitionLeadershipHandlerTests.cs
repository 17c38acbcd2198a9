using Broker.Core.Model;
using Broker.Protocol.Messages;
using Broker.Server.Tests.Harness;
using Xunit;

namespace Broker.Server.Tests.Leadership;

public class PartitionLeadershipHandlerTests
{
    private static PartitionLeadershipRequest Request(int broker, long epoch, params (Guid Topic, int Partition, int Leader, int Epoch, int[] Isr)[] reports)
    {
        var request = new PartitionLeadershipRequest { BrokerId = broker, BrokerEpoch = epoch };
        foreach (var r in reports)
        {
            var topic = request.Topics.Find(t => t.TopicId == r.Topic);
            if (topic is null) request.Topics.Add(topic = new PartitionLeadershipRequest.TopicData { TopicId = r.Topic });
            topic.Partitions.Add(new PartitionLeadershipRequest.PartitionData
            {
                PartitionIndex = r.Partition, Leader = r.Leader, LeaderEpoch = r.Epoch, Isr = [.. r.Isr],
            });
        }
        return request;
    }

    private static Task<PartitionLeadershipResponse> CallAsync(HandlerHarness harness, PartitionLeadershipRequest request) =>
        harness.CallAsync(PartitionLeadershipRequest.ApiKey, 0, request, PartitionLeadershipResponse.Read);

    [Fact]
    public async Task A_leader_report_is_recorded_in_the_metadata_image()
    {
        await using var f = await LeadershipFixture.StartAsync();
        var response = await CallAsync(f.Harness, Request(2, f.Broker2Epoch, (f.TopicId, 0, 2, 5, [3, 2])));
        Assert.Equal(0, response.ErrorCode);
        var partition = Assert.Single(Assert.Single(response.Topics).Partitions);
        Assert.Equal((0, (short)0), (partition.PartitionIndex, partition.ErrorCode));

        var image = f.Partition(0);
        Assert.Equal((2, 5), (image.Leader, image.LeaderEpoch));
        Assert.Equal(new[] { 3, 2 }, image.Isr);
    }

    [Fact]
    public async Task Per_partition_errors_mirror_the_request_layout()
    {
        await using var f = await LeadershipFixture.StartAsync();
        var unknown = Guid.NewGuid();
        var response = await CallAsync(f.Harness, Request(2, f.Broker2Epoch,
            (f.TopicId, 1, 2, 3, [2]),      // accepted
            (unknown, 0, 2, 3, [2]),        // unknown topic id
            (f.TopicId, 0, 2, 3, [2, 7]),   // 7 is not a replica
            (f.TopicId, 9, 2, 3, [2])));    // no such partition
        Assert.Equal(0, response.ErrorCode);
        Assert.Equal([f.TopicId, unknown], response.Topics.Select(t => t.TopicId));
        Assert.Equal([(1, ErrorCode.None), (0, ErrorCode.InvalidRequest), (9, ErrorCode.UnknownTopicOrPartition)],
            response.Topics[0].Partitions.Select(p => (p.PartitionIndex, (ErrorCode)p.ErrorCode)));
        Assert.Equal(ErrorCode.UnknownTopicId, (ErrorCode)Assert.Single(response.Topics[1].Partitions).ErrorCode);
        Assert.Equal((2, 3), (f.Partition(1).Leader, f.Partition(1).LeaderEpoch));
        Assert.Equal((1, 0), (f.Partition(0).Leader, f.Partition(0).LeaderEpoch));
    }

    [Fact]
    public async Task A_stale_broker_epoch_fails_the_whole_request()
    {
        await using var f = await LeadershipFixture.StartAsync();
        var response = await CallAsync(f.Harness, Request(2, f.Broker2Epoch - 1, (f.TopicId, 0, 2, 5, [2]), (f.TopicId, 1, 2, 5, [2])));
        Assert.Equal(ErrorCode.StaleBrokerEpoch, (ErrorCode)response.ErrorCode);
        Assert.All(response.Topics[0].Partitions, p => Assert.Equal(ErrorCode.StaleBrokerEpoch, (ErrorCode)p.ErrorCode));
        Assert.Equal(1, f.Partition(0).Leader);
    }

    [Fact]
    public async Task Without_an_active_controller_the_answer_is_not_controller()
    {
        await using var f = await LeadershipFixture.StartAsync();
        var harness = new HandlerHarness(LeadershipFixture.Serve(() => null));
        var response = await CallAsync(harness, Request(2, f.Broker2Epoch, (f.TopicId, 0, 2, 5, [2])));
        Assert.Equal(ErrorCode.NotController, (ErrorCode)response.ErrorCode);
        Assert.Equal(ErrorCode.NotController, (ErrorCode)Assert.Single(Assert.Single(response.Topics).Partitions).ErrorCode);
        Assert.Equal(1, f.Partition(0).Leader);
    }

    [Fact]
    public async Task An_empty_report_is_answered_without_writing()
    {
        await using var f = await LeadershipFixture.StartAsync();
        long offset = f.Image.LastAppliedOffset;
        var response = await CallAsync(f.Harness, Request(2, f.Broker2Epoch));
        Assert.Equal(0, response.ErrorCode);
        Assert.Empty(response.Topics);
        Assert.Equal(offset, f.Image.LastAppliedOffset);
    }
}

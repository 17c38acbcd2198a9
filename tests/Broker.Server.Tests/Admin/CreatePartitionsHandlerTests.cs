using Broker.Core.Model;
using Broker.Protocol.Messages;
using Xunit;

namespace Broker.Server.Tests.Admin;

public class CreatePartitionsHandlerTests
{
    private const short Key = 37;

    private static CreatePartitionsRequest Request(params (string Name, int Count)[] topics)
    {
        var request = new CreatePartitionsRequest { TimeoutMs = 10_000 };
        foreach (var (name, count) in topics)
            request.Topics.Add(new CreatePartitionsRequest.CreatePartitionsTopic { Name = name, Count = count, Assignments = null });
        return request;
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task GrowsButNeverShrinks(short version)
    {
        using var f = await AdminFixture.StartAsync();
        await f.CreateTopicAsync("grow");
        await f.CreateTopicAsync("shrink", partitions: 3);
        await f.CreateTopicAsync("same", partitions: 2);

        var response = await f.CallAsync(Key, version, Request(("grow", 3), ("shrink", 2), ("same", 2), ("ghost", 4)), CreatePartitionsResponse.Read);

        Assert.Equal(["grow", "shrink", "same", "ghost"], response.Results.Select(r => r.Name));
        Assert.Equal(
            [ErrorCode.None, ErrorCode.InvalidPartitions, ErrorCode.InvalidPartitions, ErrorCode.UnknownTopicOrPartition],
            response.Results.Select(r => (ErrorCode)r.ErrorCode));
        Assert.Null(response.Results[0].ErrorMessage);
        Assert.Contains("3", response.Results[1].ErrorMessage);
        Assert.Equal(3, f.Image.GetTopic("grow")!.PartitionCount);
        Assert.Equal(3, f.Image.GetTopic("shrink")!.PartitionCount);
        Assert.Equal(1, f.Image.GetTopic("grow")!.GetPartition(2)!.Leader);
    }

    [Fact]
    public async Task ValidateOnlyChangesNothing()
    {
        using var f = await AdminFixture.StartAsync();
        await f.CreateTopicAsync("t");
        var request = Request(("t", 5));
        request.ValidateOnly = true;
        var response = await f.CallAsync(Key, 3, request, CreatePartitionsResponse.Read);
        Assert.Equal(0, Assert.Single(response.Results).ErrorCode);
        Assert.Equal(1, f.Image.GetTopic("t")!.PartitionCount);
    }

    [Fact]
    public async Task DuplicatesAreOneInvalidRequest()
    {
        using var f = await AdminFixture.StartAsync();
        await f.CreateTopicAsync("t");
        var response = await f.CallAsync(Key, 2, Request(("t", 2), ("t", 3)), CreatePartitionsResponse.Read);
        var result = Assert.Single(response.Results);
        Assert.Equal((short)ErrorCode.InvalidRequest, result.ErrorCode);
        Assert.Equal(1, f.Image.GetTopic("t")!.PartitionCount);
    }

    [Fact]
    public async Task ManualAssignmentsAreChecked()
    {
        using var f = await AdminFixture.StartAsync();
        await f.CreateTopicAsync("manual");
        await f.CreateTopicAsync("short");
        var request = new CreatePartitionsRequest { TimeoutMs = 10_000 };
        request.Topics.Add(new CreatePartitionsRequest.CreatePartitionsTopic
        {
            Name = "manual", Count = 3,
            Assignments = [new() { BrokerIds = [1] }, new() { BrokerIds = [1] }],
        });
        request.Topics.Add(new CreatePartitionsRequest.CreatePartitionsTopic
        {
            Name = "short", Count = 3,
            Assignments = [new() { BrokerIds = [1] }],
        });
        var response = await f.CallAsync(Key, 3, request, CreatePartitionsResponse.Read);
        Assert.Equal(0, response.Results[0].ErrorCode);
        Assert.Equal((short)ErrorCode.InvalidReplicaAssignment, response.Results[1].ErrorCode);
        Assert.Equal(3, f.Image.GetTopic("manual")!.PartitionCount);
        Assert.Equal(1, f.Image.GetTopic("short")!.PartitionCount);
    }
}

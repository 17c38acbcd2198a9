using Broker.Core.Model;
using Broker.Protocol.Messages;
using Xunit;

namespace Broker.Server.Tests.Admin;

public class DeleteTopicsHandlerTests
{
    private const short Key = 20;

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    [InlineData(5)]
    public async Task DeletesByName(short version)
    {
        using var f = await AdminFixture.StartAsync();
        await f.CreateTopicAsync("doomed", partitions: 2);
        await f.CreateTopicAsync("kept");

        var response = await f.CallAsync(Key, version,
            new DeleteTopicsRequest { TopicNames = ["doomed", "never-was", "doomed"], TimeoutMs = 10_000 }, DeleteTopicsResponse.Read);

        Assert.Equal(["doomed", "never-was"], response.Responses.Select(r => r.Name));
        Assert.Equal((short)ErrorCode.InvalidRequest, response.Responses[0].ErrorCode); // named twice: refused
        Assert.Equal((short)ErrorCode.UnknownTopicOrPartition, response.Responses[1].ErrorCode);
        Assert.Equal(version >= 5, response.Responses[1].ErrorMessage is not null);
        Assert.NotNull(f.Image.GetTopic("doomed"));

        var second = await f.CallAsync(Key, version, new DeleteTopicsRequest { TopicNames = ["doomed"], TimeoutMs = 10_000 }, DeleteTopicsResponse.Read);
        var result = Assert.Single(second.Responses);
        Assert.Equal(0, result.ErrorCode);
        Assert.Null(result.ErrorMessage);
        Assert.Null(f.Image.GetTopic("doomed"));
        Assert.NotNull(f.Image.GetTopic("kept"));
    }

    [Fact]
    public async Task V6DeletesByIdOrName()
    {
        using var f = await AdminFixture.StartAsync();
        var byId = await f.CreateTopicAsync("by-id");
        var byName = await f.CreateTopicAsync("by-name");
        var both = await f.CreateTopicAsync("both");
        var unknown = Guid.NewGuid();

        var request = new DeleteTopicsRequest
        {
            Topics =
            [
                new DeleteTopicsRequest.DeleteTopicState { Name = null, TopicId = byId.TopicId },
                new DeleteTopicsRequest.DeleteTopicState { Name = "by-name" },
                new DeleteTopicsRequest.DeleteTopicState { Name = null, TopicId = unknown },
                new DeleteTopicsRequest.DeleteTopicState { Name = "both", TopicId = both.TopicId },
            ],
            TimeoutMs = 10_000,
        };
        var response = await f.CallAsync(Key, 6, request, DeleteTopicsResponse.Read);

        Assert.Equal(4, response.Responses.Count);
        var r = response.Responses;
        Assert.Equal(("by-id", byId.TopicId, (short)0), (r[0].Name, r[0].TopicId, r[0].ErrorCode));
        Assert.Equal(("by-name", byName.TopicId, (short)0), (r[1].Name, r[1].TopicId, r[1].ErrorCode));
        Assert.Equal((null, unknown, (short)ErrorCode.UnknownTopicId), (r[2].Name, r[2].TopicId, r[2].ErrorCode));
        Assert.Equal((short)ErrorCode.InvalidRequest, r[3].ErrorCode);
        Assert.Null(f.Image.GetTopic("by-id"));
        Assert.Null(f.Image.GetTopic("by-name"));
        Assert.NotNull(f.Image.GetTopic("both"));
    }

    [Fact]
    public async Task DeletionDisabledIsReported()
    {
        using var f = await AdminFixture.StartAsync(controllerOptions: new Broker.Metadata.Controller.ControllerOptions { NodeId = 1, DeleteTopicEnable = false });
        await f.CreateTopicAsync("stays");
        var response = await f.CallAsync(Key, 6,
            new DeleteTopicsRequest { Topics = [new DeleteTopicsRequest.DeleteTopicState { Name = "stays" }], TimeoutMs = 1000 }, DeleteTopicsResponse.Read);
        Assert.Equal((short)ErrorCode.TopicDeletionDisabled, Assert.Single(response.Responses).ErrorCode);
        Assert.NotNull(f.Image.GetTopic("stays"));
    }
}

using Broker.Core.Model;
using Broker.Protocol.Messages;
using Xunit;

namespace Broker.Server.Tests.Configs;

public class IncrementalAlterConfigsHandlerTests
{
    private const short Key = 44;
    private const sbyte Set = 0, Delete = 1, Append = 2, Subtract = 3;

    private static IncrementalAlterConfigsRequest.AlterConfigsResource Resource(sbyte type, string name, params (string Name, sbyte Op, string? Value)[] configs) => new()
    {
        ResourceType = type,
        ResourceName = name,
        Configs = [.. configs.Select(c => new IncrementalAlterConfigsRequest.AlterableConfig { Name = c.Name, ConfigOperation = c.Op, Value = c.Value })],
    };

    private static async Task<List<IncrementalAlterConfigsResponse.AlterConfigsResourceResponse>> AlterAsync(ConfigsFixture f, short version,
        bool validateOnly, params IncrementalAlterConfigsRequest.AlterConfigsResource[] resources)
    {
        var response = await f.CallAsync(Key, version, new IncrementalAlterConfigsRequest { Resources = [.. resources], ValidateOnly = validateOnly },
            IncrementalAlterConfigsResponse.Read);
        return response.Responses;
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public async Task Set_delete_append_and_subtract_on_a_topic(short version)
    {
        using var f = await ConfigsFixture.StartAsync();
        await f.CreateTopicAsync("t", configs: new() { ["retention.ms"] = "5000", ["segment.bytes"] = "4096" });

        // APPEND starts from the inherited value (the broker default "delete"); keys not named are kept.
        var r = Assert.Single(await AlterAsync(f, version, false,
            Resource(2, "t", ("cleanup.policy", Append, "compact"), ("retention.ms", Delete, null), ("retention.bytes", Set, "200000"))));
        Assert.Equal((0, (string?)null, "t"), (r.ErrorCode, r.ErrorMessage, r.ResourceName));
        Assert.Equal(new Dictionary<string, string> { ["cleanup.policy"] = "delete,compact", ["segment.bytes"] = "4096", ["retention.bytes"] = "200000" },
            f.Image.GetTopic("t")!.Configs);
        Assert.True(f.Partition("t").Log.Options.Compact);

        // Appending an item already there changes nothing; SUBTRACT removes items.
        await AlterAsync(f, version, false, Resource(2, "t", ("cleanup.policy", Append, "compact")));
        Assert.Equal("delete,compact", f.Image.GetTopic("t")!.Configs["cleanup.policy"]);
        await AlterAsync(f, version, false, Resource(2, "t", ("cleanup.policy", Subtract, "delete")));
        Assert.Equal("compact", f.Image.GetTopic("t")!.Configs["cleanup.policy"]);
        Assert.Equal(-1, f.Partition("t").Log.Options.RetentionMs);
    }

    [Fact]
    public async Task Broker_resources_change_dynamic_broker_configs()
    {
        using var f = await ConfigsFixture.StartAsync();
        var results = await AlterAsync(f, 1, false,
            Resource(4, "", ("log.cleanup.policy", Append, "compact"), ("log.retention.ms", Set, "60000")),
            Resource(4, "1", ("num.partitions", Set, "2")));
        Assert.All(results, r => Assert.Equal(0, r.ErrorCode));
        Assert.Equal(new Dictionary<string, string> { ["log.cleanup.policy"] = "delete,compact", ["log.retention.ms"] = "60000" }, f.Image.GetBrokerConfigs(""));
        Assert.Equal("2", f.Image.GetBrokerConfigs("1")["num.partitions"]);

        await AlterAsync(f, 1, false, Resource(4, "", ("log.retention.ms", Delete, null)));
        Assert.False(f.Image.GetBrokerConfigs("").ContainsKey("log.retention.ms"));
    }

    [Fact]
    public async Task Refusals_name_the_key_and_leave_everything_unchanged()
    {
        using var f = await ConfigsFixture.StartAsync();
        await f.CreateTopicAsync("t");
        long offset = f.Image.LastAppliedOffset;
        var results = await AlterAsync(f, 1, false,
            Resource(2, "t", ("retention.ms", Append, "5")),
            Resource(2, "t2", ("retention.ms", Set, "5")),
            Resource(4, "", ("log.dirs", Set, "/tmp/x")),
            Resource(2, "t", ("retention.ms", Set, "-7")),
            Resource(4, "1", ("num.partitions", 9, "1")),
            Resource(4, "1", ("num.partitions", Set, null)),
            Resource(2, "t", ("cleanup.policy", Set, "compact"), ("cleanup.policy", Delete, null)),
            Resource(4, "1", ("bogus.key", Set, "1")));
        Assert.Equal(
            [ErrorCode.InvalidConfig, ErrorCode.UnknownTopicOrPartition, ErrorCode.InvalidRequest, ErrorCode.InvalidConfig,
             ErrorCode.InvalidRequest, ErrorCode.InvalidRequest, ErrorCode.InvalidRequest, ErrorCode.InvalidConfig],
            results.Select(r => (ErrorCode)r.ErrorCode));
        Assert.Contains("retention.ms", results[0].ErrorMessage);
        Assert.Equal("Cannot update these configs dynamically: log.dirs", results[2].ErrorMessage);
        Assert.Contains("-7", results[3].ErrorMessage);
        Assert.Contains("bogus.key", results[7].ErrorMessage);
        Assert.Equal(offset, f.Image.LastAppliedOffset);
    }

    [Fact]
    public async Task Validate_only_writes_nothing()
    {
        using var f = await ConfigsFixture.StartAsync();
        await f.CreateTopicAsync("t");
        long offset = f.Image.LastAppliedOffset;
        var r = Assert.Single(await AlterAsync(f, 0, true, Resource(2, "t", ("retention.ms", Set, "1"))));
        Assert.Equal(0, r.ErrorCode);
        Assert.Equal(offset, f.Image.LastAppliedOffset);
        Assert.Empty(f.Image.GetTopic("t")!.Configs);
    }
}

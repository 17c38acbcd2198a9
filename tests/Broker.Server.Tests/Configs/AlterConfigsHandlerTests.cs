using Broker.Core.Model;
using Broker.Protocol.Messages;
using Xunit;

namespace Broker.Server.Tests.Configs;

public class AlterConfigsHandlerTests
{
    private const short Key = 33;

    private static AlterConfigsRequest.AlterConfigsResource Resource(sbyte type, string name, params (string Name, string? Value)[] configs) => new()
    {
        ResourceType = type,
        ResourceName = name,
        Configs = [.. configs.Select(c => new AlterConfigsRequest.AlterableConfig { Name = c.Name, Value = c.Value })],
    };

    private static async Task<List<AlterConfigsResponse.AlterConfigsResourceResponse>> AlterAsync(ConfigsFixture f, short version,
        bool validateOnly, params AlterConfigsRequest.AlterConfigsResource[] resources)
    {
        var response = await f.CallAsync(Key, version, new AlterConfigsRequest { Resources = [.. resources], ValidateOnly = validateOnly },
            AlterConfigsResponse.Read);
        Assert.Equal(0, response.ThrottleTimeMs);
        return response.Responses;
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    public async Task The_request_replaces_a_topics_whole_dynamic_set(short version)
    {
        using var f = await ConfigsFixture.StartAsync();
        await f.CreateTopicAsync("t", configs: new() { ["retention.ms"] = "5000", ["cleanup.policy"] = "compact" });

        Assert.Equal(-1, f.Partition("t").Log.Options.RetentionMs);   // compact only: no retention

        var results = await AlterAsync(f, version, false, Resource(2, "t", ("segment.bytes", "4096"), ("retention.bytes", "100000"), ("flush.ms", null)));
        var r = Assert.Single(results);
        Assert.Equal((0, (string?)null, (sbyte)2, "t"), (r.ErrorCode, r.ErrorMessage, r.ResourceType, r.ResourceName));
        Assert.Equal(new Dictionary<string, string> { ["segment.bytes"] = "4096", ["retention.bytes"] = "100000" }, f.Image.GetTopic("t")!.Configs);
        // The open log follows at once: back to the delete policy with the broker's retention (100 hours).
        var options = f.Partition("t").Log.Options;
        Assert.Equal((4096L, 360_000_000L, 100_000L, false), (options.SegmentBytes, options.RetentionMs, options.RetentionBytes, options.Compact));
    }

    [Fact]
    public async Task Bad_entries_fail_their_resource_only_with_kafka_errors()
    {
        using var f = await ConfigsFixture.StartAsync();
        await f.CreateTopicAsync("t", configs: new() { ["retention.ms"] = "5000" });
        await f.CreateTopicAsync("u");

        var results = await AlterAsync(f, 1, false,
            Resource(2, "ghost", ("retention.ms", "1")),
            Resource(2, "t", ("retention.ms", "1"), ("no.such.config", "1")),
            Resource(2, "u", ("retention.ms", "soon")),
            Resource(4, "1", ("listeners", "PLAINTEXT://:9999"), ("node.id", "7"), ("log.retention.ms", "1000")),
            Resource(4, "", ("log.retention.ms", "1000")),
            Resource(2, "u", ("retention.bytes", "1"), ("retention.bytes", "2")));

        Assert.Equal(
            [ErrorCode.UnknownTopicOrPartition, ErrorCode.InvalidConfig, ErrorCode.InvalidConfig, ErrorCode.InvalidRequest, ErrorCode.None, ErrorCode.InvalidRequest],
            results.Select(r => (ErrorCode)r.ErrorCode));
        Assert.Contains("no.such.config", results[1].ErrorMessage);
        Assert.Contains("retention.ms", results[2].ErrorMessage);
        Assert.Equal("Cannot update these configs dynamically: listeners, node.id", results[3].ErrorMessage);
        Assert.Contains("duplicate", results[5].ErrorMessage);
        Assert.Equal("5000", f.Image.GetTopic("t")!.Configs["retention.ms"]);
        Assert.Empty(f.Image.GetTopic("u")!.Configs);
        Assert.Equal("1000", f.Image.GetBrokerConfigs("")["log.retention.ms"]);
        Assert.Empty(f.Image.GetBrokerConfigs("1"));
    }

    [Fact]
    public async Task Validate_only_checks_without_writing()
    {
        using var f = await ConfigsFixture.StartAsync();
        await f.CreateTopicAsync("t");
        long offset = f.Image.LastAppliedOffset;
        var results = await AlterAsync(f, 2, true, Resource(2, "t", ("retention.ms", "1")), Resource(4, "", ("num.partitions", "4")),
            Resource(4, "", ("process.roles", "broker")));
        Assert.Equal([ErrorCode.None, ErrorCode.InvalidRequest, ErrorCode.InvalidRequest], results.Select(r => (ErrorCode)r.ErrorCode));
        Assert.Contains("more than once", results[1].ErrorMessage);
        Assert.Equal(offset, f.Image.LastAppliedOffset);
        Assert.Empty(f.Image.GetTopic("t")!.Configs);
    }

    [Fact]
    public async Task An_empty_set_clears_a_broker_resource()
    {
        using var f = await ConfigsFixture.StartAsync();
        await f.AlterAsync(Metadata.Records.ConfigResourceType.Broker, "", new() { ["num.partitions"] = "3", ["log.retention.ms"] = "1000" });
        var results = await AlterAsync(f, 0, false, Resource(4, "", ("num.partitions", "2")));
        Assert.Equal(0, Assert.Single(results).ErrorCode);
        Assert.Equal(new Dictionary<string, string> { ["num.partitions"] = "2" }, f.Image.GetBrokerConfigs(""));
        await AlterAsync(f, 0, false, Resource(4, ""));
        Assert.Empty(f.Image.GetBrokerConfigs(""));
    }

    [Fact]
    public async Task Unsupported_resource_types_are_invalid_requests()
    {
        using var f = await ConfigsFixture.StartAsync();
        var results = await AlterAsync(f, 1, false, Resource(8, "root", ("x", "INFO")), Resource(4, "x1", ("log.retention.ms", "1")));
        Assert.All(results, r => Assert.Equal((short)ErrorCode.InvalidRequest, r.ErrorCode));
        Assert.Equal([(sbyte)8, (sbyte)4], results.Select(r => r.ResourceType));
    }
}

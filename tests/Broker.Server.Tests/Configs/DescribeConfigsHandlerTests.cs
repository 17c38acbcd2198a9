using Broker.Core.Model;
using Broker.Metadata.Records;
using Broker.Protocol.Messages;
using Broker.Server.Admin;
using Xunit;

namespace Broker.Server.Tests.Configs;

public class DescribeConfigsHandlerTests
{
    private const short Key = 32;

    private static DescribeConfigsRequest Request(sbyte type, string name, List<string>? keys = null, bool synonyms = false, bool docs = false) => new()
    {
        Resources = [new DescribeConfigsRequest.DescribeConfigsResource { ResourceType = type, ResourceName = name, ConfigurationKeys = keys }],
        IncludeSynonyms = synonyms,
        IncludeDocumentation = docs,
    };

    private static async Task<DescribeConfigsResponse.DescribeConfigsResult> DescribeAsync(ConfigsFixture f, short version, DescribeConfigsRequest request)
    {
        var response = await f.CallAsync(Key, version, request, DescribeConfigsResponse.Read);
        return Assert.Single(response.Results);
    }

    private static DescribeConfigsResponse.DescribeConfigsResourceResult Entry(DescribeConfigsResponse.DescribeConfigsResult r, string name) =>
        Assert.Single(r.Configs, c => c.Name == name);

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public async Task Topic_configs_report_own_values_and_inherited_defaults_with_their_sources(short version)
    {
        using var f = await ConfigsFixture.StartAsync();
        await f.CreateTopicAsync("orders", configs: new() { ["retention.ms"] = "5000" });

        var r = await DescribeAsync(f, version, Request(2, "orders", synonyms: version >= 1, docs: version >= 3));
        Assert.Equal((0, (sbyte)2, "orders"), (r.ErrorCode, r.ResourceType, r.ResourceName));
        Assert.Null(r.ErrorMessage);
        Assert.Equal(Broker.Config.TopicConfigCatalog.Keys.Count, r.Configs.Count);
        Assert.Equal(r.Configs.Select(c => c.Name).OrderBy(n => n, StringComparer.Ordinal), r.Configs.Select(c => c.Name));

        var retention = Entry(r, "retention.ms");
        var segment = Entry(r, "segment.bytes");
        var policy = Entry(r, "cleanup.policy");
        Assert.Equal("5000", retention.Value);
        Assert.Equal("1048576", segment.Value);   // log.segment.bytes from server.properties
        Assert.Equal("delete", policy.Value);     // built-in default
        Assert.All(r.Configs, c => Assert.False(c.ReadOnly));
        Assert.All(r.Configs, c => Assert.False(c.IsSensitive));
        if (version == 0)
        {
            Assert.False(retention.IsDefault);
            Assert.False(segment.IsDefault);
            Assert.True(policy.IsDefault);
            return;
        }
        Assert.Equal(ConfigSources.DynamicTopicConfig, retention.ConfigSource);
        Assert.Equal(ConfigSources.StaticBrokerConfig, segment.ConfigSource);
        Assert.Equal(ConfigSources.DefaultConfig, policy.ConfigSource);
        // Synonyms: the topic's own value, then the broker layers (log.retention.hours given as 100, default 168).
        Assert.Equal(
            [("retention.ms", "5000", ConfigSources.DynamicTopicConfig), ("log.retention.hours", "100", ConfigSources.StaticBrokerConfig),
             ("log.retention.hours", "168", ConfigSources.DefaultConfig)],
            retention.Synonyms.Select(s => (s.Name, s.Value, s.Source)));
        if (version < 3) return;
        Assert.Equal(5, retention.ConfigType);   // LONG
        Assert.Equal(7, policy.ConfigType);      // LIST
        Assert.False(string.IsNullOrEmpty(retention.Documentation));
    }

    [Fact]
    public async Task Synonyms_and_documentation_only_when_asked()
    {
        using var f = await ConfigsFixture.StartAsync();
        await f.CreateTopicAsync("t");
        var r = await DescribeAsync(f, 4, Request(2, "t"));
        Assert.All(r.Configs, c => Assert.Empty(c.Synonyms));
        Assert.All(r.Configs, c => Assert.Null(c.Documentation));
        Assert.Equal("360000000", Entry(r, "retention.ms").Value);   // 100 hours
    }

    [Fact]
    public async Task Names_filter_the_entries_and_unknown_topics_are_errors()
    {
        using var f = await ConfigsFixture.StartAsync();
        await f.CreateTopicAsync("t");
        var r = await DescribeAsync(f, 2, Request(2, "t", ["segment.bytes", "no.such.config", "retention.bytes"]));
        Assert.Equal(["retention.bytes", "segment.bytes"], r.Configs.Select(c => c.Name));

        var missing = await DescribeAsync(f, 4, Request(2, "ghost"));
        Assert.Equal((short)ErrorCode.UnknownTopicOrPartition, missing.ErrorCode);
        Assert.Contains("ghost", missing.ErrorMessage);
        Assert.Empty(missing.Configs);
    }

    [Fact]
    public async Task Cluster_and_broker_dynamic_values_change_what_topics_inherit()
    {
        using var f = await ConfigsFixture.StartAsync();
        await f.CreateTopicAsync("t");
        Assert.Equal(ErrorCode.None, (await f.AlterAsync(ConfigResourceType.Broker, "", new() { ["log.retention.ms"] = "60000", ["log.cleanup.policy"] = "compact" })).Error);
        Assert.Equal(ErrorCode.None, (await f.AlterAsync(ConfigResourceType.Broker, "1", new() { ["log.cleanup.policy"] = "delete,compact" })).Error);

        var r = await DescribeAsync(f, 1, Request(2, "t", ["retention.ms", "cleanup.policy"], synonyms: true));
        var retention = Entry(r, "retention.ms");
        Assert.Equal(("60000", ConfigSources.DynamicDefaultBrokerConfig), (retention.Value, retention.ConfigSource));
        Assert.Equal(("log.retention.ms", "60000", ConfigSources.DynamicDefaultBrokerConfig),
            (retention.Synonyms[0].Name, retention.Synonyms[0].Value, retention.Synonyms[0].Source));
        var policy = Entry(r, "cleanup.policy");
        Assert.Equal(("delete,compact", ConfigSources.DynamicBrokerConfig), (policy.Value, policy.ConfigSource));
        Assert.Equal([ConfigSources.DynamicBrokerConfig, ConfigSources.DynamicDefaultBrokerConfig, ConfigSources.DefaultConfig],
            policy.Synonyms.Select(s => s.Source));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(4)]
    public async Task This_broker_reports_every_key_with_read_only_flags(short version)
    {
        using var f = await ConfigsFixture.StartAsync();
        await f.AlterAsync(ConfigResourceType.Broker, "", new() { ["num.partitions"] = "3" });
        var r = await DescribeAsync(f, version, Request(4, "1", synonyms: version >= 1, docs: true));
        Assert.Equal(0, r.ErrorCode);
        Assert.True(r.Configs.Count > 50);
        var listeners = Entry(r, "listeners");
        Assert.True(listeners.ReadOnly);
        Assert.Equal("PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093", listeners.Value);
        Assert.True(Entry(r, "node.id").ReadOnly);
        Assert.True(Entry(r, "log.dirs").ReadOnly);
        var retention = Entry(r, "log.retention.ms");
        Assert.False(retention.ReadOnly);
        Assert.Equal("360000000", retention.Value);
        var partitions = Entry(r, "num.partitions");
        Assert.Equal("3", partitions.Value);
        if (version == 0) return;
        Assert.Equal(ConfigSources.StaticBrokerConfig, listeners.ConfigSource);
        Assert.Equal(ConfigSources.StaticBrokerConfig, retention.ConfigSource);
        Assert.Equal(ConfigSources.DynamicDefaultBrokerConfig, partitions.ConfigSource);
        Assert.Equal([("num.partitions", "3", ConfigSources.DynamicDefaultBrokerConfig), ("num.partitions", "1", ConfigSources.DefaultConfig)],
            partitions.Synonyms.Select(s => (s.Name, s.Value, s.Source)));
        if (version < 3) return;
        Assert.Equal(3, partitions.ConfigType);   // INT
        Assert.Contains("Dynamic:", partitions.Documentation);
    }

    [Fact]
    public async Task The_cluster_default_resource_lists_only_the_dynamic_cluster_values()
    {
        using var f = await ConfigsFixture.StartAsync();
        var empty = await DescribeAsync(f, 4, Request(4, ""));
        Assert.Equal(0, empty.ErrorCode);
        Assert.Empty(empty.Configs);

        await f.AlterAsync(ConfigResourceType.Broker, "", new() { ["log.retention.ms"] = "1000", ["min.insync.replicas"] = "2" });
        await f.AlterAsync(ConfigResourceType.Broker, "1", new() { ["num.partitions"] = "2" });
        var r = await DescribeAsync(f, 4, Request(4, ""));
        Assert.Equal(["log.retention.ms", "min.insync.replicas"], r.Configs.Select(c => c.Name));
        Assert.All(r.Configs, c => Assert.Equal(ConfigSources.DynamicDefaultBrokerConfig, c.ConfigSource));
        Assert.Equal("1000", r.Configs[0].Value);
    }

    [Fact]
    public async Task Other_brokers_bad_names_and_other_resource_types_are_invalid_requests()
    {
        using var f = await ConfigsFixture.StartAsync();
        var unknown = await DescribeAsync(f, 4, Request(4, "7"));
        Assert.Equal((short)ErrorCode.InvalidRequest, unknown.ErrorCode);
        Assert.Contains("7", unknown.ErrorMessage);

        var result = await f.Controller.RegisterBrokerAsync(2, Guid.NewGuid(), [new("PLAINTEXT", "127.0.0.2", 19092, 0)], null);
        Assert.Equal(ErrorCode.None, result.Error);
        var other = await DescribeAsync(f, 4, Request(4, "2"));
        Assert.Equal((short)ErrorCode.InvalidRequest, other.ErrorCode);
        Assert.Contains("expected 1", other.ErrorMessage);

        Assert.Equal((short)ErrorCode.InvalidRequest, (await DescribeAsync(f, 4, Request(4, "one"))).ErrorCode);
        Assert.Equal((short)ErrorCode.InvalidRequest, (await DescribeAsync(f, 4, Request(8, "1"))).ErrorCode);
    }

    [Fact]
    public async Task Several_resources_answer_in_request_order()
    {
        using var f = await ConfigsFixture.StartAsync();
        await f.CreateTopicAsync("a");
        var request = new DescribeConfigsRequest
        {
            Resources =
            [
                new() { ResourceType = 4, ResourceName = "1", ConfigurationKeys = ["node.id"] },
                new() { ResourceType = 2, ResourceName = "ghost", ConfigurationKeys = null },
                new() { ResourceType = 2, ResourceName = "a", ConfigurationKeys = ["retention.bytes"] },
            ],
        };
        var response = await f.CallAsync(Key, 3, request, DescribeConfigsResponse.Read);
        Assert.Equal(["1", "ghost", "a"], response.Results.Select(r => r.ResourceName));
        Assert.Equal([0, (short)ErrorCode.UnknownTopicOrPartition, 0], response.Results.Select(r => r.ErrorCode));
        Assert.Equal("1", Assert.Single(response.Results[0].Configs).Value);
        Assert.Equal("-1", Assert.Single(response.Results[2].Configs).Value);
    }
}

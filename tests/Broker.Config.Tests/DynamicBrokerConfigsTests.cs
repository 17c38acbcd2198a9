using Broker.Config;
using Broker.Core.Model;
using Xunit;

namespace Broker.Config.Tests;

/// <summary>Which broker keys may change at runtime, and the answers for the others.</summary>
public class DynamicBrokerConfigsTests
{
    [Fact]
    public void Every_dynamic_key_is_a_known_non_alias_key()
    {
        Assert.NotEmpty(DynamicBrokerConfigs.Names);
        foreach (string name in DynamicBrokerConfigs.Names)
        {
            var row = ConfigKeys.Find(name);
            Assert.True(row is not null, $"{name} is not in the known-key table");
            Assert.Null(row!.AliasOf);
            Assert.True(row.IsDynamic);
            Assert.False(string.IsNullOrWhiteSpace(DynamicBrokerConfigs.EffectOf(name)));
        }
        Assert.Equal(DynamicBrokerConfigs.Names.OrderBy(n => n, StringComparer.Ordinal), DynamicBrokerConfigs.Names);
    }

    [Theory]
    [InlineData("log.retention.ms")]
    [InlineData("log.retention.bytes")]
    [InlineData("log.segment.bytes")]
    [InlineData("log.cleanup.policy")]
    [InlineData("num.partitions")]
    [InlineData("default.replication.factor")]
    [InlineData("min.insync.replicas")]
    [InlineData("message.max.bytes")]
    [InlineData("log.cleaner.min.cleanable.ratio")]
    public void Topic_defaults_are_dynamic(string key) => Assert.True(ConfigKeys.Find(key)!.IsDynamic);

    [Theory]
    [InlineData("listeners")]
    [InlineData("node.id")]
    [InlineData("log.dirs")]
    [InlineData("process.roles")]
    [InlineData("controller.quorum.voters")]
    [InlineData("advertised.listeners")]
    [InlineData("log.retention.hours")]
    [InlineData("log.retention.check.interval.ms")]
    [InlineData("log.cleaner.enable")]
    [InlineData("auto.create.topics.enable")]
    [InlineData("group.min.session.timeout.ms")]
    public void Static_keys_are_refused_with_invalid_request_naming_them(string key)
    {
        Assert.False(ConfigKeys.Find(key)!.IsDynamic);
        var refusal = DynamicBrokerConfigs.Check(key, "1");
        Assert.NotNull(refusal);
        Assert.Equal(ErrorCode.InvalidRequest, refusal!.Value.Error);
        Assert.Equal($"Cannot update these configs dynamically: {key}", refusal.Value.Message);
        // Deleting a read-only key is refused too.
        Assert.Equal(ErrorCode.InvalidRequest, DynamicBrokerConfigs.Check(key, null)!.Value.Error);
    }

    [Fact]
    public void Kafka_settings_this_broker_ignores_are_read_only_and_unknown_keys_are_invalid_config()
    {
        Assert.Equal(ErrorCode.InvalidRequest, DynamicBrokerConfigs.Check("num.io.threads", "8")!.Value.Error);
        var unknown = DynamicBrokerConfigs.Check("no.such.key", "1")!.Value;
        Assert.Equal(ErrorCode.InvalidConfig, unknown.Error);
        Assert.Contains("no.such.key", unknown.Message);
        Assert.Equal(ErrorCode.InvalidConfig, DynamicBrokerConfigs.Check("", "1")!.Value.Error);
    }

    [Theory]
    [InlineData("log.retention.ms", "-1")]
    [InlineData("log.retention.ms", "60000")]
    [InlineData("log.segment.bytes", "14")]
    [InlineData("log.cleanup.policy", "compact,delete")]
    [InlineData("min.insync.replicas", "2")]
    [InlineData("log.message.timestamp.type", "LogAppendTime")]
    [InlineData("log.cleaner.min.cleanable.ratio", "0.1")]
    public void Valid_values_of_dynamic_keys_pass(string key, string value) => Assert.Null(DynamicBrokerConfigs.Check(key, value));

    [Theory]
    [InlineData("log.retention.ms", "-2")]
    [InlineData("log.retention.ms", "soon")]
    [InlineData("log.segment.bytes", "13")]
    [InlineData("log.cleanup.policy", "shred")]
    [InlineData("num.partitions", "0")]
    [InlineData("log.cleaner.min.cleanable.ratio", "2")]
    [InlineData("log.message.timestamp.type", "createtime")]
    public void Bad_values_are_invalid_config_naming_key_and_value(string key, string value)
    {
        var refusal = DynamicBrokerConfigs.Check(key, value)!.Value;
        Assert.Equal(ErrorCode.InvalidConfig, refusal.Error);
        Assert.Contains(key, refusal.Message);
        Assert.Contains(value, refusal.Message);
    }

    [Fact]
    public void A_resource_change_names_all_read_only_keys_at_once_before_value_errors()
    {
        var changes = new Dictionary<string, string?>
        {
            ["log.retention.ms"] = "abc",
            ["listeners"] = "PLAINTEXT://:9092",
            ["node.id"] = "5",
            ["num.partitions"] = "3",
        };
        var refusal = DynamicBrokerConfigs.CheckAll(changes)!.Value;
        Assert.Equal(ErrorCode.InvalidRequest, refusal.Error);
        Assert.Equal("Cannot update these configs dynamically: listeners, node.id", refusal.Message);

        changes.Remove("listeners");
        changes.Remove("node.id");
        Assert.Equal(ErrorCode.InvalidConfig, DynamicBrokerConfigs.CheckAll(changes)!.Value.Error);
        changes["log.retention.ms"] = "1000";
        Assert.Null(DynamicBrokerConfigs.CheckAll(changes));
    }

    [Fact]
    public void Topic_defaults_can_be_read_through_a_lookup()
    {
        var values = new Dictionary<string, string> { ["log.retention.ms"] = "1234" };
        Assert.Equal("1234", TopicConfigCatalog.DefaultFor("retention.ms", k => values.GetValueOrDefault(k)));
        // A broker key without a value falls back to the fixed default of the topic key.
        Assert.Equal(long.MaxValue.ToString(), TopicConfigCatalog.DefaultFor("flush.ms", _ => null));
        Assert.Throws<ArgumentException>(() => TopicConfigCatalog.DefaultFor("nope", _ => null));
    }
}

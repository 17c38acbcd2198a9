using Broker.Config;
using Xunit;

namespace Broker.Config.Tests;

public class TopicConfigCatalogTests
{
    [Fact]
    public void Keys_are_the_accepted_topic_configs()
    {
        string[] expected =
        [
            "cleanup.policy", "compression.type", "delete.retention.ms", "file.delete.delay.ms", "flush.messages",
            "flush.ms", "index.interval.bytes", "max.message.bytes", "message.timestamp.type",
            "min.cleanable.dirty.ratio", "min.compaction.lag.ms", "min.insync.replicas", "retention.bytes",
            "retention.ms", "segment.bytes", "segment.ms", "segment.index.bytes", "message.timestamp.difference.max.ms", "write.caching",
        ];
        Assert.Equal(expected.OrderBy(x => x), TopicConfigCatalog.Keys.OrderBy(x => x));
    }

    [Theory]
    [InlineData("cleanup.policy", "compact")]
    [InlineData("cleanup.policy", "delete,compact")]
    [InlineData("compression.type", "zstd")]
    [InlineData("compression.type", "uncompressed")]
    [InlineData("retention.ms", "-1")]
    [InlineData("retention.ms", "86400000")]
    [InlineData("retention.bytes", "-1")]
    [InlineData("segment.bytes", "14")]
    [InlineData("segment.ms", "1")]
    [InlineData("message.timestamp.type", "LogAppendTime")]
    [InlineData("min.cleanable.dirty.ratio", "0.01")]
    [InlineData("min.insync.replicas", "2")]
    [InlineData("max.message.bytes", "0")]
    [InlineData("flush.messages", "1")]
    [InlineData("segment.index.bytes", "4")]
    [InlineData("message.timestamp.difference.max.ms", "9223372036854775807")]
    public void Valid_values(string key, string value) => Assert.Null(TopicConfigCatalog.Validate(key, value));

    [Theory]
    [InlineData("cleanup.policy", "shred")]
    [InlineData("compression.type", "brotli")]
    [InlineData("retention.ms", "-2")]
    [InlineData("retention.ms", "soon")]
    [InlineData("segment.bytes", "13")]
    [InlineData("segment.bytes", "3000000000")]
    [InlineData("segment.ms", "0")]
    [InlineData("message.timestamp.type", "createtime")]
    [InlineData("min.cleanable.dirty.ratio", "1.01")]
    [InlineData("min.insync.replicas", "0")]
    [InlineData("flush.messages", "0")]
    [InlineData("segment.index.bytes", "3")]
    [InlineData("max.message.bytes", "-1")]
    [InlineData("delete.retention.ms", "-1")]
    public void Invalid_values_name_key_and_value(string key, string value)
    {
        string? err = TopicConfigCatalog.Validate(key, value);
        Assert.NotNull(err);
        Assert.Contains(key, err);
        Assert.Contains($"'{value}'", err);
    }

    [Fact]
    public void Unknown_key_uses_kafkas_text()
    {
        Assert.Equal("Unknown topic config name: retention.weeks", TopicConfigCatalog.Validate("retention.weeks", "1"));
        Assert.Equal("Unknown topic config name: log.retention.ms", TopicConfigCatalog.Validate("log.retention.ms", "1"));
    }

    [Fact]
    public void Null_value_deletes_and_is_valid_for_known_keys()
    {
        Assert.Null(TopicConfigCatalog.Validate("retention.ms", null));
        Assert.NotNull(TopicConfigCatalog.Validate("nope", null));
    }

    [Fact]
    public void Defaults_follow_the_broker_config()
    {
        using var dir = new TempDir();
        string text = Configs.Combined(Path.Combine(dir.Path, "d")) +
            "log.retention.hours=2\nlog.segment.bytes=1048576\ncompression.type=lz4\nlog.cleanup.policy=compact\n" +
            "message.max.bytes=2000000\nmin.insync.replicas=1\nlog.roll.ms=60000\nlog.flush.interval.ms=1000\n";
        var broker = BrokerConfig.Load(dir.Write("server.properties", text)).Config;
        Assert.Equal("7200000", TopicConfigCatalog.DefaultFor("retention.ms", broker));
        Assert.Equal("1048576", TopicConfigCatalog.DefaultFor("segment.bytes", broker));
        Assert.Equal("lz4", TopicConfigCatalog.DefaultFor("compression.type", broker));
        Assert.Equal("compact", TopicConfigCatalog.DefaultFor("cleanup.policy", broker));
        Assert.Equal("2000000", TopicConfigCatalog.DefaultFor("max.message.bytes", broker));
        Assert.Equal("60000", TopicConfigCatalog.DefaultFor("segment.ms", broker));
        Assert.Equal("1000", TopicConfigCatalog.DefaultFor("flush.ms", broker));
        Assert.Equal("-1", TopicConfigCatalog.DefaultFor("retention.bytes", broker));
    }

    [Fact]
    public void Every_key_has_a_default_that_passes_its_own_validation()
    {
        var broker = BrokerConfig.Default(Path.Combine(Path.GetTempPath(), "never-created-" + Guid.NewGuid().ToString("N")));
        foreach (string key in TopicConfigCatalog.Keys)
        {
            string def = TopicConfigCatalog.DefaultFor(key, broker);
            Assert.True(TopicConfigCatalog.Validate(key, def) is null, $"{key} default '{def}' fails its own validation");
        }
        Assert.Equal("604800000", TopicConfigCatalog.DefaultFor("retention.ms", broker));
        Assert.Equal("9223372036854775807", TopicConfigCatalog.DefaultFor("flush.ms", broker));
        Assert.Equal("CreateTime", TopicConfigCatalog.DefaultFor("message.timestamp.type", broker));
        Assert.Throws<ArgumentException>(() => TopicConfigCatalog.DefaultFor("bogus", broker));
    }
}

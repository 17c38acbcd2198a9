using Broker.Config;
using Broker.Server.Partitions;
using Xunit;

namespace Broker.Server.Tests;

/// <summary>How a topic's cleanup.policy and retention configs become its storage options.</summary>
public sealed class TopicLogOptionsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("topic-log-options-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private TopicLogOptions Options(string text)
    {
        string path = Path.Combine(_dir, "server.properties");
        File.WriteAllText(path, "process.roles=broker,controller\nnode.id=1\ncontroller.quorum.voters=1@127.0.0.1:19093\n" +
            "listeners=PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093\ncontroller.listener.names=CONTROLLER\n" +
            "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT\n" + text);
        return new TopicLogOptions(BrokerConfig.Load(path, Path.Combine(_dir, "data"), null).Config);
    }

    [Fact]
    public void DeletePolicyKeepsBrokerRetention()
    {
        var o = Options("log.retention.ms=60000\nlog.retention.bytes=1000000\n");
        Assert.Equal(60000, o.Defaults.RetentionMs);
        Assert.Equal(1000000, o.Defaults.RetentionBytes);
        var topic = o.For(new Dictionary<string, string> { ["retention.ms"] = "5000" });
        Assert.Equal(5000, topic.RetentionMs);
        Assert.Equal(1000000, topic.RetentionBytes);
    }

    [Fact]
    public void CompactOnlyTopicsAreNeverDeletedByRetention()
    {
        var o = Options("log.retention.ms=60000\n");
        var compact = o.For(new Dictionary<string, string> { ["cleanup.policy"] = "compact", ["retention.ms"] = "5000" });
        Assert.Equal(-1, compact.RetentionMs);
        Assert.Equal(-1, compact.RetentionBytes);
        var both = o.For(new Dictionary<string, string> { ["cleanup.policy"] = "compact,delete", ["retention.ms"] = "5000" });
        Assert.Equal(5000, both.RetentionMs);
    }

    [Fact]
    public void BrokerWideCompactPolicyAppliesToTopicsWithoutTheirOwn()
    {
        var o = Options("log.cleanup.policy=compact\nlog.retention.ms=60000\n");
        Assert.Equal(-1, o.Defaults.RetentionMs);
        Assert.Equal(-1, o.For(new Dictionary<string, string> { ["segment.bytes"] = "1048576" }).RetentionMs);
        Assert.Equal(60000, o.For(new Dictionary<string, string> { ["cleanup.policy"] = "delete" }).RetentionMs);
    }
}

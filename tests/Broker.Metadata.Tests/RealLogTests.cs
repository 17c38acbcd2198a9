using Broker.Consensus;
using Broker.Core.Diagnostics;
using Broker.Core.Model;
using Broker.Metadata.Controller;
using Broker.Metadata.Image;
using Broker.Storage;

namespace Broker.Metadata.Tests;

/// <summary>The metadata node over the real segmented, memory-mapped PartitionLog, across a process-like restart.</summary>
public sealed class RealLogTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "metadata-real-" + Guid.NewGuid().ToString("N"));
    private static readonly TopicPartition MetadataPartition = new("__cluster_metadata", 0);
    // Tiny segments, so replay has to read across many of them.
    private static readonly LogOptions Options = new() { SegmentBytes = 512, RetentionMs = -1, RetentionBytes = -1 };

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    private (MetadataNode Node, PartitionLog Log) Open()
    {
        var log = PartitionLog.Open(Path.Combine(_dir, MetadataPartition.ToString()), MetadataPartition, Options, SystemClock.Instance);
        var node = new MetadataNode(new ControllerOptions { NodeId = 1, NumPartitions = 2 }, _dir,
            new LocalReplicatedLog(log, leaderEpoch: 1), [new BrokerEndpoint("PLAINTEXT", "localhost", 9092, 0)]);
        return (node, log);
    }

    [Fact]
    public async Task Metadata_survives_a_restart_on_the_real_log()
    {
        string before;
        var (node, log) = Open();
        using (log)
        using (node)
        {
            await node.StartAsync();
            for (int i = 0; i < 10; i++)
                Assert.Equal(ErrorCode.None, (await node.Controller.CreateTopicsAsync([new NewTopicSpec($"topic-{i}")], false))[0].Error);
            await node.Controller.DeleteTopicsAsync(["topic-3"]);
            await node.Controller.AlterTopicConfigsAsync("topic-5", new Dictionary<string, string?> { ["retention.ms"] = "1" }, false);
            Assert.True(log.SegmentCount > 3, $"expected several segments, got {log.SegmentCount}");
            before = Summary(node.Current);
        }

        var (again, log2) = Open();
        using (log2)
        using (again)
        {
            await again.StartAsync();
            var image = again.Current;
            Assert.Equal(before, Summary(image));
            Assert.Equal(9, image.TopicsByName.Count);
            Assert.Equal("1", image.GetTopic("topic-5")!.Configs["retention.ms"]);
            Assert.False(image.GetBroker(1)!.Fenced);
            Assert.Equal(log2.LogEndOffset - 1, image.LastAppliedOffset);
        }
    }

    private static string Summary(MetadataImage image) => string.Join(";",
        image.TopicsByName.Values.OrderBy(t => t.Name).Select(t =>
            $"{t.Name}/{t.TopicId}/{t.PartitionCount}/{string.Join(",", t.Configs.Select(c => c.Key + "=" + c.Value))}"))
        + $"|{image.ClusterId}";
}

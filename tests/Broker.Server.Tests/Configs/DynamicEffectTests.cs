using Broker.Core.Model;
using Broker.Metadata.Records;
using Broker.Protocol.Messages;
using Broker.Server.Tests.Data;
using Xunit;

namespace Broker.Server.Tests.Configs;

/// <summary>Dynamic changes take effect on open partition logs and the data path without a restart.</summary>
public class DynamicEffectTests
{
    private static long HourAgo => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - 3_600_000;

    [Fact]
    public async Task A_cluster_default_retention_deletes_old_segments_of_topics_without_their_own()
    {
        using var f = await ConfigsFixture.StartAsync();
        await f.CreateTopicAsync("plain", configs: new() { ["segment.bytes"] = "4096" });
        await f.CreateTopicAsync("kept", configs: new() { ["segment.bytes"] = "4096", ["retention.ms"] = "-1" });
        f.Append("plain", 20, HourAgo);
        f.Append("kept", 20, HourAgo);
        Assert.Equal(0, f.Partitions.RunRetention(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()));   // 100 hours: nothing old enough

        var result = await f.AlterAsync(ConfigResourceType.Broker, "", new() { ["log.retention.ms"] = "60000" });
        Assert.Equal(ErrorCode.None, result.Error);
        Assert.Equal(60000, f.Partition("plain").Log.Options.RetentionMs);
        Assert.Equal(-1, f.Partition("kept").Log.Options.RetentionMs);

        Assert.True(f.Partitions.RunRetention(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()) > 0);
        Assert.True(f.Partition("plain").Log.LogStartOffset > 0);
        Assert.Equal(0, f.Partition("kept").Log.LogStartOffset);

        // ListOffsets earliest reports the moved start.
        var earliest = await ListEarliestAsync(f, "plain");
        Assert.Equal(f.Partition("plain").Log.LogStartOffset, earliest);
    }

    [Fact]
    public async Task Topic_and_broker_layers_take_precedence_in_order_and_removal_reverts()
    {
        using var f = await ConfigsFixture.StartAsync();
        await f.CreateTopicAsync("t");
        Assert.Equal(360_000_000, f.Partition("t").Log.Options.RetentionMs);   // static: log.retention.hours=100

        await f.AlterAsync(ConfigResourceType.Broker, "", new() { ["log.retention.ms"] = "1000" });
        Assert.Equal(1000, f.Partition("t").Log.Options.RetentionMs);
        await f.AlterAsync(ConfigResourceType.Broker, "1", new() { ["log.retention.ms"] = "2000" });
        Assert.Equal(2000, f.Partition("t").Log.Options.RetentionMs);
        await f.AlterAsync(ConfigResourceType.Broker, "2", new() { ["log.retention.ms"] = "3000" });   // another broker: no effect here
        Assert.Equal(2000, f.Partition("t").Log.Options.RetentionMs);
        await f.AlterAsync(ConfigResourceType.Topic, "t", new() { ["retention.ms"] = "4000" });
        Assert.Equal(4000, f.Partition("t").Log.Options.RetentionMs);

        await f.AlterAsync(ConfigResourceType.Topic, "t", new() { ["retention.ms"] = null });
        await f.AlterAsync(ConfigResourceType.Broker, "1", new() { ["log.retention.ms"] = null });
        await f.AlterAsync(ConfigResourceType.Broker, "", new() { ["log.retention.ms"] = null });
        Assert.Equal(360_000_000, f.Partition("t").Log.Options.RetentionMs);
    }

    [Fact]
    public async Task Segment_size_changes_apply_to_the_next_appends()
    {
        using var f = await ConfigsFixture.StartAsync();
        await f.CreateTopicAsync("t");
        f.Append("t", 10, HourAgo);
        int before = SegmentFiles(f, "t");
        Assert.Equal(1, before);
        await f.AlterAsync(ConfigResourceType.Broker, "", new() { ["log.segment.bytes"] = "4096" });
        f.Append("t", 20, HourAgo);
        Assert.True(SegmentFiles(f, "t") > 2, "the log did not roll at the new segment size");
    }

    [Fact]
    public async Task Message_size_and_min_insync_replicas_defaults_are_checked_by_produce()
    {
        using var f = await ConfigsFixture.StartAsync();
        await f.CreateTopicAsync("t");
        byte[] big = TestBatches.Build(count: 1, baseTimestamp: HourAgo, valueSize: 3000);
        Assert.Equal(0, (await ProduceAsync(f, "t", big, acks: 1)).ErrorCode);

        await f.AlterAsync(ConfigResourceType.Broker, "", new() { ["message.max.bytes"] = "1000" });
        Assert.Equal((short)ErrorCode.MessageTooLarge, (await ProduceAsync(f, "t", big, acks: 1)).ErrorCode);
        // A topic override wins over the cluster default.
        await f.AlterAsync(ConfigResourceType.Topic, "t", new() { ["max.message.bytes"] = "100000" });
        Assert.Equal(0, (await ProduceAsync(f, "t", big, acks: 1)).ErrorCode);

        await f.AlterAsync(ConfigResourceType.Broker, "", new() { ["min.insync.replicas"] = "2" });
        byte[] small = TestBatches.Build(count: 1, baseTimestamp: HourAgo);
        Assert.Equal((short)ErrorCode.NotEnoughReplicas, (await ProduceAsync(f, "t", small, acks: -1)).ErrorCode);
        Assert.Equal(0, (await ProduceAsync(f, "t", small, acks: 1)).ErrorCode);
        await f.AlterAsync(ConfigResourceType.Broker, "", new() { ["min.insync.replicas"] = null });
        Assert.Equal(0, (await ProduceAsync(f, "t", small, acks: -1)).ErrorCode);
    }

    [Fact]
    public async Task Create_topics_leaving_counts_to_the_broker_follow_dynamic_cluster_values()
    {
        using var f = await ConfigsFixture.StartAsync();
        var request = new CreateTopicsRequest
        {
            TimeoutMs = 10_000,
            Topics = [new CreateTopicsRequest.CreatableTopic { Name = "before", NumPartitions = -1, ReplicationFactor = -1 }],
        };
        var created = await f.CallAsync(19, 7, request, CreateTopicsResponse.Read);
        Assert.Equal(1, Assert.Single(created.Topics).NumPartitions);

        await f.AlterAsync(ConfigResourceType.Broker, "", new() { ["num.partitions"] = "3" });
        request.Topics[0].Name = "after";
        created = await f.CallAsync(19, 7, request, CreateTopicsResponse.Read);
        Assert.Equal((0, 3), (Assert.Single(created.Topics).ErrorCode, created.Topics[0].NumPartitions));
        Assert.Equal(3, f.Image.GetTopic("after")!.PartitionCount);

        // An explicit count still wins; a replication factor the cluster cannot satisfy is refused.
        await f.AlterAsync(ConfigResourceType.Broker, "", new() { ["default.replication.factor"] = "2" });
        request.Topics[0].Name = "explicit";
        request.Topics[0].NumPartitions = 2;
        created = await f.CallAsync(19, 7, request, CreateTopicsResponse.Read);
        Assert.Equal((short)ErrorCode.InvalidReplicationFactor, Assert.Single(created.Topics).ErrorCode);
        request.Topics[0].ReplicationFactor = 1;
        created = await f.CallAsync(19, 7, request, CreateTopicsResponse.Read);
        Assert.Equal((0, 2), (Assert.Single(created.Topics).ErrorCode, created.Topics[0].NumPartitions));
    }

    private static int SegmentFiles(ConfigsFixture f, string topic) =>
        Directory.GetFiles(Path.Combine(f.Logs.LogDir, $"{topic}-0"), "*.log").Length;

    private static async Task<ProduceResponse.PartitionProduceResponse> ProduceAsync(ConfigsFixture f, string topic, byte[] batch, short acks)
    {
        var response = await f.CallAsync(0, 9, DataFixture.ProduceRequestFor(topic, 0, batch, acks), ProduceResponse.Read);
        return Assert.Single(Assert.Single(response.Responses).PartitionResponses);
    }

    private static async Task<long> ListEarliestAsync(ConfigsFixture f, string topic)
    {
        var request = new ListOffsetsRequest
        {
            ReplicaId = -1,
            Topics =
            [
                new ListOffsetsRequest.ListOffsetsTopic
                {
                    Name = topic,
                    Partitions = [new ListOffsetsRequest.ListOffsetsPartition { PartitionIndex = 0, Timestamp = -2, CurrentLeaderEpoch = -1 }],
                },
            ],
        };
        var response = await f.CallAsync(2, 7, request, ListOffsetsResponse.Read);
        var p = Assert.Single(Assert.Single(response.Topics).Partitions);
        Assert.Equal(0, p.ErrorCode);
        return p.Offset;
    }
}

using System.Collections.Immutable;
using System.Net;
using Broker.Config;
using Broker.Core.Diagnostics;
using Broker.Core.Model;
using Broker.Metadata.Image;
using Broker.Network;
using Broker.Protocol.Messages;
using Broker.Server.Admin;
using Broker.Server.Groups;
using Broker.Server.Handlers;
using Broker.Server.Partitions;
using Broker.Server.Pipeline;
using Broker.Storage;
using Xunit;

namespace Broker.Server.Tests.Groups;

/// <summary>The pieces around the group handlers: settings, the offsets-topic view, client host, Metadata's
/// refusal to auto-create internal names.</summary>
public class GroupPlumbingTests
{
    [Fact]
    public void CoordinatorOptionsAndOffsetsTopicSettingsComeFromServerProperties()
    {
        string dir = Path.Combine(Path.GetTempPath(), "broker-group-config-" + Guid.NewGuid().ToString("N"));
        var config = BrokerConfig.Load(null, dir, new Dictionary<string, string>
        {
            ["offsets.topic.num.partitions"] = "7",
            ["offsets.topic.replication.factor"] = "2",
            ["offsets.topic.segment.bytes"] = "2097152",
            ["offsets.retention.minutes"] = "3",
            ["offsets.retention.check.interval.ms"] = "1234",
            ["offsets.commit.timeout.ms"] = "2500",
            ["offset.metadata.max.bytes"] = "99",
            ["group.initial.rebalance.delay.ms"] = "0",
            ["group.min.session.timeout.ms"] = "100",
            ["group.max.session.timeout.ms"] = "9000",
            ["group.max.size"] = "4",
        }).Config;

        var options = GroupSettings.FromConfig(config);
        Assert.Equal(7, options.OffsetsTopicPartitions);
        Assert.Equal(180_000, options.OffsetsRetentionMs);
        Assert.Equal(1234, options.OffsetsRetentionCheckIntervalMs);
        Assert.Equal(2500, options.OffsetCommitTimeoutMs);
        Assert.Equal(99, options.OffsetMetadataMaxBytes);
        Assert.Equal(0, options.GroupInitialRebalanceDelayMs);
        Assert.Equal(100, options.GroupMinSessionTimeoutMs);
        Assert.Equal(9000, options.GroupMaxSessionTimeoutMs);
        Assert.Equal(4, options.GroupMaxSize);

        var topic = OffsetsTopicSettings.FromConfig(config);
        Assert.Equal((7, (short)2, 2097152), (topic.Partitions, topic.ReplicationFactor, topic.SegmentBytes));

        var defaults = GroupSettings.FromConfig(BrokerConfig.Load(null, dir).Config);
        Assert.Equal((int.MaxValue, 600_000L, 5000, 4096), (defaults.GroupMaxSize, defaults.OffsetsRetentionCheckIntervalMs, defaults.OffsetCommitTimeoutMs, defaults.OffsetMetadataMaxBytes));
        Assert.Equal(104857600, OffsetsTopicSettings.FromConfig(BrokerConfig.Load(null, dir).Config).SegmentBytes);
    }

    [Fact]
    public void OffsetsTopicViewSeesThePartitionCountAndOnlyLocalReplicas()
    {
        string dir = Path.Combine(Path.GetTempPath(), "broker-offsets-view-" + Guid.NewGuid().ToString("N"));
        using var logs = new LogManager(dir, SystemClock.Instance);
        using var partitions = new PartitionManager(logs, 1, _ => new LogOptions { RetentionMs = -1 });
        MetadataImage image = GroupImages.Build([GroupImages.Broker(1), GroupImages.Broker(2)]);
        partitions.ApplyImage(image);
        var view = new OffsetsTopicView(partitions, () => image);
        try
        {
            Assert.Equal(0, view.PartitionCount);
            Assert.Null(view.Replica(0));

            image = GroupImages.Build([GroupImages.Broker(1), GroupImages.Broker(2)], b =>
            {
                var id = Guid.NewGuid();
                b.AddTopic(InternalTopics.ConsumerOffsets, id);
                var draft = b.EditTopic(id)!;
                draft.SetPartition(new PartitionImage(0, 1, 4, 0, ImmutableArray.Create(1), ImmutableArray.Create(1)));
                draft.SetPartition(new PartitionImage(1, 2, 4, 0, ImmutableArray.Create(1, 2), ImmutableArray.Create(1, 2)));
                draft.SetPartition(new PartitionImage(2, 2, 4, 0, ImmutableArray.Create(2), ImmutableArray.Create(2)));
            });
            partitions.ApplyImage(image);

            Assert.Equal(3, view.PartitionCount);
            var led = view.Replica(0);
            Assert.NotNull(led);
            Assert.True(led.IsLeader);
            Assert.Equal(4, led.LeaderEpoch);
            Assert.Equal(new TopicPartition(InternalTopics.ConsumerOffsets, 0), led.Partition);
            var follower = view.Replica(1);
            Assert.NotNull(follower);
            Assert.False(follower.IsLeader);
            Assert.Null(view.Replica(2)); // no replica on node 1
            Assert.Null(view.Replica(3)); // beyond the partition count
            Assert.Null(view.Replica(-1));
        }
        finally
        {
            partitions.CloseReplicas();
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
        }
    }

    [Fact]
    public void ClientHostIsSlashAndTheClientAddress()
    {
        Assert.Equal("/127.0.0.1", GroupRequests.ClientHost(new ConnectionContext(1, "L", new IPEndPoint(IPAddress.Loopback, 5), null)));
        Assert.Equal("/10.1.2.3", GroupRequests.ClientHost(new ConnectionContext(1, "L", new IPEndPoint(IPAddress.Parse("10.1.2.3").MapToIPv6(), 5), null)));
        Assert.Equal("/::1", GroupRequests.ClientHost(new ConnectionContext(1, "L", new IPEndPoint(IPAddress.IPv6Loopback, 5), null)));
        Assert.Equal("/unknown", GroupRequests.ClientHost(new ConnectionContext(1, "L", null, null)));
    }

    [Fact]
    public async Task MetadataNeverAutoCreatesInternalNames()
    {
        var admin = new CapturingTopicAdmin();
        var image = GroupImages.Build([GroupImages.Broker(1)]);
        var table = new HandlerTable();
        table.Register(new MetadataHandler(() => image, admin, new AdminOptions { NodeId = 1, AutoCreateTopicsEnable = true }));
        var wire = new GroupWireHarness(table);

        var request = new MetadataRequest { Topics = new(), AllowAutoTopicCreation = true };
        foreach (string name in new[] { InternalTopics.ConsumerOffsets, "__my_internal", "normal" })
            request.Topics.Add(new MetadataRequest.MetadataRequestTopic { Name = name });
        var response = await wire.CallAsync(3, 9, request, MetadataResponse.Read);

        var byName = response.Topics.ToDictionary(t => t.Name!);
        Assert.Equal((short)ErrorCode.UnknownTopicOrPartition, byName[InternalTopics.ConsumerOffsets].ErrorCode);
        Assert.True(byName[InternalTopics.ConsumerOffsets].IsInternal);
        Assert.Equal((short)ErrorCode.UnknownTopicOrPartition, byName["__my_internal"].ErrorCode);
        Assert.Equal(["normal"], admin.Created.Select(s => s.Name)); // only the ordinary name went to the controller
    }
}

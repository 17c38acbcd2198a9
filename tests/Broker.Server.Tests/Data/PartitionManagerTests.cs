using Broker.Consensus;
using Broker.Core.Diagnostics;
using Broker.Core.Model;
using Broker.Metadata.Image;
using Broker.Server.Partitions;
using Broker.Storage;
using Xunit;

namespace Broker.Server.Tests.Data;

public sealed class PartitionManagerTests : IDisposable
{
    private readonly DataFixture _f = new();

    public void Dispose() => _f.Dispose();

    private string DirOf(string topic, int partition) => Path.Combine(_f.Logs.LogDir, $"{topic}-{partition}");

    [Fact]
    public void OnlyPartitionsWithALocalReplicaGetALog()
    {
        _f.NextImage(b =>
        {
            var id = Guid.NewGuid();
            b.AddTopic("mixed", id);
            var d = b.EditTopic(id)!;
            d.SetPartition(new PartitionImage(0, DataFixture.NodeId, 0, 0, [DataFixture.NodeId], [DataFixture.NodeId]));
            d.SetPartition(new PartitionImage(1, 2, 0, 0, [2], [2]));
        });
        Assert.True(Directory.Exists(DirOf("mixed", 0)));
        Assert.False(Directory.Exists(DirOf("mixed", 1)));
        Assert.True(_f.Partitions.TryGetPartition("mixed", 0, out var state));
        Assert.True(state.IsLeader);
        Assert.False(_f.Partitions.TryGetPartition("mixed", 1, out _));
        Assert.Equal(ErrorCode.NotLeaderOrFollower, _f.Partitions.Find("mixed", 1, out _));
        Assert.Equal(ErrorCode.UnknownTopicOrPartition, _f.Partitions.Find("mixed", 2, out _));
        Assert.Equal(ErrorCode.UnknownTopicOrPartition, _f.Partitions.Find("other", 0, out _));
        Assert.Equal(1, _f.Partitions.Count);
    }

    [Fact]
    public async Task DeletedTopicsLoseTheirLogs()
    {
        _f.CreateTopic("doomed", partitions: 2);
        await _f.ProduceAsync("doomed", 0, TestBatches.Build(2));
        _f.DeleteTopic("doomed");
        Assert.False(Directory.Exists(DirOf("doomed", 0)));
        Assert.False(Directory.Exists(DirOf("doomed", 1)));
        Assert.False(_f.Partitions.TryGetPartition("doomed", 0, out _));
        Assert.Empty(_f.Logs.Partitions);
    }

    [Fact]
    public async Task ARecreatedTopicStartsEmpty()
    {
        _f.CreateTopic("again");
        await _f.ProduceAsync("again", 0, TestBatches.Build(4));
        // Deleted and created again between two applied images: same name, new id.
        _f.NextImage(b =>
        {
            b.RemoveTopic(_f.Image.GetTopic("again")!.TopicId);
            var id = Guid.NewGuid();
            b.AddTopic("again", id);
            b.EditTopic(id)!.SetPartition(new PartitionImage(0, DataFixture.NodeId, 0, 0, [DataFixture.NodeId], [DataFixture.NodeId]));
        });
        Assert.True(_f.Partitions.TryGetPartition("again", 0, out var state));
        Assert.Equal(0, state.Log.LogEndOffset);
        Assert.Equal(_f.Image.GetTopic("again")!.TopicId, state.Topic.TopicId);
    }

    [Fact]
    public void ConfigChangesReachTheLogAndTheSettings()
    {
        _f.CreateTopic("t");
        Assert.True(_f.Partitions.TryGetPartition("t", 0, out var before));
        Assert.False(before.LogAppendTime);
        _f.SetTopicConfig("t", "segment.bytes", "65536");
        _f.SetTopicConfig("t", "message.timestamp.type", "LogAppendTime");
        _f.SetTopicConfig("t", "min.insync.replicas", "3");
        Assert.True(_f.Partitions.TryGetPartition("t", 0, out var after));
        Assert.Equal(65536, after.Log.Options.SegmentBytes);
        Assert.Equal(65536, after.LogOptions.SegmentBytes);
        Assert.True(after.LogAppendTime);
        Assert.Equal(3, after.MinInsyncReplicas);
        Assert.Same(before.Replica, after.Replica);
    }

    [Fact]
    public void PartitionsMissedByApplyImageAreCreatedOnDemand()
    {
        int failures = 1;
        using var logs = new LogManager(Path.Combine(_f.Directory, "on-demand"), SystemClock.Instance);
        using var partitions = new PartitionManager(logs, DataFixture.NodeId, topic =>
        {
            if (failures-- > 0) throw new IOException("disk hiccup");
            return DataFixture.OptionsFor(topic);
        });
        var image = _f.NextImage(b =>
        {
            var id = Guid.NewGuid();
            b.AddTopic("lazy", id);
            b.EditTopic(id)!.SetPartition(new PartitionImage(0, DataFixture.NodeId, 0, 0, [DataFixture.NodeId], [DataFixture.NodeId]));
        }, apply: false);
        partitions.ApplyImage(image); // the options resolver fails once: nothing opened
        Assert.Equal(0, partitions.Count);
        Assert.True(partitions.TryGetPartition("lazy", 0, out var state));
        Assert.Equal(0, state.Log.LogEndOffset);
        Assert.Equal(1, partitions.Count);
    }

    [Fact]
    public void StrayLogsAreMovedAsideNotDeletedAndNeverTheMetadataLog()
    {
        _f.CreateTopic("kept");
        _f.Logs.GetOrCreate(new TopicPartition("__cluster_metadata", 0), new LogOptions()).Dispose();
        _f.Logs.GetOrCreate(new TopicPartition("gone", 0), new LogOptions());
        _f.Partitions.ApplyImage(_f.Image);
        Assert.Equal(1, _f.Partitions.MoveStrayLogsAside());
        Assert.True(Directory.Exists(DirOf("__cluster_metadata", 0)));
        Assert.True(Directory.Exists(DirOf("kept", 0)));
        Assert.False(Directory.Exists(DirOf("gone", 0)));
        var aside = Assert.Single(Directory.GetDirectories(Path.GetDirectoryName(DirOf("gone", 0))!, "gone-0.*" + LogManager.StraySuffix));
        Assert.NotEmpty(Directory.GetFiles(aside, "*.log")); // the data is still there for an operator
        Assert.Equal(ErrorCode.UnknownTopicOrPartition, _f.Partitions.Find("__cluster_metadata", 0, out _));
    }

    [Fact]
    public void ALeaderEpochChangeRewrapsTheLocalReplica()
    {
        using var logs = new LogManager(Path.Combine(_f.Directory, "epochs"), SystemClock.Instance);
        using var partitions = new PartitionManager(logs, DataFixture.NodeId, DataFixture.OptionsFor);
        var id = Guid.NewGuid();
        var image = _f.NextImage(b =>
        {
            b.AddTopic("e", id);
            b.EditTopic(id)!.SetPartition(new PartitionImage(0, DataFixture.NodeId, 1, 0, [DataFixture.NodeId], [DataFixture.NodeId]));
        }, apply: false);
        partitions.ApplyImage(image);
        Assert.True(partitions.TryGetPartition("e", 0, out var first));
        Assert.IsType<LocalReplicatedLog>(first.Replica);
        Assert.Equal(1, first.Replica.LeaderEpoch);
        first.Replica.Append(TestBatches.Build(1));

        image = _f.NextImage(b =>
        {
            var d = b.EditTopic(id)!;
            d.SetPartition(d.GetPartition(0)! with { LeaderEpoch = 4 });
        }, apply: false);
        partitions.ApplyImage(image);
        Assert.True(partitions.TryGetPartition("e", 0, out var second));
        Assert.Equal(4, second.Replica.LeaderEpoch);
        Assert.Same(first.Log, second.Log);
        second.Replica.Append(TestBatches.Build(1));

        using var read = second.Log.Read(0, 1 << 20, second.Replica.HighWatermark, minOneBatch: true);
        var batches = TestBatches.Split(read.Records.Span);
        Assert.Equal([1, 4], batches.Select(b => TestBatches.Header(b).PartitionLeaderEpoch));
    }

    [Fact]
    public void TopicSettingsResolveOverDefaults()
    {
        var defaults = TopicSettings.FromBroker("LogAppendTime", 2);
        Assert.Same(defaults, TopicSettings.Resolve(new Dictionary<string, string>(), defaults));
        var overridden = TopicSettings.Resolve(new Dictionary<string, string> { ["message.timestamp.type"] = "CreateTime", ["min.insync.replicas"] = "1" }, defaults);
        Assert.False(overridden.LogAppendTime);
        Assert.Equal(1, overridden.MinInsyncReplicas);
        var garbage = TopicSettings.Resolve(new Dictionary<string, string> { ["min.insync.replicas"] = "x" }, defaults);
        Assert.Equal(2, garbage.MinInsyncReplicas);
    }

    [Fact]
    public async Task RetentionAndFlushRunOverLocalReplicas()
    {
        _f.CreateTopic("r", configs: new() { ["segment.bytes"] = "1024" });
        for (int i = 0; i < 4; i++) await _f.ProduceAsync("r", 0, TestBatches.Build(1, valueSize: 900));
        _f.Partitions.FlushAll();
        Assert.True(_f.Partitions.TryGetPartition("r", 0, out var state));
        Assert.Equal(0, _f.Partitions.RunRetention(DataFixture.StartTime)); // retention.ms -1 in the fixture
        state.Log.UpdateOptions(state.Log.Options with { RetentionBytes = 1500 });
        Assert.True(_f.Partitions.RunRetention(DataFixture.StartTime) > 0);
        Assert.True(state.Log.LogStartOffset > 0);
        var fetched = await _f.FetchAsync("r", 0, 0);
        Assert.Equal((short)ErrorCode.OffsetOutOfRange, fetched.ErrorCode);
        Assert.Equal(state.Log.LogStartOffset, (await _f.ListOffsetAsync("r", 0, -2)).Offset);
    }
}

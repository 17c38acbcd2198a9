using System.Globalization;
using Broker.Config;
using Broker.Core.Records;
using Broker.Metadata.Image;
using Broker.Server.Partitions;
using Broker.Storage;
using Xunit;

namespace Broker.Server.Tests.Data;

/// <summary>
/// The log cleaner's scheduling: topic configs reach <see cref="LogOptions"/> through <see cref="TopicLogOptions"/>,
/// and <see cref="PartitionManager.RunCompaction"/> compacts only compact topics whose dirty ratio reached
/// min.cleanable.dirty.ratio.
/// </summary>
public sealed class CompactionSchedulingTests : IDisposable
{
    private const int NodeId = 1;
    private readonly string _dir = Directory.CreateTempSubdirectory("compaction-scheduling-").FullName;
    private readonly ManualClock _clock = new(DataFixture.StartTime);
    private readonly TopicLogOptions _options;
    private readonly LogManager _logs;
    private readonly PartitionManager _partitions;
    private MetadataImage _image = MetadataImage.Empty("compaction-tests", NodeId);

    public CompactionSchedulingTests()
    {
        string path = Path.Combine(_dir, "server.properties");
        File.WriteAllText(path, "process.roles=broker,controller\nnode.id=1\ncontroller.quorum.voters=1@127.0.0.1:19093\n" +
            "listeners=PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093\ncontroller.listener.names=CONTROLLER\n" +
            "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT\n" +
            "log.cleaner.min.cleanable.ratio=0.4\nlog.cleaner.delete.retention.ms=1000\n");
        var config = BrokerConfig.Load(path, Path.Combine(_dir, "data"), null).Config;
        Assert.True(config.LogCleanerEnable);
        Assert.Equal(15_000, config.LogCleanerBackoffMs);
        _options = new TopicLogOptions(config);
        _logs = new LogManager(Path.Combine(_dir, "data"), _clock);
        _partitions = new PartitionManager(_logs, NodeId, _options.For);
    }

    public void Dispose()
    {
        _partitions.CloseReplicas();
        _partitions.Dispose();
        _logs.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public void Topic_configs_become_compaction_options()
    {
        Assert.False(_options.Defaults.Compact);
        Assert.Equal(0.4, _options.Defaults.MinCleanableDirtyRatio);
        Assert.Equal(1000, _options.Defaults.DeleteRetentionMs);
        var o = _options.For(new Dictionary<string, string>
        {
            ["cleanup.policy"] = "compact,delete", ["min.cleanable.dirty.ratio"] = "0.75",
            ["delete.retention.ms"] = "5000", ["min.compaction.lag.ms"] = "7000",
        });
        Assert.True(o.Compact);
        Assert.Equal(0.75, o.MinCleanableDirtyRatio);
        Assert.Equal(5000, o.DeleteRetentionMs);
        Assert.Equal(7000, o.MinCompactionLagMs);
        Assert.False(_options.For(new Dictionary<string, string> { ["cleanup.policy"] = "delete" }).Compact);
    }

    [Fact]
    public void RunCompaction_honours_the_policy_and_the_dirty_ratio()
    {
        var compacted = CreateTopic("offsets", ("cleanup.policy", "compact"), ("segment.bytes", "1024"));
        var plain = CreateTopic("plain", ("segment.bytes", "1024"));
        Fill(compacted, rounds: 40);
        Fill(plain, rounds: 40);
        long plainSize = plain.Log.SizeInBytes, compactedSize = compacted.Log.SizeInBytes;

        Assert.Equal(1, _partitions.RunCompaction(_clock.UnixTimeMilliseconds));
        Assert.Equal(plainSize, plain.Log.SizeInBytes);
        Assert.True(compacted.Log.SizeInBytes < compactedSize / 2);
        Assert.Equal(0, _partitions.RunCompaction(_clock.UnixTimeMilliseconds)); // nothing dirty any more

        Fill(compacted, rounds: 6); // a few new sealed segments
        compacted = Partition("offsets");
        double ratio = compacted.Log.CleanableDirtyRatio(compacted.Replica.HighWatermark, _clock.UnixTimeMilliseconds);
        Assert.InRange(ratio, 0.01, 0.99);

        SetConfig("offsets", "min.cleanable.dirty.ratio", (ratio + 0.005).ToString("R", CultureInfo.InvariantCulture));
        long size = compacted.Log.SizeInBytes;
        Assert.Equal(0, _partitions.RunCompaction(_clock.UnixTimeMilliseconds));
        Assert.Equal(size, compacted.Log.SizeInBytes);

        SetConfig("offsets", "min.cleanable.dirty.ratio", (ratio - 0.005).ToString("R", CultureInfo.InvariantCulture));
        Assert.Equal(1, _partitions.RunCompaction(_clock.UnixTimeMilliseconds));
        Assert.True(Partition("offsets").Log.SizeInBytes < size);
    }

    private PartitionState Partition(string topic)
    {
        Assert.True(_partitions.TryGetPartition(topic, 0, out var state));
        return state;
    }

    private void Fill(PartitionState state, int rounds)
    {
        var builder = new RecordBatchBuilder();
        for (int round = 0; round < rounds; round++)
        {
            builder.Reset(_clock.UnixTimeMilliseconds - 1000);
            for (int k = 0; k < 5; k++)
                builder.Add(_clock.UnixTimeMilliseconds - 1000, "key"u8.ToArray().Append((byte)('0' + k)).ToArray(), new byte[40]);
            state.Replica.Append(builder.Build().Span);
        }
    }

    private PartitionState CreateTopic(string name, params (string Key, string Value)[] configs)
    {
        var builder = new MetadataImageBuilder(_image);
        var id = Guid.NewGuid();
        Assert.True(builder.AddTopic(name, id));
        var draft = builder.EditTopic(id)!;
        Assert.True(draft.SetPartition(new PartitionImage(0, NodeId, 0, 0, [NodeId], [NodeId])));
        foreach (var (k, v) in configs) draft.SetConfig(k, v);
        Publish(builder);
        return Partition(name);
    }

    private void SetConfig(string topic, string key, string value)
    {
        var builder = new MetadataImageBuilder(_image);
        builder.EditTopic(_image.GetTopic(topic)!.TopicId)!.SetConfig(key, value);
        Publish(builder);
    }

    private void Publish(MetadataImageBuilder builder)
    {
        builder.LastAppliedOffset = _image.LastAppliedOffset + 1;
        _image = builder.Build();
        _partitions.ApplyImage(_image);
    }
}

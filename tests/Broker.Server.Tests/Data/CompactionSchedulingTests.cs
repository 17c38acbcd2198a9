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
    private readonly ManualClock _clock = new(DataFixture.StartTime);
    private readonly SingleNodePartitions _node;
    private readonly TopicLogOptions _options;
    private readonly PartitionManager _partitions;

    public CompactionSchedulingTests()
    {
        _node = new SingleNodePartitions("compaction-scheduling", _clock,
            "log.cleaner.min.cleanable.ratio=0.4\nlog.cleaner.delete.retention.ms=1000\n");
        Assert.True(_node.Config.LogCleanerEnable);
        Assert.Equal(15_000, _node.Config.LogCleanerBackoffMs);
        _options = _node.Options;
        _partitions = _node.Manager;
    }

    public void Dispose() => _node.Dispose();

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

    private PartitionState Partition(string topic) => _node.Partition(topic);

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

    private PartitionState CreateTopic(string name, params (string Key, string Value)[] configs) => _node.CreateTopic(name, configs);

    private void SetConfig(string topic, string key, string value) => _node.SetConfig(topic, key, value);
}

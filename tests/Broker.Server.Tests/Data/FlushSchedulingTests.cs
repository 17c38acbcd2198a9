using Broker.Config;
using Broker.Core.Records;
using Broker.Metadata.Image;
using Broker.Server.Partitions;
using Broker.Storage;
using Xunit;

namespace Broker.Server.Tests.Data;

/// <summary>
/// The flush policy as the broker runs it: broker defaults (log.flush.interval.*, write.caching.default) and topic
/// configs (flush.messages, flush.ms, write.caching) reach the logs, <see cref="PartitionManager.FlushDue"/> flushes
/// only the replicas whose oldest unflushed append is older than their flush.ms, and write.caching=false makes a
/// replica fsync before its append counts (including after a dynamic config change).
/// </summary>
public sealed class FlushSchedulingTests : IDisposable
{
    private readonly ManualClock _clock = new(DataFixture.StartTime);
    private SingleNodePartitions? _node;

    private PartitionManager Partitions => Node.Manager;
    private SingleNodePartitions Node => _node ?? throw new InvalidOperationException("call Start first");

    /// <summary>Starts a partition manager over a broker configured with <paramref name="extraProperties"/>.</summary>
    private TopicLogOptions Start(string extraProperties = "")
    {
        _node = new SingleNodePartitions("flush-scheduling", _clock, extraProperties);
        return _node.Options;
    }

    public void Dispose() => _node?.Dispose();

    [Fact]
    public void Broker_defaults_and_topic_configs_become_flush_options()
    {
        var options = Start("log.flush.interval.messages=500\nlog.flush.interval.ms=2000\nwrite.caching.default=false\n");
        Assert.Equal(500, options.Defaults.FlushIntervalMessages);
        Assert.Equal(2000, options.Defaults.FlushIntervalMs);
        Assert.False(options.Defaults.WriteCaching);
        var topic = options.For(new Dictionary<string, string> { ["flush.messages"] = "7", ["flush.ms"] = "30", ["write.caching"] = "true" });
        Assert.Equal((7L, 30L, true), (topic.FlushIntervalMessages, topic.FlushIntervalMs, topic.WriteCaching));
    }

    [Fact]
    public void FlushDue_flushes_only_replicas_whose_flush_ms_elapsed()
    {
        Start();
        var timed = CreateTopic("timed", ("flush.ms", "1000"));
        var slow = CreateTopic("slow", ("flush.ms", "60000"));
        var plain = CreateTopic("plain");
        long t0 = _clock.UnixTimeMilliseconds;
        foreach (var p in new[] { timed, slow, plain }) Produce(p, records: 3);

        Assert.Equal(0, Partitions.FlushDue(t0 + 999));
        Assert.Equal(1, Partitions.FlushDue(t0 + 1_000));
        Assert.Equal(0, Unflushed(timed));
        Assert.Equal(3, Unflushed(slow));
        Assert.Equal(3, Unflushed(plain));
        Assert.Equal(0, Partitions.FlushDue(t0 + 1_500)); // nothing new

        Assert.Equal(1, Partitions.FlushDue(t0 + 60_000));
        Assert.Equal(0, Unflushed(slow));
        Assert.Equal(3, Unflushed(plain)); // no flush.ms: left to the OS (and to shutdown)
    }

    [Fact]
    public void Flush_messages_topic_config_flushes_on_the_append()
    {
        Start();
        var counted = CreateTopic("counted", ("flush.messages", "1"));
        for (int i = 0; i < 4; i++)
        {
            Produce(counted, records: 2);
            Assert.Equal(0, Unflushed(counted));
        }
    }

    [Fact]
    public void Write_caching_off_fsyncs_before_the_append_counts_and_follows_config_changes()
    {
        Start("write.caching.default=false\n");
        var synced = CreateTopic("synced");
        var cached = CreateTopic("cached", ("write.caching", "true"));
        Produce(synced, records: 4);
        Produce(cached, records: 4);
        Assert.Equal(4, synced.Replica.HighWatermark);
        Assert.Equal(0, Unflushed(synced));
        Assert.Equal(4, Unflushed(cached));

        SetConfig("cached", "write.caching", "false"); // dynamic topic config: applies to the open log
        var now = Partition("cached");
        Assert.False(now.Log.Options.WriteCaching);
        Produce(now, records: 1);
        Assert.Equal(0, Unflushed(now));
        Assert.Equal(5, now.Replica.HighWatermark);
    }

    private static long Unflushed(PartitionState state) => ((PartitionLog)state.Log).UnflushedRecords;

    private void Produce(PartitionState state, int records)
    {
        var builder = new RecordBatchBuilder();
        builder.Reset(_clock.UnixTimeMilliseconds);
        for (int i = 0; i < records; i++) builder.Add(_clock.UnixTimeMilliseconds, default, new byte[20], keyIsNull: true);
        var result = state.Replica.Append(builder.Build().Span);
        Assert.Equal(Broker.Core.Model.ErrorCode.None, result.Error);
    }

    private PartitionState Partition(string topic) => Node.Partition(topic);

    private PartitionState CreateTopic(string name, params (string Key, string Value)[] configs) => Node.CreateTopic(name, configs);

    private void SetConfig(string topic, string key, string value) => Node.SetConfig(topic, key, value);
}

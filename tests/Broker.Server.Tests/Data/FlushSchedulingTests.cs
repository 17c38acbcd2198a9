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
    private const int NodeId = 1;
    private readonly string _dir = Directory.CreateTempSubdirectory("flush-scheduling-").FullName;
    private readonly ManualClock _clock = new(DataFixture.StartTime);
    private LogManager? _logs;
    private PartitionManager? _partitions;
    private MetadataImage _image = MetadataImage.Empty("flush-tests", NodeId);

    private PartitionManager Partitions => _partitions ?? throw new InvalidOperationException("call Start first");

    /// <summary>Starts a partition manager over a broker configured with <paramref name="extraProperties"/>.</summary>
    private TopicLogOptions Start(string extraProperties = "")
    {
        string path = Path.Combine(_dir, "server.properties");
        File.WriteAllText(path, "process.roles=broker,controller\nnode.id=1\ncontroller.quorum.voters=1@127.0.0.1:19093\n" +
            "listeners=PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093\ncontroller.listener.names=CONTROLLER\n" +
            "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT\n" + extraProperties);
        var config = BrokerConfig.Load(path, Path.Combine(_dir, "data"), null).Config;
        var options = new TopicLogOptions(config);
        _logs = new LogManager(Path.Combine(_dir, "data"), _clock);
        _partitions = new PartitionManager(_logs, NodeId, options.For);
        return options;
    }

    public void Dispose()
    {
        _partitions?.CloseReplicas();
        _partitions?.Dispose();
        _logs?.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

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

    private PartitionState Partition(string topic)
    {
        Assert.True(Partitions.TryGetPartition(topic, 0, out var state));
        return state;
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
        Partitions.ApplyImage(_image);
    }
}

using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Globalization;
using Xunit;
using Broker.Consensus;
using Broker.Core.Diagnostics;
using Broker.Core.Model;
using Broker.Metadata.Image;
using Broker.Protocol.Messages;
using Broker.Server.Handlers;
using Broker.Server.Partitions;
using Broker.Server.Pipeline;
using Broker.Server.Tests.Harness;
using Broker.Storage;

namespace Broker.Server.Tests.Data;

/// <summary>A settable clock (LogAppendTime assertions).</summary>
internal sealed class ManualClock(long nowMs) : IClock
{
    public long Now = nowMs;
    public long UnixTimeMilliseconds => Interlocked.Read(ref Now);
    public long MonotonicMilliseconds => Environment.TickCount64;
}

/// <summary>
/// A real data path in a temp directory: LogManager + PartitionManager fed with metadata images built by
/// <see cref="MetadataImageBuilder"/>, the Produce/Fetch/ListOffsets/ApiVersions handlers behind a dispatcher, and
/// the harness. Every replica is an <see cref="ObservedReplica"/> so tests can count subscriptions and read leases.
/// </summary>
internal sealed class DataFixture : IDisposable
{
    public const int NodeId = 1;
    public const long StartTime = 1_700_000_000_000;

    private MetadataImage _image = MetadataImage.Empty("data-tests", NodeId);

    public DataFixture(int fetchMaxBytes = FetchHandler.DefaultFetchMaxBytes)
    {
        Directory = Path.Combine(Path.GetTempPath(), "broker-data-" + Guid.NewGuid().ToString("N"));
        Logs = new LogManager(Directory, Clock);
        Partitions = new PartitionManager(Logs, NodeId, OptionsFor, replicaFactory: (log, p) =>
        {
            var observed = new ObservedReplica(new LocalReplicatedLog(new LeaseCountingLog(log, Leases), p.LeaderEpoch, p.Leader == NodeId));
            Replicas[log.Partition] = observed;
            return observed;
        });
        Table = new HandlerTable();
        Table.Register(new ApiVersionsHandler(Table))
            .Register(new ProduceHandler(Partitions, Clock))
            .Register(new FetchHandler(Partitions, fetchMaxBytes))
            .Register(new ListOffsetsHandler(Partitions));
        Dispatcher = new KafkaRequestDispatcher(Table);
        Harness = new HandlerHarness(Dispatcher);
    }

    public string Directory { get; }
    public ManualClock Clock { get; } = new(StartTime);
    public LogManager Logs { get; }
    public PartitionManager Partitions { get; }
    public HandlerTable Table { get; }
    public KafkaRequestDispatcher Dispatcher { get; }
    public HandlerHarness Harness { get; }
    public LeaseCounter Leases { get; } = new();
    public ConcurrentDictionary<TopicPartition, ObservedReplica> Replicas { get; } = new();
    public MetadataImage Image => _image;

    public static LogOptions OptionsFor(TopicImage topic) => new()
    {
        MaxMessageBytes = Int(topic, "max.message.bytes", 1_048_588),
        SegmentBytes = Int(topic, "segment.bytes", 1 << 20),
        RetentionMs = -1,
    };

    public Guid CreateTopic(string name, int partitions = 1, Dictionary<string, string>? configs = null, int leader = NodeId,
        int leaderEpoch = 0, int[]? replicas = null, int[]? isr = null)
    {
        var builder = new MetadataImageBuilder(_image);
        var id = Guid.NewGuid();
        Assert.True(builder.AddTopic(name, id));
        var draft = builder.EditTopic(id)!;
        var replicaSet = (replicas ?? [NodeId]).ToImmutableArray();
        for (int i = 0; i < partitions; i++)
            Assert.True(draft.SetPartition(new PartitionImage(i, leader, leaderEpoch, 0, replicaSet, (isr ?? replicas ?? [NodeId]).ToImmutableArray())));
        foreach (var (k, v) in configs ?? new()) draft.SetConfig(k, v);
        Publish(builder);
        return id;
    }

    public void SetTopicConfig(string name, string key, string? value)
    {
        var builder = new MetadataImageBuilder(_image);
        builder.EditTopic(_image.GetTopic(name)!.TopicId)!.SetConfig(key, value);
        Publish(builder);
    }

    public void SetLeaderEpoch(string name, int partition, int epoch)
    {
        var builder = new MetadataImageBuilder(_image);
        var draft = builder.EditTopic(_image.GetTopic(name)!.TopicId)!;
        draft.SetPartition(draft.GetPartition(partition)! with { LeaderEpoch = epoch });
        Publish(builder);
    }

    public void DeleteTopic(string name)
    {
        var builder = new MetadataImageBuilder(_image);
        Assert.True(builder.RemoveTopic(_image.GetTopic(name)!.TopicId));
        Publish(builder);
    }

    /// <summary>Builds the next image without applying it (on-demand creation tests).</summary>
    public MetadataImage NextImage(Action<MetadataImageBuilder> edit, bool apply = true)
    {
        var builder = new MetadataImageBuilder(_image);
        edit(builder);
        builder.LastAppliedOffset = _image.LastAppliedOffset + 1;
        _image = builder.Build();
        if (apply) Partitions.ApplyImage(_image);
        return _image;
    }

    private void Publish(MetadataImageBuilder builder)
    {
        builder.LastAppliedOffset = _image.LastAppliedOffset + 1;
        _image = builder.Build();
        Partitions.ApplyImage(_image);
    }

    // ---- requests ----

    public async Task<ProduceResponse.PartitionProduceResponse> ProduceAsync(string topic, int partition, byte[]? records,
        short version = 9, short acks = -1, int timeoutMs = 5000)
    {
        var response = await Harness.CallAsync(0, version, ProduceRequestFor(topic, partition, records, acks, timeoutMs), ProduceResponse.Read);
        var t = Assert.Single(response.Responses);
        Assert.Equal(topic, t.Name);
        var p = Assert.Single(t.PartitionResponses);
        Assert.Equal(partition, p.Index);
        return p;
    }

    public static ProduceRequest ProduceRequestFor(string topic, int partition, byte[]? records, short acks = -1, int timeoutMs = 5000) => new()
    {
        Acks = acks,
        TimeoutMs = timeoutMs,
        TopicData =
        [
            new ProduceRequest.TopicProduceData
            {
                Name = topic,
                PartitionData = [new ProduceRequest.PartitionProduceData { Index = partition, Records = records }],
            },
        ],
    };

    public static FetchRequest FetchRequestFor(string topic, int partition, long offset, int partitionMaxBytes = 1 << 20,
        int maxWaitMs = 0, int minBytes = 1, int maxBytes = int.MaxValue, int currentLeaderEpoch = -1) => new()
    {
        ReplicaId = -1,
        MaxWaitMs = maxWaitMs,
        MinBytes = minBytes,
        MaxBytes = maxBytes,
        IsolationLevel = 1,
        SessionId = 0,
        SessionEpoch = -1,
        Topics =
        [
            new FetchRequest.FetchTopic
            {
                Topic = topic,
                Partitions =
                [
                    new FetchRequest.FetchPartition
                    {
                        Partition = partition, FetchOffset = offset, PartitionMaxBytes = partitionMaxBytes,
                        CurrentLeaderEpoch = currentLeaderEpoch,
                    },
                ],
            },
        ],
    };

    public async Task<FetchResponse.PartitionData> FetchAsync(string topic, int partition, long offset, short version = 12,
        int partitionMaxBytes = 1 << 20, int maxWaitMs = 0, int minBytes = 1, int currentLeaderEpoch = -1)
    {
        var response = await Harness.CallAsync(1, version,
            FetchRequestFor(topic, partition, offset, partitionMaxBytes, maxWaitMs, minBytes, currentLeaderEpoch: currentLeaderEpoch),
            FetchResponse.Read);
        Assert.Equal(0, response.ErrorCode);
        return Assert.Single(Assert.Single(response.Responses).Partitions);
    }

    public async Task<ListOffsetsResponse.ListOffsetsPartitionResponse> ListOffsetAsync(string topic, int partition, long timestamp,
        short version = 7, int currentLeaderEpoch = -1)
    {
        var request = new ListOffsetsRequest
        {
            ReplicaId = -1,
            IsolationLevel = 1,
            Topics =
            [
                new ListOffsetsRequest.ListOffsetsTopic
                {
                    Name = topic,
                    Partitions = [new ListOffsetsRequest.ListOffsetsPartition { PartitionIndex = partition, Timestamp = timestamp, CurrentLeaderEpoch = currentLeaderEpoch }],
                },
            ],
        };
        var response = await Harness.CallAsync(2, version, request, ListOffsetsResponse.Read);
        return Assert.Single(Assert.Single(response.Topics).Partitions);
    }

    public void Dispose()
    {
        Partitions.Dispose();
        Logs.Dispose();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static int Int(TopicImage topic, string key, int fallback) =>
        topic.Configs.TryGetValue(key, out var v) ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;
}

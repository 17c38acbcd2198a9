using Broker.Consensus;
using Broker.Core.Model;
using Broker.Metadata.Controller;
using Broker.Metadata.Image;
using Broker.Metadata.Records;
using Broker.Storage;

namespace Broker.Metadata.Tests;

/// <summary>An in-memory metadata log with an applier and a controller, bootstrapped, with N unfenced brokers.</summary>
internal sealed class ControllerFixture : IDisposable
{
    private ControllerFixture(InMemoryPartitionLog storage, IReplicatedLog log, MetadataApplier applier, ClusterController controller)
    {
        Storage = storage;
        Log = log;
        Applier = applier;
        Controller = controller;
    }

    public InMemoryPartitionLog Storage { get; }
    public IReplicatedLog Log { get; }
    public MetadataApplier Applier { get; }
    public ClusterController Controller { get; }
    public MetadataImage Image => Applier.Current;

    public static async Task<ControllerFixture> StartAsync(
        int brokers = 1, ControllerOptions? options = null, Func<string, string?, string?>? validateTopicConfig = null,
        InMemoryPartitionLog? storage = null)
    {
        storage ??= new InMemoryPartitionLog();
        var log = new LocalReplicatedLog(storage, leaderEpoch: 1);
        var applier = new MetadataApplier(log, "test-cluster", () => 1);
        applier.Replay();
        var controller = new ClusterController(options ?? new ControllerOptions { NodeId = 1 }, log, applier, validateTopicConfig);
        Assert.True((await controller.BootstrapAsync()).IsSuccess);
        for (int id = 1; id <= brokers; id++)
        {
            var result = await controller.RegisterBrokerAsync(id, Guid.NewGuid(), [Endpoint(9091 + id)], rack: null);
            Assert.Equal(ErrorCode.None, result.Error);
        }
        return new ControllerFixture(storage, log, applier, controller);
    }

    public static BrokerEndpoint Endpoint(int port) => new("PLAINTEXT", "localhost", port, 0);

    public async Task<CreateTopicResult> CreateTopicAsync(string name, int partitions = 1, short replicationFactor = 1,
        IReadOnlyDictionary<string, string?>? configs = null)
    {
        var results = await Controller.CreateTopicsAsync([new NewTopicSpec(name, partitions, replicationFactor, null, configs)], validateOnly: false);
        return results[0];
    }

    public void Dispose()
    {
        Controller.Dispose();
        Applier.Dispose();
    }
}

/// <summary>A replicated log that lost leadership: reads work, appends are refused.</summary>
internal sealed class FollowerLog(IPartitionLog log) : IReplicatedLog
{
    public TopicPartition Partition => log.Partition;
    public IPartitionLog Log => log;
    public bool IsLeader => false;
    public int LeaderEpoch => 1;
    public long HighWatermark => log.LogEndOffset;
    public event Action<IReplicatedLog>? HighWatermarkAdvanced { add { } remove { } }

    public ReplicatedAppendResult Append(ReadOnlySpan<byte> batches, long? logAppendTimeMs = null) =>
        new(ErrorCode.NotLeaderOrFollower, -1, -1, -1);

    public ValueTask<ErrorCode> WaitForCommitAsync(long offset, TimeSpan timeout, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(ErrorCode.NotLeaderOrFollower);

    public void Dispose() { }
}

internal static class RecordAssert
{
    /// <summary>Records hold arrays, so compare their encodings.</summary>
    public static void SameRecord(MetadataRecord expected, MetadataRecord actual)
    {
        Assert.Equal(expected.GetType(), actual.GetType());
        Assert.Equal(MetadataRecordSerde.Serialize(expected), MetadataRecordSerde.Serialize(actual));
    }

    public static byte[] Batch(params MetadataRecord[] records) => MetadataBatchCodec.BuildBatch(records, 1_700_000_000_000);
}

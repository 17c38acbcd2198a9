using Broker.Consensus;
using Broker.Core.Model;
using Broker.Metadata.Controller;
using Broker.Storage;

namespace Broker.Metadata.Tests;

/// <summary>
/// A newly elected controller must not validate requests against an image that lacks what its predecessors
/// committed: with Raft it learns the commit index only when the first entry of its own term commits.
/// </summary>
public class NewControllerCatchUpTests
{
    [Fact]
    public async Task NewControllerWaitsForItsPredecessorsEntriesBeforeValidating()
    {
        var storage = new InMemoryPartitionLog();
        ProducerIdBlock firstBlock;
        using (var old = await ControllerFixture.StartAsync(brokers: 1, storage: storage))
        {
            Assert.Equal(ErrorCode.None, (await old.CreateTopicAsync("taken")).Error);
            firstBlock = await old.Controller.AllocateProducerIdsAsync(1, old.Image.Brokers[1].BrokerEpoch);
            Assert.Equal(ErrorCode.None, firstBlock.Error);
        }

        // The new leader has every entry but believes nothing is committed yet (high watermark 0).
        var log = new LaggingLeaderLog(storage);
        var applier = new MetadataApplier(log, "test-cluster", () => 1);
        applier.Replay();
        Assert.Empty(applier.Current.TopicsByName);
        using var controller = new ClusterController(new ControllerOptions { NodeId = 1 }, log, applier);

        var results = await controller.CreateTopicsAsync([new NewTopicSpec("taken", 1, 1, null, null)], validateOnly: false);
        Assert.Equal(ErrorCode.TopicAlreadyExists, results[0].Error);
        Assert.Equal(1, log.CommitWaits);

        var block = await controller.AllocateProducerIdsAsync(1, applier.Current.Brokers[1].BrokerEpoch);
        Assert.Equal(ErrorCode.None, block.Error);
        Assert.Equal(firstBlock.FirstProducerId + firstBlock.Size, block.FirstProducerId);
        applier.Dispose();
    }

    [Fact]
    public async Task NewControllerThatCannotCommitItsTailRefusesRequests()
    {
        var storage = new InMemoryPartitionLog();
        using (var old = await ControllerFixture.StartAsync(brokers: 1, storage: storage))
            Assert.Equal(ErrorCode.None, (await old.CreateTopicAsync("taken")).Error);

        var log = new LaggingLeaderLog(storage) { CommitOutcome = ErrorCode.RequestTimedOut };
        var applier = new MetadataApplier(log, "test-cluster", () => 1);
        applier.Replay();
        using var controller = new ClusterController(new ControllerOptions { NodeId = 1 }, log, applier);

        var results = await controller.CreateTopicsAsync([new NewTopicSpec("taken", 1, 1, null, null)], validateOnly: false);
        Assert.Equal(ErrorCode.RequestTimedOut, results[0].Error);
        Assert.Empty(applier.Current.TopicsByName);
        applier.Dispose();
    }

    /// <summary>A leader whose high watermark starts at 0 and reaches the log end on the first commit wait.</summary>
    private sealed class LaggingLeaderLog(IPartitionLog log) : IReplicatedLog
    {
        private long _highWatermark;

        public ErrorCode CommitOutcome { get; init; } = ErrorCode.None;
        public int CommitWaits { get; private set; }
        public TopicPartition Partition => log.Partition;
        public IPartitionLog Log => log;
        public bool IsLeader => true;
        public int LeaderEpoch => 2;
        public long HighWatermark => _highWatermark;
        public event Action<IReplicatedLog>? HighWatermarkAdvanced;

        public ReplicatedAppendResult Append(ReadOnlySpan<byte> batches, long? logAppendTimeMs = null)
        {
            var info = log.Append(batches, LeaderEpoch, logAppendTimeMs);
            return new ReplicatedAppendResult(ErrorCode.None, info.FirstOffset, info.LastOffset, info.LogAppendTimeMs);
        }

        public ValueTask<ErrorCode> WaitForCommitAsync(long offset, TimeSpan timeout, CancellationToken cancellationToken = default)
        {
            CommitWaits++;
            if (CommitOutcome != ErrorCode.None) return ValueTask.FromResult(CommitOutcome);
            _highWatermark = log.LogEndOffset;
            HighWatermarkAdvanced?.Invoke(this);
            return ValueTask.FromResult(offset < _highWatermark ? ErrorCode.None : ErrorCode.RequestTimedOut);
        }

        public void Dispose() { }
    }
}

using Broker.Consensus.Raft;
using Broker.Core.Model;
using Broker.Raft;
using Broker.Storage;

namespace Broker.Consensus.Tests;

/// <summary>
/// OffsetForLeaderEpoch answers from the Raft epoch history (<see cref="PartitionRaftLog.EndOffsetForEpoch"/>),
/// bounded by the log start offset, and through a real group after leader changes.
/// </summary>
public sealed class LogStartEpochLookupTests : IDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "epochs-" + Guid.NewGuid().ToString("N"));
    private readonly LogManager _manager;
    private readonly IPartitionLog _log;

    public LogStartEpochLookupTests()
    {
        _manager = new LogManager(_dir, Broker.Core.Diagnostics.SystemClock.Instance);
        _log = _manager.GetOrCreate(RaftTestCluster.Tp, new LogOptions());
    }

    public void Dispose()
    {
        _manager.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    /// <summary>Epoch 1: [0, 5); epoch 3: [5, 9); epoch 4: the no-op at 9. Log end 10.</summary>
    private PartitionRaftLog ThreeEpochs()
    {
        var raftLog = new PartitionRaftLog(_log);
        raftLog.Append(new RaftEntry(1, 0, 3, RaftTestCluster.Batch("a", "b", "c")));
        raftLog.Append(new RaftEntry(1, 3, 2, RaftTestCluster.Batch("d", "e")));
        raftLog.Append(new RaftEntry(3, 5, 4, RaftTestCluster.Batch("f", "g", "h", "i")));
        raftLog.Append(new RaftEntry(4, 9, 1, ReadOnlyMemory<byte>.Empty));
        Assert.Equal(10, raftLog.LogEndOffset);
        return raftLog;
    }

    [Theory]
    [InlineData(1, 1, 5)]   // epoch 1 ends where epoch 3 starts
    [InlineData(2, 1, 5)]   // no epoch 2: the largest below it is 1
    [InlineData(3, 3, 9)]
    [InlineData(4, 4, 10)]  // the latest epoch ends at the log end
    [InlineData(5, -1, -1)] // above the latest
    [InlineData(0, -1, -1)] // below the first
    [InlineData(-1, -1, -1)]
    public void Epochs_from_the_start(int requested, int epoch, long endOffset)
    {
        Assert.Equal((epoch, endOffset), ThreeEpochs().EndOffsetForEpoch(requested, logStartOffset: 0, currentEpoch: 4));
    }

    [Fact]
    public void A_current_epoch_without_batches_starts_at_the_log_end()
    {
        var raftLog = ThreeEpochs();
        Assert.Equal((6, 10L), raftLog.EndOffsetForEpoch(6, 0, currentEpoch: 6));
        Assert.Equal((4, 10L), raftLog.EndOffsetForEpoch(5, 0, currentEpoch: 6));
        Assert.Equal((-1, -1L), raftLog.EndOffsetForEpoch(7, 0, currentEpoch: 6));
    }

    [Fact]
    public void Epochs_below_the_one_at_the_log_start_are_unknown()
    {
        var raftLog = ThreeEpochs();
        Assert.Equal((-1, -1L), raftLog.EndOffsetForEpoch(1, logStartOffset: 6, currentEpoch: 4));
        Assert.Equal((-1, -1L), raftLog.EndOffsetForEpoch(2, 6, 4));
        Assert.Equal((3, 9L), raftLog.EndOffsetForEpoch(3, 6, 4));
        Assert.Equal((1, 5L), raftLog.EndOffsetForEpoch(1, 4, 4)); // 4 is still inside epoch 1
        // Everything deleted: the epoch of the last offset goes on at the (empty) log start.
        Assert.Equal((4, 10L), raftLog.EndOffsetForEpoch(4, 10, 4));
        Assert.Equal((-1, -1L), raftLog.EndOffsetForEpoch(3, 10, 4));
    }

    [Fact]
    public void An_empty_log_knows_only_the_current_epoch()
    {
        var raftLog = new PartitionRaftLog(_log);
        Assert.Equal((1, 0L), raftLog.EndOffsetForEpoch(1, 0, currentEpoch: 1));
        Assert.Equal((-1, -1L), raftLog.EndOffsetForEpoch(0, 0, currentEpoch: 1));
    }

    [Fact]
    public async Task A_group_answers_each_epoch_with_where_the_next_leader_started()
    {
        using var cluster = new RaftTestCluster(3);
        var first = cluster.WaitForLeader(Bound);
        Assert.Equal(ErrorCode.None, await first.WaitForCommitAsync(first.Append(RaftTestCluster.Batch("a", "b")).LastOffset, Bound));
        long firstTerm = first.Term, firstEnd = first.Log.LogEndOffset;
        RaftTestCluster.WaitUntil(() => first.InSyncCount == 3, Bound, "all in sync");

        int target = cluster.Ids.First(id => id != first.NodeId);
        Assert.True(first.TransferLeadership(target));
        RaftTestCluster.WaitUntil(() => cluster.Node(target).IsLeader, Bound, "the transfer");
        var second = cluster.Node(target);
        var appended = second.Append(RaftTestCluster.Batch("c", "d", "e"));
        Assert.Equal(ErrorCode.None, await second.WaitForCommitAsync(appended.LastOffset, Bound));

        Assert.Equal((ErrorCode.None, (int)firstTerm, firstEnd), second.EndOffsetForEpoch((int)firstTerm));
        Assert.Equal((ErrorCode.None, (int)second.Term, second.Log.LogEndOffset), second.EndOffsetForEpoch((int)second.Term));
        Assert.Equal((ErrorCode.None, -1, -1L), second.EndOffsetForEpoch((int)second.Term + 1));
        Assert.Equal(ErrorCode.NotLeaderOrFollower, first.EndOffsetForEpoch((int)firstTerm).Error);

        // Deleting past the first epoch's records makes that epoch unknown.
        Assert.Equal(ErrorCode.None, (await second.DeleteRecordsAsync(firstEnd + 1, Bound)).Error);
        Assert.Equal((ErrorCode.None, -1, -1L), second.EndOffsetForEpoch((int)firstTerm));
    }
}

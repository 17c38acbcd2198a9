using Broker.Consensus.Raft;
using Broker.Core.Model;

namespace Broker.Consensus.Tests;

/// <summary>
/// Quiet groups (<see cref="RaftReplicatedLog.IsQuiet"/>: a sole voter that leads) are ticked a tenth as often by the
/// <see cref="RaftTicker"/>: they still commit at once, still get their (slower) ticks, and groups with peers are never
/// quiet. Registration keeps the group count exact through stops and restarts.
/// </summary>
public sealed class QuietTickTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    [Fact]
    public void A_sole_voter_leader_is_quiet_commits_at_once_and_is_still_ticked()
    {
        using var cluster = new RaftTestCluster(1);
        var node = cluster.WaitForLeader(Bound);
        RaftTestCluster.WaitUntil(() => node.IsQuiet, Bound, "the sole voter to become quiet");

        var appended = node.Append(RaftTestCluster.Batch("a", "b", "c"));
        Assert.Equal(ErrorCode.None, appended.Error);
        Assert.Equal(appended.LastOffset + 1, node.HighWatermark); // no tick needed to commit
        Assert.True(node.WaitForCommitAsync(appended.LastOffset, TimeSpan.Zero).IsCompletedSuccessfully);

        // The commit hint is persisted by ticks (every CommitPersistTicks of them): it must still happen.
        var store = new FileHardStateStore(cluster.PartitionDir(1));
        RaftTestCluster.WaitUntil(() => store.Load().Commit >= appended.LastOffset, Bound, "the quiet group's commit hint on disk");
        Assert.True(node.IsQuiet);
    }

    [Fact]
    public void Groups_with_peers_are_never_quiet()
    {
        using var cluster = new RaftTestCluster(3, learners: 1);
        var leader = cluster.WaitForLeader(Bound);
        Assert.Equal(ErrorCode.None, leader.Append(RaftTestCluster.Batch("x")).Error);
        Thread.Sleep(200); // twenty ticks
        foreach (var replica in cluster.Replicas) Assert.False(replica!.IsQuiet, $"{replica} is quiet");
        Assert.Equal(4, cluster.Ticker.GroupCount);

        cluster.Stop(2);
        Assert.Equal(3, cluster.Ticker.GroupCount);
        cluster.Start(2);
        Assert.Equal(4, cluster.Ticker.GroupCount);
    }
}

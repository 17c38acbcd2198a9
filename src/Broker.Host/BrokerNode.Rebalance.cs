using Broker.Consensus.Raft;
using Broker.Server.Partitions;

namespace Broker.Host;

// Preferred-leader rebalancing (auto.leader.rebalance.enable): leadership that failover moved away goes back to
// each partition's preferred replica, the first of its replicas, which the controller's placement balanced.
public sealed partial class BrokerNode
{
    private Task _rebalance = Task.CompletedTask;

    private void StartPreferredLeaderRebalance()
    {
        if (!Config.AutoLeaderRebalanceEnable) return;
        _rebalance = RunPreferredLeaderRebalanceAsync(TimeSpan.FromSeconds(Config.LeaderImbalanceCheckIntervalSeconds), _stopping.Token);
    }

    private async Task RunPreferredLeaderRebalanceAsync(TimeSpan interval, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(interval);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                try
                {
                    int moved = HandBackToPreferredLeaders();
                    if (moved > 0) Logger.Info($"handing leadership of {moved} partitions back to their preferred replicas");
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    Logger.Error("preferred leader rebalance failed", ex);
                }
            }
        }
        catch (OperationCanceledException) { }
    }

    /// <summary>For each partition led here whose preferred replica is another node that is in sync, starts a
    /// leadership transfer to it. Returns how many transfers started.</summary>
    private int HandBackToPreferredLeaders()
    {
        int moved = 0;
        foreach (PartitionState p in _partitions!.Partitions)
        {
            if (p.Replica is not RaftReplicatedLog group || !group.IsLeader || p.Image.Replicas.IsEmpty) continue;
            int preferred = p.Image.Replicas[0];
            if (preferred != Config.NodeId && TransferToInSyncReplica(group, preferred)) moved++;
        }
        return moved;
    }

    /// <summary>
    /// Starts handing <paramref name="group"/>'s leadership to <paramref name="target"/> (or, with -1, to any other
    /// in-sync replica) when that replica is in sync; false when there is none or the transfer was refused.
    /// </summary>
    private bool TransferToInSyncReplica(RaftReplicatedLog group, int target = -1)
    {
        foreach (int id in group.InSyncReplicas())
        {
            if (id == Config.NodeId || (target >= 0 && id != target)) continue;
            if (group.TransferLeadership(id)) return true;
        }
        return false;
    }
}

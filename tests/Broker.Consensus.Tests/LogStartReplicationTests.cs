using Broker.Consensus.Raft;
using Broker.Core.Model;
using Broker.Raft.Messages;

namespace Broker.Consensus.Tests;

/// <summary>
/// DeleteRecords on a Raft group: the leader's log start offset travels in AppendEntries requests and responses, the
/// leader answers once the in-sync replicas have it, and a leader elected without it learns it back.
/// </summary>
public sealed class LogStartReplicationTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    /// <summary>Four committed batches of three records ([0, 12)) on every replica.</summary>
    private static async Task<RaftReplicatedLog> FillAsync(RaftTestCluster cluster)
    {
        var leader = cluster.WaitForLeader(Bound);
        long last = -1;
        for (int i = 0; i < 4; i++) last = leader.Append(RaftTestCluster.Batch($"a{i}", $"b{i}", $"c{i}")).LastOffset;
        Assert.Equal(ErrorCode.None, await leader.WaitForCommitAsync(last, Bound));
        RaftTestCluster.WaitUntil(() => cluster.Replicas.All(r => r!.HighWatermark == last + 1), Bound, "every replica to know the commit");
        return leader;
    }

    [Fact]
    public async Task DeleteRecords_reaches_every_replica_and_survives_leader_loss_and_restart()
    {
        using var cluster = new RaftTestCluster(3);
        var leader = await FillAsync(cluster);
        long end = leader.HighWatermark;
        Assert.Equal(12, end);

        var result = await leader.DeleteRecordsAsync(7, Bound); // inside the batch [6, 9)
        Assert.Equal((ErrorCode.None, 7L), (result.Error, result.LowWatermark));
        // Answered only after every in-sync follower acknowledged a message carrying it.
        foreach (var replica in cluster.Replicas) Assert.Equal(7, replica!.Log.LogStartOffset);
        Assert.All(leader.PeerLogStartOffsets().Values, v => Assert.Equal(7, v));
        Assert.Equal(0, leader.Log.StoredStartOffset); // the data is still stored for replication

        var follower = cluster.Replicas.First(r => !r!.IsLeader)!;
        Assert.Equal(ErrorCode.NotLeaderOrFollower, (await follower.DeleteRecordsAsync(9, Bound)).Error);
        var tooFar = await leader.DeleteRecordsAsync(end + 1, Bound);
        Assert.Equal((ErrorCode.OffsetOutOfRange, 7L), (tooFar.Error, tooFar.LowWatermark));
        Assert.Equal(ErrorCode.OffsetOutOfRange, (await leader.DeleteRecordsAsync(-2, Bound)).Error);
        Assert.Equal((ErrorCode.None, 7L), ((await leader.DeleteRecordsAsync(3, Bound)).Error, leader.Log.LogStartOffset)); // no-op

        var all = await leader.DeleteRecordsAsync(-1, Bound); // -1 = the high watermark
        Assert.Equal((ErrorCode.None, end), (all.Error, all.LowWatermark));

        int old = leader.NodeId;
        cluster.Stop(old);
        var next = cluster.WaitForLeader(Bound, exclude: old);
        Assert.Equal(end, next.Log.LogStartOffset);
        Assert.True(next.Log.Read(end - 1, 1000, long.MaxValue, true).OutOfRange);
        var appended = next.Append(RaftTestCluster.Batch("after")); // appends go on past the deleted range
        Assert.Equal(ErrorCode.None, appended.Error);
        Assert.True(appended.FirstOffset >= end);

        var restarted = cluster.Start(old);
        Assert.Equal(end, restarted.Log.LogStartOffset); // persisted by the old leader itself
    }

    [Fact]
    public async Task An_unreachable_follower_delays_the_answer_until_it_leaves_the_in_sync_set_and_learns_it_later()
    {
        using var cluster = new RaftTestCluster(3, replicaLagTicks: 20);
        var leader = await FillAsync(cluster);
        int lagging = cluster.Ids.First(id => id != leader.NodeId);
        cluster.Network.Isolate(lagging);

        var result = await leader.DeleteRecordsAsync(5, Bound);
        Assert.Equal((ErrorCode.None, 5L), (result.Error, result.LowWatermark));
        Assert.DoesNotContain(lagging, leader.InSyncReplicas());
        Assert.Equal(0, cluster.Node(lagging).Log.LogStartOffset);

        cluster.Network.Heal(lagging);
        RaftTestCluster.WaitUntil(() => cluster.Node(lagging).Log.LogStartOffset == 5, Bound, "the healed follower to learn the log start");
    }

    [Fact]
    public async Task A_short_timeout_answers_request_timed_out_while_the_leader_keeps_its_new_start()
    {
        using var cluster = new RaftTestCluster(3, electionTicks: 50); // followers stay in sync for 50 ticks unheard
        var leader = await FillAsync(cluster);
        foreach (int id in cluster.Ids) if (id != leader.NodeId) cluster.Network.Isolate(id);
        var result = await leader.DeleteRecordsAsync(4, TimeSpan.FromMilliseconds(50));
        Assert.Equal(ErrorCode.RequestTimedOut, result.Error);
        Assert.Equal(4, leader.Log.LogStartOffset);
    }

    [Fact]
    public async Task A_leader_elected_without_the_log_start_learns_it_from_a_follower()
    {
        using var cluster = new RaftTestCluster(3, replicaLagTicks: 20);
        var leader = await FillAsync(cluster);
        int unaware = cluster.Ids.First(id => id != leader.NodeId);
        int aware = cluster.Ids.First(id => id != leader.NodeId && id != unaware);
        cluster.Network.Isolate(unaware);
        Assert.Equal(ErrorCode.None, (await leader.DeleteRecordsAsync(10, Bound)).Error);
        RaftTestCluster.WaitUntil(() => cluster.Node(aware).Log.LogStartOffset == 10, Bound, "the in-sync follower to have it");

        // Only the unaware replica may win the next election (the aware one's vote requests are dropped).
        cluster.Network.Filter = (_, m) => !(m is VoteRequest && m.From == aware);
        cluster.Stop(leader.NodeId);
        cluster.Network.Heal(unaware);
        var next = cluster.WaitForLeader(Bound);
        Assert.Equal(unaware, next.NodeId);
        RaftTestCluster.WaitUntil(() => next.Log.LogStartOffset == 10, Bound, "the new leader to learn the log start from its follower");
        Assert.True(next.Log.Read(9, 1000, long.MaxValue, true).OutOfRange);
        cluster.Network.Filter = null;
    }

    [Fact]
    public void A_follower_adopts_the_leaders_log_start_only_up_to_its_own_commit_and_reports_it()
    {
        string dir = Path.Combine(Path.GetTempPath(), "logstart-follower-" + Guid.NewGuid().ToString("N"));
        var network = new InMemoryRaftNetwork();
        var responses = new System.Collections.Concurrent.ConcurrentQueue<AppendResponse>();
        using var subscription = network.Endpoint(1).Subscribe(RaftTestCluster.Tp, m =>
        {
            if (m is AppendResponse r) responses.Enqueue(r);
        });
        try
        {
            using var manager = new Broker.Storage.LogManager(dir, Broker.Core.Diagnostics.SystemClock.Instance);
            var log = manager.GetOrCreate(RaftTestCluster.Tp, new Broker.Storage.LogOptions());
            // Node 2 follows; without a ticker it never campaigns, so node 1 (this test) leads term 1 by its messages.
            using var follower = new RaftReplicatedLog(log, network.Endpoint(2),
                new RaftGroupOptions { NodeId = 2, Voters = [1, 2], StateDirectory = dir }, ticker: null);
            var batch = RaftTestCluster.Batch("a", "b", "c");
            Broker.Raft.RaftEntry[] entries = [new(1, 0, 3, batch), new(1, 3, 3, batch)];

            // Entries [0, 6) with commit 2 and the leader's log start 5: only [0, 3) is committed here.
            network.Endpoint(1).Send(RaftTestCluster.Tp, new AppendRequest(1, 2, 1, -1, 0, 2, entries) { LogStartOffset = 5 });
            var first = Next(responses);
            Assert.True(first.Success);
            Assert.Equal(3, log.LogStartOffset);
            Assert.Equal(3, first.LogStartOffset); // the response carries what the follower now has

            // A heartbeat committing everything: the rest of the leader's log start is adopted.
            network.Endpoint(1).Send(RaftTestCluster.Tp, new AppendRequest(1, 2, 1, 5, 1, 5, []) { LogStartOffset = 5 });
            Assert.Equal(5, Next(responses).LogStartOffset);
            Assert.Equal(5, log.LogStartOffset);

            // Never beyond the follower's commit + 1, whatever it is told; never backwards.
            network.Endpoint(1).Send(RaftTestCluster.Tp, new AppendRequest(1, 2, 1, 5, 1, 5, []) { LogStartOffset = 100 });
            Assert.Equal(6, Next(responses).LogStartOffset);
            network.Endpoint(1).Send(RaftTestCluster.Tp, new AppendRequest(1, 2, 1, 5, 1, 5, []) { LogStartOffset = 2 });
            Assert.Equal(6, Next(responses).LogStartOffset);
            Assert.Equal(6, log.LogStartOffset);
            Assert.Equal(ErrorCode.NotLeaderOrFollower, follower.EndOffsetForEpoch(1).Error);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static AppendResponse Next(System.Collections.Concurrent.ConcurrentQueue<AppendResponse> responses)
    {
        AppendResponse? response = null;
        RaftTestCluster.WaitUntil(() => responses.TryDequeue(out response), Bound, "the follower's append response");
        return response!;
    }

    [Fact]
    public void The_log_start_fields_round_trip_through_the_codec()
    {
        var request = new AppendRequest(1, 2, 5, 9, 4, 8, [new Broker.Raft.RaftEntry(5, 10, 2, new byte[] { 1, 2 })]) { LogStartOffset = 123 };
        var decoded = Assert.IsType<AppendRequest>(RaftMessageCodec.Read(RaftMessageCodec.Encode(request)));
        Assert.Equal(123, decoded.LogStartOffset);
        Assert.Equal(-1, ((AppendRequest)RaftMessageCodec.Read(RaftMessageCodec.Encode(request with { LogStartOffset = -1 }))).LogStartOffset);
        var response = new AppendResponse(2, 1, 5, true, 11, -1, -1, 0) { LogStartOffset = 77 };
        Assert.Equal(response, RaftMessageCodec.Read(RaftMessageCodec.Encode(response)));
        byte[] bytes = RaftMessageCodec.Encode(response);
        Assert.Throws<RaftCodecException>(() => RaftMessageCodec.Read(bytes.AsSpan(0, bytes.Length - 8)));
    }
}

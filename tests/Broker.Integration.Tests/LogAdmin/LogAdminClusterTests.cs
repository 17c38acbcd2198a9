using System.Diagnostics;
using System.Text.Json;
using Broker.Integration.Tests.Cluster;
using Broker.Integration.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace Broker.Integration.Tests.LogAdmin;

/// <summary>
/// The log admin APIs on a 3-node cluster (every partition a Raft group): DeleteRecords survives kill -9 of the
/// leader (the new leader's earliest offset is the deleted-up-to offset; kcat and librdkafka consumers "from the
/// beginning" start there), OffsetForLeaderEpoch after two leader changes answers each epoch with where the next
/// leader started, ElectLeaders brings leadership back to the preferred replica after it moved away.
/// </summary>
[Trait("Category", "Cluster")]
public sealed class LogAdminClusterTests : ClusterTest
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);
    // Leadership must only move when the tests move it.
    private static readonly Dictionary<string, string> NoRebalance = new() { ["auto.leader.rebalance.enable"] = "false" };

    public LogAdminClusterTests(ITestOutputHelper output) : base(output) { }

    private JsonElement Clients(ClusterProcess cluster, params string[] args) =>
        AssertScriptOk(Python("logadmin_clients.py", args.Concat(["--bootstrap", cluster.Bootstrap, "--timeout", "30"]).ToArray()),
            cluster, $"logadmin_clients.py {string.Join(' ', args)}");

    private static long GetLong(JsonElement summary, string property) =>
        summary.TryGetProperty(property, out var p) && p.ValueKind == JsonValueKind.Number ? p.GetInt64() : -1;

    private static WireConnection Connect(ClusterProcess cluster, int node) =>
        new(cluster.Node(node).Host, cluster.Node(node).KafkaPort, "logadmin-cluster");

    /// <summary>Runs <paramref name="call"/> against the partition's leader, re-resolving it while a broker answers
    /// NOT_LEADER_OR_FOLLOWER (the metadata learns about a new leader a moment after the election).</summary>
    private T OnLeader<T>(ClusterProcess cluster, string topic, Func<WireConnection, T> call, Func<T, short> errorOf)
    {
        var sw = Stopwatch.StartNew();
        while (true)
        {
            int leader = cluster.LeaderOf(topic);
            T result;
            using (var c = Connect(cluster, leader)) result = call(c);
            if (errorOf(result) != LogAdminWire.NotLeaderOrFollower || sw.Elapsed > Bound) return result;
            Thread.Sleep(200);
        }
    }

    [Fact]
    public void Deleted_records_stay_deleted_after_the_leader_is_killed()
    {
        var cluster = StartCluster("purge3", ClusterLayout.Combined(3), NoRebalance);
        const string topic = "purge";
        cluster.CreateTopic(topic, 1, 3);
        Assert.Equal(39, GetLong(Clients(cluster, "produce", "--topic", topic, "--count", "40"), "last"));

        var deleted = OnLeader(cluster, topic, c => LogAdminWire.DeleteRecords(c, 1, topic, 0, 13), d => d.Error);
        Assert.Equal((0, 13L), ((int)deleted.Error, deleted.LowWatermark));
        // Answered once every in-sync replica had it: each replica's own log start (replica id -2 may ask a follower;
        // a follower that dropped out of the in-sync set on this loaded machine gets it with its next heartbeat).
        foreach (var node in cluster.RunningBrokers)
        {
            using var c = Connect(cluster, node.Id);
            var sw = Stopwatch.StartNew();
            (short Error, long Offset, int LeaderEpoch) start;
            while ((start = LogAdminWire.ListOffset(c, topic, 0, -2, replicaId: -2)).Offset != 13 && sw.ElapsedMilliseconds < 5000) Thread.Sleep(100);
            Assert.Equal((0, 13L), ((int)start.Error, start.Offset));
        }

        int old = cluster.LeaderOf(topic);
        cluster.Node(old).Kill();
        cluster.WaitForLeaders(topic, 1, Bound, p => p.Leader != old);
        var earliest = OnLeader(cluster, topic, c => LogAdminWire.ListOffset(c, topic, 0, -2), r => r.Error);
        Assert.Equal((0, 13L), ((int)earliest.Error, earliest.Offset));

        var kcat = ScriptRunner.Run("kcat", ["-C", "-b", string.Join(',', cluster.RunningBrokers.Select(n => $"{n.Host}:{n.KafkaPort}")),
            "-t", topic, "-p", "0", "-o", "beginning", "-e", "-q", "-f", "%o\\n", "-X", "broker.address.family=v4"], Bound);
        Log(kcat);
        Assert.True(kcat.Succeeded, kcat.Describe());
        var offsets = kcat.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(long.Parse).ToList();
        Assert.Equal(Enumerable.Range(13, 27).Select(i => (long)i), offsets);
        var confluent = Clients(cluster, "consume", "--topic", topic, "--client", "confluent");
        Assert.Equal((13L, 13L, 27L), (GetLong(confluent, "low"), GetLong(confluent, "first"), GetLong(confluent, "count")));

        // The killed leader comes back with its own persisted log start.
        cluster.Restart(old);
        using var back = Connect(cluster, old);
        Assert.Equal(13L, LogAdminWire.ListOffset(back, topic, 0, -2, replicaId: -2).Offset);
    }

    [Fact]
    public void OffsetForLeaderEpoch_after_two_leader_changes_matches_where_each_epoch_started()
    {
        var cluster = StartCluster("epochs3", ClusterLayout.Combined(3), NoRebalance);
        const string topic = "epochs";
        cluster.CreateTopic(topic, 1, 3);
        var epochs = new List<(int Epoch, long Start)>();
        long previousEnd = 0;
        for (int round = 0; round < 3; round++)
        {
            if (round > 0)
            {
                int leader = cluster.LeaderOf(topic);
                cluster.Node(leader).Kill();
                cluster.WaitForLeaders(topic, 1, Bound, p => p.Leader != leader);
                cluster.Restart(leader);
            }
            var before = OnLeader(cluster, topic, c => LogAdminWire.ListOffset(c, topic, 0, -1), r => r.Error);
            Clients(cluster, "produce", "--topic", topic, "--count", "10");
            var after = OnLeader(cluster, topic, c => LogAdminWire.ListOffset(c, topic, 0, -1), r => r.Error);
            Assert.Equal(before.LeaderEpoch, after.LeaderEpoch);
            // Every acks=all produce is committed, so the previous leader's log ended at its high watermark; the new
            // leader's first entry (a no-op or a batch) went right there.
            epochs.Add((after.LeaderEpoch, previousEnd));
            Output.WriteLine($"epoch {after.LeaderEpoch}: from {previousEnd}, high watermark {before.Offset} -> {after.Offset}");
            previousEnd = after.Offset;
        }
        Assert.True(epochs[0].Epoch < epochs[1].Epoch && epochs[1].Epoch < epochs[2].Epoch, string.Join(", ", epochs));

        var end = OnLeader(cluster, topic, c => LogAdminWire.ListOffset(c, topic, 0, -1), r => r.Error).Offset;
        for (short version = 3; version <= 4; version++)
        {
            for (int i = 0; i < epochs.Count; i++)
            {
                int epoch = epochs[i].Epoch;
                long expectedEnd = i + 1 < epochs.Count ? epochs[i + 1].Start : end;
                var answer = OnLeader(cluster, topic, c => LogAdminWire.OffsetForLeaderEpoch(c, version, topic, 0, epoch), r => r.Error);
                Assert.Equal(((short)0, epoch, expectedEnd), answer);
            }
            var fenced = OnLeader(cluster, topic, c => LogAdminWire.OffsetForLeaderEpoch(c, version, topic, 0, epochs[0].Epoch,
                currentLeaderEpoch: epochs[0].Epoch), r => r.Error);
            Assert.Equal(LogAdminWire.FencedLeaderEpoch, fenced.Error);
        }
    }

    [Fact]
    public void ElectLeaders_brings_leadership_back_to_the_preferred_replica()
    {
        var cluster = StartCluster("elect3", ClusterLayout.Combined(3), NoRebalance);
        const string topic = "elect";
        cluster.CreateTopic(topic, 3, 3);
        var placed = cluster.WaitForLeaders(topic, 3, Bound, p => p.Leader == p.Replicas[0]);
        int preferred = placed.Partitions[0].Replicas[0];
        var all = new[] { (topic, new[] { 0, 1, 2 }) };

        using (var c = Connect(cluster, preferred))
        {
            // Right after creation a partition's Raft group may not have elected its leader yet (Metadata already
            // names the planned leader): the answer is then "no leader at the moment"; ask again, bounded.
            var (error, results) = LogAdminWire.ElectLeaders(c, 2, 0, all);
            var deadline = DateTime.UtcNow.AddSeconds(15);
            while (error == 0 && DateTime.UtcNow < deadline && results.Any(r => r.Error != LogAdminWire.ElectionNotNeeded))
            {
                Thread.Sleep(200);
                (error, results) = LogAdminWire.ElectLeaders(c, 2, 0, all);
            }
            Assert.Equal(0, error);
            Assert.All(results, r => Assert.Equal(LogAdminWire.ElectionNotNeeded, r.Error));
            var unclean = LogAdminWire.ElectLeaders(c, 1, 1, [(topic, [0])]).Results.Single();
            Assert.Equal(LogAdminWire.InvalidRequest, unclean.Error);
            Assert.Contains("unclean leader election is not supported", unclean.Message);
        }

        cluster.Node(preferred).Kill();
        var moved = cluster.WaitForLeaders(topic, 3, Bound, p => p.Leader != preferred);
        Output.WriteLine($"after killing {preferred}: {moved}");
        cluster.Restart(preferred);
        Assert.True(WaitForIsr(cluster, topic, preferred, Bound), $"node {preferred} never rejoined the ISR\n{cluster.DescribeState()}");
        Assert.NotEqual(preferred, cluster.LeaderOf(topic)); // no automatic rebalance: it stays away

        // Asked on the preferred replica itself, which leads nothing now: forwarded to the current leaders.
        var sw = Stopwatch.StartNew();
        List<ElectionResult> outcome;
        while (true)
        {
            using var c = Connect(cluster, preferred);
            outcome = LogAdminWire.ElectLeaders(c, 2, 0, all).Results;
            Output.WriteLine(string.Join("; ", outcome));
            // PREFERRED_LEADER_NOT_AVAILABLE only while the restarted replica is not yet in sync on its leader.
            if (outcome.All(r => r.Error != LogAdminWire.PreferredLeaderNotAvailable) || sw.Elapsed > Bound) break;
            Thread.Sleep(500);
        }
        var p0 = Assert.Single(outcome, r => r.Partition == 0);
        Assert.Equal(0, p0.Error);
        Assert.All(outcome, r => Assert.True(r.Error is 0 or LogAdminWire.ElectionNotNeeded, r.ToString()));
        var back = cluster.WaitForLeaders(topic, 3, Bound, p => p.Leader == p.Replicas[0]);
        Output.WriteLine($"after ElectLeaders: {back}");
        Assert.True(back.Partitions[0].LeaderEpoch > moved.Partitions[0].LeaderEpoch, $"{moved} -> {back}");

        using (var c = Connect(cluster, cluster.Brokers.First(n => n.Id != preferred).Id))
        {
            var again = LogAdminWire.ElectLeaders(c, 1, 0, all).Results;
            Assert.All(again, r => Assert.Equal(LogAdminWire.ElectionNotNeeded, r.Error));
            // All partitions (null): nothing needs an election, so nothing is listed.
            var (error, none) = LogAdminWire.ElectLeaders(c, 2, 0, null);
            Assert.Equal((0, 0), ((int)error, none.Count));
        }
    }
}

using System.Diagnostics;
using Broker.Integration.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace Broker.Integration.Tests.Cluster;

/// <summary>
/// auto.leader.rebalance.enable: after the preferred replica (the first of a partition's replicas, where placement
/// put the leader) is killed and comes back, leadership returns to it once it is in sync again, so leaders stay
/// balanced across brokers instead of piling up on the survivors of past failures.
/// </summary>
[Trait("Category", "Cluster")]
public sealed class PreferredLeaderTests : ClusterTest
{
    public PreferredLeaderTests(ITestOutputHelper output) : base(output) { }

    [Fact]
    public void LeadershipReturnsToThePreferredReplicaAfterItRestarts()
    {
        var cluster = StartCluster("pref", ClusterLayout.Combined(3),
            new Dictionary<string, string> { ["leader.imbalance.check.interval.seconds"] = "1" });
        const string topic = "preferred";
        cluster.CreateTopic(topic, partitions: 1, replicationFactor: 3);
        var initial = cluster.WaitForLeaders(topic, 1, TimeSpan.FromSeconds(20)).Partitions[0];
        int preferred = initial.Replicas[0];
        // A new partition's placed leader campaigns first, so it starts as leader.
        initial = cluster.WaitForLeaders(topic, 1, TimeSpan.FromSeconds(20), p => p.Leader == preferred).Partitions[0];
        Output.WriteLine($"initial: {initial}");

        cluster.Node(preferred).Kill();
        var failover = cluster.WaitForLeaders(topic, 1, TimeSpan.FromSeconds(20), p => p.Leader != preferred && p.Leader >= 0).Partitions[0];
        Output.WriteLine($"after killing {preferred}: {failover}");

        cluster.Restart(preferred);
        var sw = Stopwatch.StartNew();
        var back = cluster.WaitForLeaders(topic, 1, TimeSpan.FromSeconds(30), p => p.Leader == preferred).Partitions[0];
        Output.WriteLine($"leadership back on {preferred} {sw.ElapsedMilliseconds} ms after its restart: {back}");
        Assert.True(back.LeaderEpoch > failover.LeaderEpoch, $"epoch did not move forward: {failover} -> {back}");
    }
}

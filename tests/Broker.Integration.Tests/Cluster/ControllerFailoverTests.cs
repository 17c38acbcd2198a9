using System.Diagnostics;
using Broker.Integration.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace Broker.Integration.Tests.Cluster;

/// <summary>
/// The active controller (the metadata quorum's leader, reported as Metadata's ControllerId on a combined cluster)
/// is SIGKILLed: another node takes over within seconds, the dead broker is fenced and leaves the broker list,
/// and topic creation keeps working; after the node returns, an RF=3 topic can be created again.
/// </summary>
[Trait("Category", "Cluster")]
public sealed class ControllerFailoverTests : ClusterTest
{
    public ControllerFailoverTests(ITestOutputHelper output) : base(output) { }

    [Fact]
    public void ActiveControllerKill9_NewControllerElected_CreateTopicsStillWorks()
    {
        var cluster = StartCluster("ctl", ClusterLayout.Combined(3));
        cluster.CreateTopic("before", partitions: 1, replicationFactor: 3);
        int controller = cluster.WaitForController(TimeSpan.FromSeconds(10));

        cluster.Node(controller).Kill();
        var sw = Stopwatch.StartNew();
        int next = cluster.WaitForController(TimeSpan.FromSeconds(15), notId: controller);
        long electedMs = sw.ElapsedMilliseconds;

        // The dead broker must be fenced (dropped from Metadata) before new topics can avoid it.
        int[] alive = cluster.Nodes.Where(n => n.IsRunning).Select(n => n.Id).ToArray();
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var md = cluster.TryMetadata(out string? problem);
            if (md is not null && md.Brokers.Select(b => b.NodeId).Order().SequenceEqual(alive)) break;
            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(25),
                $"killed broker {controller} still listed (or metadata unavailable: {problem}) {deadline.Elapsed.TotalSeconds:F0} s after the kill: {md}\n{cluster.DescribeState()}");
            Thread.Sleep(200);
        }
        long fencedMs = sw.ElapsedMilliseconds;

        var created = cluster.CreateTopic("after-failover", partitions: 2, replicationFactor: 2, timeout: TimeSpan.FromSeconds(20));
        Assert.All(created.Partitions, p => Assert.DoesNotContain(controller, p.Replicas));
        AssertScriptOk(Confluent(cluster, null, "roundtrip", "--topic", "after-failover", "--no-create", "--partitions", "2",
            "--codecs", "none", "--count", "100"), cluster, "roundtrip on a topic created by the new controller");

        cluster.Restart(controller);
        cluster.CreateTopic("after-rejoin", partitions: 1, replicationFactor: 3, timeout: TimeSpan.FromSeconds(25));
        string line = $"[cluster-failover] controller {controller} killed: controller {next} elected after {electedMs} ms; " +
                      $"dead broker fenced after {fencedMs} ms";
        Output.WriteLine(line);
        Console.WriteLine(line);
    }
}

using Broker.Integration.Tests.Cluster;
using Broker.Integration.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;
using static Broker.Integration.Tests.Client.ClientGroupSteps;

namespace Broker.Integration.Tests.Client;

/// <summary>
/// Two of our <see cref="Broker.Client.GroupConsumer"/> members in a 3-node cluster (__consumer_offsets and the topic
/// with replication factor 3): the group's coordinator is SIGKILLed; the members find the new coordinator (the
/// leader of the group's offsets partition moves), go on consuming what is produced after the kill (partition
/// leaders move too) without re-reading what they had committed, and commit through the new coordinator.
/// </summary>
[Trait("Category", "Cluster")]
public sealed class ClientGroupClusterTests : ClusterTest
{
    public ClientGroupClusterTests(ITestOutputHelper output) : base(output) { }

    [Fact]
    public async Task CoordinatorKill9_MembersMoveToNewCoordinator_KeepConsumingAndCommitting()
    {
        using var clientLog = new ClientLogCapture(Output);
        var cluster = StartCluster("client-group-coord", ClusterLayout.Combined(3), new Dictionary<string, string>
        {
            ["offsets.topic.replication.factor"] = "3",
            ["offsets.topic.num.partitions"] = "4",
            ["group.initial.rebalance.delay.ms"] = "0",
        });
        const string topic = "coord";
        const string group = "coord-group";
        cluster.CreateTopic(topic, 4, 3);
        await using var client = NewClient(cluster.Bootstrap, "coord-admin");

        await using var a = await ClientGroupMember.StartAsync("a", client, MemberOptions(group), topic);
        await using var b = await ClientGroupMember.StartAsync("b", client, MemberOptions(group), topic);
        var members = new[] { a, b };
        await WaitUntilAsync("two members split 4 partitions 2/2", () => SplitProblem(members, 4, 2, 2), TimeSpan.FromSeconds(60),
            () => Describe(members, cluster), Output);
        // Produced once the group is stable, so no rebalance makes a member re-read what the other had consumed.
        var before = await ProduceIdsAsync(client, topic, 4, 50, firstId: 0);
        await WaitUntilAsync("the first 200 consumed", () => ConsumedAtLeast(members, before), TimeSpan.FromSeconds(60),
            () => Describe(members, cluster), Output);
        foreach (var m in members) await ClientGroupFailoverTests.CommitEventuallyAsync(m.Consumer, TimeSpan.FromSeconds(20));
        int consumedBefore = members.Sum(m => m.Records.Count);

        int coordinator = await client.FindGroupCoordinatorAsync(group);
        Output.WriteLine($"killing coordinator node {coordinator}");
        cluster.Node(coordinator).Kill();

        var after = await ProduceIdsAsync(client, topic, 4, 50, firstId: 10_000);
        await WaitUntilAsync("the 200 produced after the kill consumed", () => ConsumedAtLeast(members, after), TimeSpan.FromSeconds(90),
            () => Describe(members, cluster), Output);
        // Everything before the kill was committed: nothing of it may come again, whatever rebalances happened.
        var again = members.SelectMany(m => m.Records).Select(IdOf).Where(before.Contains).GroupBy(i => i).Where(g => g.Count() > 1).ToList();
        Assert.True(again.Count == 0, $"{again.Count} committed records delivered again, e.g. {string.Join(",", again.Take(5).Select(g => g.Key))}");
        Assert.True(members.Sum(m => m.Records.Count) >= consumedBefore + 200);

        // Consuming needs only the partition leaders to move; the offsets partition's new leader (the coordinator)
        // may be reported a little later, so ask until a live node answers for the group (bounded).
        int newCoordinator = coordinator;
        var coordinatorWait = System.Diagnostics.Stopwatch.StartNew();
        while (newCoordinator == coordinator && coordinatorWait.Elapsed < TimeSpan.FromSeconds(30))
        {
            newCoordinator = await client.FindGroupCoordinatorAsync(group);
            if (newCoordinator == coordinator) await Task.Delay(200);
        }
        Output.WriteLine($"FindCoordinator names node {newCoordinator} after {coordinatorWait.ElapsedMilliseconds} ms more");
        Assert.NotEqual(coordinator, newCoordinator);
        foreach (var m in members) await ClientGroupFailoverTests.CommitEventuallyAsync(m.Consumer, TimeSpan.FromSeconds(30));
        var committed = await client.FetchCommittedOffsetsAsync(group, null);
        Assert.Equal(new[] { 100L, 100L, 100L, 100L }, committed.OrderBy(c => c.Partition).Select(c => c.Offset));
        var description = (await client.DescribeGroupsAsync(new[] { group })).Single();
        Output.WriteLine($"after the failover: {description.State}, members " +
            string.Join("; ", description.Members.Select(m => $"{m.MemberId} [{string.Join(",", m.Assignment)}]")) + "\n" + string.Join("\n", members.Select(m => m.ToString())));
        Assert.Equal(("Stable", 2), (description.State, description.Members.Count));
    }

    private static string? ConsumedAtLeast(IReadOnlyList<ClientGroupMember> members, HashSet<long> expected)
    {
        foreach (var m in members)
            if (m.Problem is { } p) return p;
        var ids = members.SelectMany(m => m.Records).Select(IdOf).ToHashSet();
        int missing = expected.Count(id => !ids.Contains(id));
        return missing == 0 ? null : $"{missing} of {expected.Count} not consumed yet";
    }

    private static string Describe(IEnumerable<ClientGroupMember> members, ClusterProcess cluster) =>
        string.Join("\n", members.Select(m => m.ToString())) + "\n" + cluster.DescribeState();
}

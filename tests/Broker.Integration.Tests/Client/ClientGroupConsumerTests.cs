using Broker.Client;
using Broker.Core.Model;
using Broker.Integration.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;
using static Broker.Integration.Tests.Client.ClientGroupSteps;

namespace Broker.Integration.Tests.Client;

/// <summary>
/// Our own <see cref="GroupConsumer"/> against the real broker binary: two members split a 4-partition topic (range:
/// 2 + 2) and together consume everything exactly once; committed offsets carry over to a new member (explicit
/// and position commits, AutoOffsetReset "latest" for a fresh group); a member that leaves hands its partitions to
/// the other within a heartbeat or two, not a session timeout; a static member is replaced within its session
/// without a rebalance; a subscription to a topic created later is assigned once the leader sees it.
/// </summary>
public sealed class ClientGroupConsumerTests : IntegrationTest
{
    private static readonly TimeSpan JoinTimeout = TimeSpan.FromSeconds(30);

    public ClientGroupConsumerTests(ITestOutputHelper output) : base(output) { }

    [Fact]
    public async Task TwoMembers_SplitFourPartitions_ConsumeEverythingExactlyOnce()
    {
        using var clientLog = new ClientLogCapture(Output);
        var broker = StartBroker("client-group-split", BrokerOverrides());
        await using var client = NewClient(broker.Bootstrap, "split-admin");
        const string topic = "split";
        await CreateTopicAsync(client, topic, 4);

        await using var a = await ClientGroupMember.StartAsync("a", client, MemberOptions("split-group"), topic);
        await using var b = await ClientGroupMember.StartAsync("b", client, MemberOptions("split-group"), topic);
        var members = new[] { a, b };
        await WaitUntilAsync("two members split 4 partitions 2/2", () => SplitProblem(members, 4, 2, 2), JoinTimeout,
            () => Describe(members, broker), Output);
        Assert.Equal(a.Consumer.GenerationId, b.Consumer.GenerationId);
        // Range over members sorted by member id: the smaller id gets partitions 0 and 1.
        var first = string.CompareOrdinal(a.Consumer.MemberId, b.Consumer.MemberId) < 0 ? a : b;
        Assert.Equal(new[] { 0, 1 }, first.AssignedPartitions);

        var produced = await ProduceIdsAsync(client, topic, 4, 100, firstId: 0);
        await WaitUntilAsync("everything consumed", () => ConsumedProblem(members, produced), TimeSpan.FromSeconds(30),
            () => Describe(members, broker), Output);
        await Task.Delay(1000); // anything delivered twice would show up now
        Assert.Null(ConsumedProblem(members, produced));
        foreach (var m in members)
        {
            var own = m.AssignedPartitions;
            var foreign = m.Records.Where(r => !own.Contains(r.Partition)).ToList();
            Assert.True(foreign.Count == 0, $"{m.Name} received records of partitions it does not own: {foreign.Count}");
            // Within a partition, records arrive in offset order with no gap.
            foreach (var byPartition in m.Records.GroupBy(r => r.Partition))
                Assert.Equal(Enumerable.Range(0, 100).Select(i => (long)i), byPartition.Select(r => r.Offset));
        }
    }

    [Fact]
    public async Task Commit_NewMemberResumesAfterCommittedOffsets_LatestResetSkipsOldRecords()
    {
        using var clientLog = new ClientLogCapture(Output);
        var broker = StartBroker("client-group-commit", BrokerOverrides());
        await using var client = NewClient(broker.Bootstrap, "commit-admin");
        const string topic = "resume";
        await CreateTopicAsync(client, topic, 2);
        var produced = await ProduceIdsAsync(client, topic, 2, 50, firstId: 0);

        var first = await ClientGroupMember.StartAsync("first", client, MemberOptions("resume-group"), topic);
        try
        {
            await WaitUntilAsync("the first member consumed all 100", () => first.Problem ?? (first.Records.Count >= 100 ? null : $"{first.Records.Count} records"),
                JoinTimeout, () => first.ToString(), Output);
            // Commit of the positions (everything polled) ...
            await first.Consumer.CommitAsync();
            var committed = await first.Consumer.CommittedAsync(new[] { new TopicPartition(topic, 0), new TopicPartition(topic, 1) });
            Assert.Equal(new[] { 50L, 50L }, committed.OrderBy(c => c.Partition).Select(c => c.Offset));
            Assert.All(committed, c => Assert.Equal(ErrorCode.None, c.Error));
            // ... then explicit offsets, with metadata, moving back.
            await first.Consumer.CommitAsync(new[]
            {
                new TopicPartitionOffset(topic, 0, 30, "p0 meta"),
                new TopicPartitionOffset(topic, 1, 20),
            });
        }
        finally
        {
            await first.DisposeAsync();
        }

        var offsets = await client.FetchCommittedOffsetsAsync("resume-group", null);
        Assert.Equal(new[] { (0, 30L), (1, 20L) }, offsets.Where(o => o.Topic == topic).OrderBy(o => o.Partition).Select(o => (o.Partition, o.Offset)));
        Assert.Equal("p0 meta", offsets.Single(o => o.Partition == 0).Metadata);

        await using (var second = await ClientGroupMember.StartAsync("second", client, MemberOptions("resume-group"), topic))
        {
            await WaitUntilAsync("the second member consumed the uncommitted 50", () => second.Problem ?? (second.Records.Count >= 50 ? null : $"{second.Records.Count} records"),
                JoinTimeout, () => second.ToString(), Output);
            await Task.Delay(500);
            var records = second.Records;
            Assert.Equal(Enumerable.Range(30, 20).Select(i => (long)i), records.Where(r => r.Partition == 0).Select(r => r.Offset));
            Assert.Equal(Enumerable.Range(20, 30).Select(i => (long)i), records.Where(r => r.Partition == 1).Select(r => r.Offset));
        }

        // A new group starting at "latest" sees only what is produced after it has its positions.
        await using var late = await ClientGroupMember.StartAsync("late", client, MemberOptions("latest-group", "latest"), topic);
        await WaitUntilAsync("the latest-reset member is assigned both partitions",
            () => late.Problem ?? (late.AssignedPartitions.Length == 2 ? null : $"assigned [{string.Join(",", late.AssignedPartitions)}]"),
            JoinTimeout, () => late.ToString(), Output);
        await Task.Delay(1500); // its polls look up the latest offsets meanwhile
        Assert.Empty(late.Records);
        var fresh = await ProduceIdsAsync(client, topic, 2, 5, firstId: 1000);
        await WaitUntilAsync("the latest-reset member got the 10 new records", () => late.Problem ?? (late.Records.Count >= 10 ? null : $"{late.Records.Count} records"),
            JoinTimeout, () => late.ToString(), Output);
        Assert.Equal(fresh.Order(), late.Records.Select(IdOf).Order());
    }

    [Fact]
    public async Task MemberLeaves_OtherTakesAllPartitions_WithinHeartbeats()
    {
        using var clientLog = new ClientLogCapture(Output);
        var broker = StartBroker("client-group-leave", BrokerOverrides());
        await using var client = NewClient(broker.Bootstrap, "leave-admin");
        const string topic = "takeover";
        await CreateTopicAsync(client, topic, 4);

        await using var stays = await ClientGroupMember.StartAsync("stays", client, MemberOptions("takeover-group"), topic);
        var leaves = await ClientGroupMember.StartAsync("leaves", client, MemberOptions("takeover-group"), topic);
        try
        {
            await WaitUntilAsync("two members split 4 partitions 2/2", () => SplitProblem(new[] { stays, leaves }, 4, 2, 2), JoinTimeout,
                () => Describe(new[] { stays, leaves }, broker), Output);
        }
        finally
        {
            await leaves.DisposeAsync(); // LeaveGroup
        }
        // The session timeout is 6 s: a takeover well within it comes from LeaveGroup, seen by the next heartbeat.
        var took = await WaitUntilAsync("the remaining member holds all 4 partitions", () => SplitProblem(new[] { stays }, 4, 4),
            TimeSpan.FromSeconds(5), () => Describe(new[] { stays }, broker), Output);
        Assert.True(took < TimeSpan.FromSeconds(5), $"takeover took {took.TotalMilliseconds:F0} ms");

        var produced = await ProduceIdsAsync(client, topic, 4, 25, firstId: 0);
        await WaitUntilAsync("the remaining member consumed everything", () => ConsumedProblem(new[] { stays }, produced),
            TimeSpan.FromSeconds(30), () => Describe(new[] { stays }, broker), Output);
        var description = (await client.DescribeGroupsAsync(new[] { "takeover-group" })).Single();
        Assert.Equal("Stable", description.State);
        Assert.Equal(stays.Consumer.MemberId, Assert.Single(description.Members).MemberId);
    }

    [Fact]
    public async Task StaticMember_ReplacedWithinSession_NoRebalance_DisposeDoesNotLeave()
    {
        using var clientLog = new ClientLogCapture(Output);
        var broker = StartBroker("client-group-static", BrokerOverrides());
        await using var client = NewClient(broker.Bootstrap, "static-admin");
        const string topic = "static";
        await CreateTopicAsync(client, topic, 4);
        var staticOptions = MemberOptions("static-group");
        staticOptions = new GroupConsumerOptions
        {
            GroupId = staticOptions.GroupId,
            SessionTimeout = staticOptions.SessionTimeout,
            RebalanceTimeout = staticOptions.RebalanceTimeout,
            HeartbeatInterval = staticOptions.HeartbeatInterval,
            GroupInstanceId = "instance-1",
        };

        await using var dynamic = await ClientGroupMember.StartAsync("dynamic", client, MemberOptions("static-group"), topic);
        var first = await ClientGroupMember.StartAsync("static-1", client, staticOptions, topic);
        int[] staticPartitions;
        int generation;
        try
        {
            await WaitUntilAsync("a static and a dynamic member split 4 partitions", () => SplitProblem(new[] { first, dynamic }, 4, 2, 2),
                TimeSpan.FromSeconds(30), () => Describe(new[] { first, dynamic }, broker), Output);
            staticPartitions = first.AssignedPartitions;
            generation = first.Consumer.GenerationId;
            // Range puts static members first, whatever the member ids.
            Assert.Equal(new[] { 0, 1 }, staticPartitions);
            var described = (await client.DescribeGroupsAsync(new[] { "static-group" })).Single();
            Assert.Equal("instance-1", described.Members.Single(m => m.MemberId == first.Consumer.MemberId).GroupInstanceId);
        }
        finally
        {
            await first.DisposeAsync(); // a static member does not send LeaveGroup
        }
        await Task.Delay(1500); // three heartbeats of the dynamic member: no rebalance may start
        Assert.Equal(generation, dynamic.Consumer.GenerationId);
        Assert.Equal(2, (await client.DescribeGroupsAsync(new[] { "static-group" })).Single().Members.Count);

        // The same instance comes back within the session timeout: it takes its old place, still no rebalance.
        await using var second = await ClientGroupMember.StartAsync("static-2", client, staticOptions, topic);
        await WaitUntilAsync("the returning static member holds its old partitions", () =>
                second.Problem ?? (second.AssignedPartitions.SequenceEqual(staticPartitions) ? null : $"assigned [{string.Join(",", second.AssignedPartitions)}]"),
            TimeSpan.FromSeconds(20), () => Describe(new[] { second, dynamic }, broker), Output);
        Assert.Equal(generation, second.Consumer.GenerationId);
        Assert.Equal(generation, dynamic.Consumer.GenerationId);
        Assert.Null(dynamic.Problem);
    }

    [Fact]
    public async Task SubscriptionToMissingTopic_AssignedOnceTheTopicExists()
    {
        using var clientLog = new ClientLogCapture(Output);
        var broker = StartBroker("client-group-missing", BrokerOverrides());
        await using var client = NewClient(broker.Bootstrap, "missing-admin");
        const string topic = "created-later";
        await using var member = await ClientGroupMember.StartAsync("m", client, MemberOptions("missing-group"), topic);
        await WaitUntilAsync("the member joined (with nothing to consume)", () => member.Problem ?? (member.Consumer.GenerationId > 0 ? null : "not joined"),
            TimeSpan.FromSeconds(20), () => member.ToString(), Output);
        Assert.Empty(member.AssignedPartitions);

        await CreateTopicAsync(client, topic, 3);
        var produced = await ProduceIdsAsync(client, topic, 3, 10, firstId: 0);
        // The leader looks at the partition counts every 5 s and rejoins when they change.
        await WaitUntilAsync("the member is assigned the new topic's 3 partitions", () => SplitProblem(new[] { member }, 3, 3),
            TimeSpan.FromSeconds(20), () => member.ToString(), Output);
        await WaitUntilAsync("the member consumed the 30 records", () => ConsumedProblem(new[] { member }, produced),
            TimeSpan.FromSeconds(20), () => member.ToString(), Output);
    }

    /// <summary>Null when the members together received exactly <paramref name="expected"/>, each id once.</summary>
    internal static string? ConsumedProblem(IReadOnlyList<ClientGroupMember> members, HashSet<long> expected)
    {
        foreach (var m in members)
            if (m.Problem is { } p) return p;
        var ids = members.SelectMany(m => m.Records).Select(IdOf).ToList();
        var duplicates = ids.GroupBy(i => i).Where(g => g.Count() > 1).Select(g => g.Key).Take(10).ToList();
        if (duplicates.Count > 0) return $"delivered more than once: [{string.Join(",", duplicates)}]";
        var unexpected = ids.Where(i => !expected.Contains(i)).Take(10).ToList();
        if (unexpected.Count > 0) return $"unexpected records: [{string.Join(",", unexpected)}]";
        return ids.Count == expected.Count ? null : $"{ids.Count} of {expected.Count} consumed";
    }

    internal static string Describe(IEnumerable<ClientGroupMember> members, BrokerProcess broker) =>
        string.Join("\n", members.Select(m => m.ToString())) + "\n" + broker.DescribeState();
}

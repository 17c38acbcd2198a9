using Broker.Integration.Tests.Groups;
using Broker.Integration.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;
using static Broker.Integration.Tests.Client.ClientGroupSteps;

namespace Broker.Integration.Tests.Client;

/// <summary>
/// Our <see cref="Broker.Client.GroupConsumer"/> and a real client's member (tests/clients: confluent-kafka via
/// group_consumer.py, kafkajs via group_consumer.js) in ONE group on a 4-partition topic: they agree on an assignor
/// (librdkafka offers range and roundrobin as we do → "range"; the kafkajs script offers only "roundrobin"), split the
/// partitions 2/2 whichever of them leads, consume everything produced exactly once between them, DescribeGroups
/// decodes both members' assignments, and when the other member stops (LeaveGroup) ours takes all four.
/// </summary>
public sealed class ClientGroupInteropTests : IntegrationTest
{
    public ClientGroupInteropTests(ITestOutputHelper output) : base(output) { }

    [Theory]
    [InlineData(GroupClientKind.Confluent, true, "range")]
    [InlineData(GroupClientKind.KafkaJs, false, "roundrobin")]
    public async Task OurMemberAndRealClient_SplitPartitions_ConsumeOnce_TakeOver(GroupClientKind kind, bool oursFirst, string protocol)
    {
        using var clientLog = new ClientLogCapture(Output);
        string label = GroupClientSession.ClientName(kind);
        var broker = StartBroker($"client-group-interop-{label}", BrokerOverrides());
        await using var client = NewClient(broker.Bootstrap, "interop-admin");
        string topic = $"interop-{label}";
        string group = $"interop-group-{label}";
        await CreateTopicAsync(client, topic, 4);
        using var session = new GroupClientSession(Output, ScratchDir, broker.Bootstrap, group, topic);

        // The first member to join leads the group and computes the assignment for both.
        ClientGroupMember? ours = null;
        if (oursFirst)
        {
            ours = await ClientGroupMember.StartAsync("ours", client, MemberOptions(group), topic);
            await WaitUntilAsync("our member holds all 4 partitions alone", () => SplitProblem(new[] { ours }, 4, 4),
                TimeSpan.FromSeconds(30), () => ours.ToString(), Output);
        }
        var other = session.StartMember(kind, $"{label}-member");
        try
        {
            if (!oursFirst)
            {
                await WaitUntilAsync($"the {label} member holds all 4 partitions alone",
                    () => other.Read().LatestAssignment?.Partitions.Length == 4 ? null : $"{label}: {other.Read()}",
                    TimeSpan.FromSeconds(60), () => other.Read().ToString(), Output);
                ours = await ClientGroupMember.StartAsync("ours", client, MemberOptions(group), topic);
            }
            var me = ours!;
            await WaitUntilAsync("our member and the other split 4 partitions 2/2", () => MixedSplitProblem(me, other),
                TimeSpan.FromSeconds(60), () => $"{me}\n{other.Read()}\n{broker.DescribeState()}", Output);

            var description = (await client.DescribeGroupsAsync(new[] { group })).Single();
            Output.WriteLine($"described: {description.State} {description.ProtocolType}/{description.Protocol}: " +
                string.Join("; ", description.Members.Select(m => $"{m.MemberId} ({m.ClientId}) [{string.Join(",", m.Assignment)}]")));
            Assert.Equal("Stable", description.State);
            Assert.Equal("consumer", description.ProtocolType);
            Assert.Equal(protocol, description.Protocol);
            Assert.Equal(2, description.Members.Count);
            var mine = description.Members.Single(m => m.MemberId == me.Consumer.MemberId);
            Assert.Equal(me.AssignedPartitions, mine.Assignment.Select(tp => tp.Partition).Order());
            var theirs = description.Members.Single(m => m.MemberId != me.Consumer.MemberId);
            Assert.Equal(other.Read().LatestAssignment!.Partitions.Order(), theirs.Assignment.Select(tp => tp.Partition).Order());
            Assert.All(description.Members.SelectMany(m => m.Assignment), tp => Assert.Equal(topic, tp.Topic));

            var produced = await ProduceIdsAsync(client, topic, 4, 100, firstId: 0);
            await WaitUntilAsync("everything consumed once between the two", () => MixedConsumedProblem(me, other, produced),
                TimeSpan.FromSeconds(60), () => $"{me}\n{other.Read()}", Output);
            await Task.Delay(1000);
            Assert.Null(MixedConsumedProblem(me, other, produced));

            session.Stop(other, $" ({label} member, SIGTERM: commit and LeaveGroup)");
            await WaitUntilAsync("our member holds all 4 partitions after the other left", () => SplitProblem(new[] { me }, 4, 4),
                TimeSpan.FromSeconds(15), () => $"{me}\n{broker.DescribeState()}", Output);
        }
        finally
        {
            if (ours is not null) await ours.DisposeAsync();
        }
    }

    [Fact]
    public async Task NoCommonAssignor_PollFailsWithInconsistentGroupProtocol()
    {
        using var clientLog = new ClientLogCapture(Output);
        var broker = StartBroker("client-group-inconsistent", BrokerOverrides());
        await using var client = NewClient(broker.Bootstrap, "inconsistent-admin");
        const string topic = "inconsistent";
        const string group = "inconsistent-group";
        await CreateTopicAsync(client, topic, 2);
        using var session = new GroupClientSession(Output, ScratchDir, broker.Bootstrap, group, topic);
        // kafkajs with its own assignor name ("RoundRobinAssigner"), which we do not offer.
        var other = session.StartMember(GroupClientKind.KafkaJs, "kafkajs-own-assignor", "--assignor", "kafkajs");
        await WaitUntilAsync("the kafkajs member holds both partitions", () => other.Read().LatestAssignment?.Partitions.Length == 2 ? null : other.Read().ToString(),
            TimeSpan.FromSeconds(60), () => other.Read().ToString(), Output);

        await using var consumer = new Broker.Client.GroupConsumer(client, MemberOptions(group));
        await consumer.SubscribeAsync(new[] { topic });
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        var ex = await Assert.ThrowsAsync<Broker.Client.KafkaException>(async () =>
        {
            while (DateTime.UtcNow < deadline) await consumer.PollAsync(TimeSpan.FromMilliseconds(500));
        });
        Assert.Equal(Broker.Core.Model.ErrorCode.InconsistentGroupProtocol, ex.Error);
        Assert.Empty(consumer.Assignment);
        Assert.Equal(new[] { 0, 1 }, other.Read().LatestAssignment!.Partitions.Order());
        session.Stop(other);
    }

    private static string? MixedSplitProblem(ClientGroupMember ours, GroupMemberProcess other)
    {
        if (ours.Problem is { } p) return p;
        var log = other.Read();
        var theirs = log.LatestAssignment?.Partitions ?? Array.Empty<int>();
        var mine = ours.AssignedPartitions;
        if (mine.Length != 2 || theirs.Length != 2) return $"ours [{string.Join(",", mine)}], theirs [{string.Join(",", theirs)}]";
        var all = mine.Concat(theirs).Order().ToArray();
        return all.SequenceEqual(new[] { 0, 1, 2, 3 }) ? null : $"overlapping: ours [{string.Join(",", mine)}], theirs [{string.Join(",", theirs)}]";
    }

    private static string? MixedConsumedProblem(ClientGroupMember ours, GroupMemberProcess other, HashSet<long> expected)
    {
        if (ours.Problem is { } p) return p;
        var ids = ours.Records.Select(IdOf).Concat(other.Read().Messages.Select(m => m.Id)).ToList();
        var duplicates = ids.GroupBy(i => i).Where(g => g.Count() > 1).Select(g => g.Key).Take(10).ToList();
        if (duplicates.Count > 0) return $"delivered more than once: [{string.Join(",", duplicates)}]";
        var unexpected = ids.Where(i => !expected.Contains(i)).Take(10).ToList();
        if (unexpected.Count > 0) return $"unexpected records: [{string.Join(",", unexpected)}]";
        return ids.Count == expected.Count ? null : $"{ids.Count} of {expected.Count} consumed ({ours.Records.Count} by ours)";
    }
}

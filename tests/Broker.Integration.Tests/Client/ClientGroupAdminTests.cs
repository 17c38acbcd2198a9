using Broker.Client;
using Broker.Core.Model;
using Broker.Integration.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;
using static Broker.Integration.Tests.Client.ClientGroupSteps;

namespace Broker.Integration.Tests.Client;

/// <summary>
/// Group administration through our client against the real broker: FindCoordinator, DescribeGroups (members,
/// decoded assignments, the "Dead" answer for an unknown group), ListGroups with states, DeleteGroups (NON_EMPTY_GROUP
/// while members are in, GROUP_ID_NOT_FOUND for an unknown group), OffsetCommit outside a generation
/// (UNKNOWN_MEMBER_ID while the group has members, accepted once it is empty) and OffsetFetch before and after the
/// group is deleted.
/// </summary>
public sealed class ClientGroupAdminTests : IntegrationTest
{
    public ClientGroupAdminTests(ITestOutputHelper output) : base(output) { }

    [Fact]
    public async Task DescribeListDelete_CommitOutsideGeneration_Errors()
    {
        using var clientLog = new ClientLogCapture(Output);
        var broker = StartBroker("client-group-admin", BrokerOverrides());
        await using var client = NewClient(broker.Bootstrap, "group-admin");
        const string topic = "admin";
        const string group = "admin-group";
        await CreateTopicAsync(client, topic, 3);

        Assert.Equal(1, await client.FindGroupCoordinatorAsync(group));

        var a = await ClientGroupMember.StartAsync("a", client, MemberOptions(group), topic);
        var b = await ClientGroupMember.StartAsync("b", client, MemberOptions(group), topic);
        var members = new[] { a, b };
        try
        {
            await WaitUntilAsync("two members split 3 partitions", () =>
                    SplitProblem(members, 3, a.AssignedPartitions.Length == 2 ? 2 : 1, a.AssignedPartitions.Length == 2 ? 1 : 2),
                TimeSpan.FromSeconds(30), () => ClientGroupConsumerTests.Describe(members, broker), Output);

            var described = await client.DescribeGroupsAsync(new[] { group, "no-such-group" });
            Assert.Equal(2, described.Count);
            var g = described[0];
            Assert.Equal((group, ErrorCode.None, "Stable", "consumer", "range"), (g.GroupId, g.Error, g.State, g.ProtocolType, g.Protocol));
            Assert.Equal(2, g.Members.Count);
            foreach (var m in members)
            {
                var d = g.Members.Single(x => x.MemberId == m.Consumer.MemberId);
                Assert.Equal(m.Consumer.Assignment.OrderBy(tp => tp.Partition), d.Assignment.OrderBy(tp => tp.Partition));
                Assert.Equal("group-admin", d.ClientId);
                Assert.StartsWith("/127.0.0.1", d.ClientHost);
                Assert.Null(d.GroupInstanceId);
            }
            var unknown = described[1];
            Assert.Equal(("no-such-group", ErrorCode.None, "Dead"), (unknown.GroupId, unknown.Error, unknown.State));
            Assert.Empty(unknown.Members);

            var listed = await client.ListGroupsAsync();
            Assert.Contains(new GroupListing(group, "consumer", "Stable"), listed);

            // Members are in: the group cannot be deleted, and a commit from outside the generation is refused.
            var refused = await client.DeleteGroupsAsync(new[] { group });
            Assert.Equal((group, ErrorCode.NonEmptyGroup), Assert.Single(refused));
            var outside = await client.CommitOffsetsAsync(group, new[] { new TopicPartitionOffset(topic, 0, 5) });
            Assert.Equal(ErrorCode.UnknownMemberId, Assert.Single(outside).Error);
        }
        finally
        {
            await a.DisposeAsync();
            await b.DisposeAsync();
        }

        var empty = (await client.DescribeGroupsAsync(new[] { group })).Single();
        Assert.Equal(("Empty", 0), (empty.State, empty.Members.Count));
        Assert.Contains(new GroupListing(group, "consumer", "Empty"), await client.ListGroupsAsync());

        // Empty: commits from outside the group protocol are accepted (an operator resetting offsets).
        var committed = await client.CommitOffsetsAsync(group, new[]
        {
            new TopicPartitionOffset(topic, 0, 5, "reset"),
            new TopicPartitionOffset(topic, 2, 7),
            new TopicPartitionOffset("no-such-topic", 0, 1),
        });
        Assert.Equal(new[] { ErrorCode.None, ErrorCode.None, ErrorCode.UnknownTopicOrPartition }, committed.Select(c => c.Error));
        var fetched = await client.FetchCommittedOffsetsAsync(group, new[] { new TopicPartition(topic, 0), new TopicPartition(topic, 1), new TopicPartition(topic, 2) });
        Assert.Equal(new[] { 5L, -1L, 7L }, fetched.OrderBy(o => o.Partition).Select(o => o.Offset));
        Assert.Equal("reset", fetched.Single(o => o.Partition == 0).Metadata);
        var all = await client.FetchCommittedOffsetsAsync(group, null);
        Assert.Equal(new[] { (0, 5L), (2, 7L) }, all.OrderBy(o => o.Partition).Select(o => (o.Partition, o.Offset)));

        var deleted = await client.DeleteGroupsAsync(new[] { group, "no-such-group", group });
        Assert.Equal(new[] { (group, ErrorCode.None), ("no-such-group", ErrorCode.GroupIdNotFound) }, deleted);
        Assert.DoesNotContain(await client.ListGroupsAsync(), l => l.GroupId == group);
        Assert.Empty(await client.FetchCommittedOffsetsAsync(group, null));
        Assert.Equal("Dead", (await client.DescribeGroupsAsync(new[] { group })).Single().State);
    }
}

using Broker.Client;
using Broker.Core.Model;
using Broker.Integration.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;
using static Broker.Integration.Tests.Client.ClientGroupSteps;

namespace Broker.Integration.Tests.Client;

/// <summary>
/// Our <see cref="GroupConsumer"/> when the coordinator goes away: a single broker SIGKILLed and restarted (the member
/// reconnects, rejoins if the coordinator no longer knows it, and resumes after its committed offsets), and in a
/// 3-node cluster the group's coordinator SIGKILLed (the members find the new coordinator — NOT_COORDINATOR or a
/// dead connection — keep consuming, and commit through it).
/// </summary>
public sealed class ClientGroupFailoverTests : IntegrationTest
{
    public ClientGroupFailoverTests(ITestOutputHelper output) : base(output) { }

    [Fact]
    public async Task BrokerKilledAndRestarted_MemberResumesAfterCommittedOffsets()
    {
        using var clientLog = new ClientLogCapture(Output);
        var broker = StartBroker("client-group-restart", BrokerOverrides());
        await using var client = NewClient(broker.Bootstrap, "restart-admin");
        const string topic = "restart";
        await CreateTopicAsync(client, topic, 2);
        var before = await ProduceIdsAsync(client, topic, 2, 25, firstId: 0);

        await using var member = await ClientGroupMember.StartAsync("m", client, MemberOptions("restart-group"), topic);
        await WaitUntilAsync("the member consumed the first 50", () => member.Problem ?? (member.Records.Count >= 50 ? null : $"{member.Records.Count} records"),
            TimeSpan.FromSeconds(30), () => member.ToString(), Output);
        await member.Consumer.CommitAsync();

        broker.Kill();
        await Task.Delay(1000); // heartbeats and fetches fail meanwhile
        broker.Restart();
        var after = await ProduceIdsAsync(client, topic, 2, 25, firstId: 1000);
        await WaitUntilAsync("the member consumed the 50 produced after the restart", () =>
            {
                if (member.Problem is { } p) return p;
                var ids = member.Records.Select(IdOf).ToHashSet();
                return after.All(ids.Contains) ? null : $"{after.Count(ids.Contains)} of 50 new records";
            },
            TimeSpan.FromSeconds(40), () => $"{member}\n{broker.DescribeState()}", Output);
        await Task.Delay(500);
        var all = member.Records.Select(IdOf).ToList();
        Assert.True(all.Count == 100 && all.ToHashSet().SetEquals(before.Concat(after)),
            $"expected each of the 100 records once (everything before the kill was committed), got {all.Count}: " +
            $"duplicates [{string.Join(",", all.GroupBy(i => i).Where(g => g.Count() > 1).Select(g => g.Key).Take(10))}]");
        await CommitEventuallyAsync(member.Consumer, TimeSpan.FromSeconds(20));
        var committed = await client.FetchCommittedOffsetsAsync("restart-group", null);
        Assert.Equal(new[] { 50L, 50L }, committed.OrderBy(c => c.Partition).Select(c => c.Offset));
    }

    /// <summary>Commits the positions, retrying while a rebalance is going on (the member rejoins meanwhile).</summary>
    internal static async Task CommitEventuallyAsync(GroupConsumer consumer, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                await consumer.CommitAsync();
                return;
            }
            catch (KafkaException ex) when (DateTime.UtcNow < deadline && ex.Error is ErrorCode.RebalanceInProgress or ErrorCode.IllegalGeneration
                or ErrorCode.UnknownMemberId or ErrorCode.NotCoordinator or ErrorCode.CoordinatorNotAvailable or ErrorCode.CoordinatorLoadInProgress)
            {
                await Task.Delay(200);
            }
        }
    }
}

using Broker.Core.Model;

namespace Broker.Groups.Tests;

/// <summary>The join/sync/heartbeat cycle, the initial rebalance delay and KIP-394 member ids.</summary>
public sealed class JoinSyncTests
{
    [Fact]
    public async Task Three_members_join_sync_and_heartbeat_through_a_full_cycle()
    {
        await using var kit = new GroupKit(new GroupCoordinatorOptions { GroupInitialRebalanceDelayMs = 3000, OffsetsTopicPartitions = 3 });
        // v4+ clients first get their member id, then join with it.
        var ids = new string[3];
        var joins = new Task<JoinGroupOutcome>[3];
        for (int i = 0; i < 3; i++)
        {
            var required = await Done(kit.Join("g", requireKnown: true, clientId: $"c{i}"));
            Assert.Equal(ErrorCode.MemberIdRequired, required.Error);
            Assert.StartsWith($"c{i}-", required.MemberId);
            ids[i] = required.MemberId;
            joins[i] = kit.Join("g", ids[i], requireKnown: true, clientId: $"c{i}");
        }
        Assert.All(joins, j => Assert.False(j.IsCompleted)); // the initial delay holds the first rebalance
        Assert.Equal("PreparingRebalance", kit.Coordinator.DescribeGroup("g").State);

        kit.Advance(3000); // members arrived during the delay: it restarts once more
        Assert.All(joins, j => Assert.False(j.IsCompleted));
        kit.Advance(3000);
        var results = await Task.WhenAll(joins.Select(Done));
        Assert.All(results, r => Assert.Equal((ErrorCode.None, 1, "range", "consumer"), (r.Error, r.GenerationId, r.ProtocolName, r.ProtocolType)));
        string leader = results[0].LeaderId;
        Assert.Equal(ids[0], leader);
        Assert.Equal(3, results[0].Members.Count);
        Assert.Empty(results[1].Members);
        Assert.Equal(ids.Order(), results[0].Members.Select(m => m.MemberId).Order());
        Assert.Equal(ErrorCode.None, kit.Coordinator.Heartbeat("g", 1, ids[1], null)); // CompletingRebalance: fine

        // Followers wait for the leader's assignment.
        var follower = kit.Sync("g", 1, ids[1]);
        await Task.Delay(20);
        Assert.False(follower.IsCompleted);
        var leaderSync = await Done(kit.Sync("g", 1, ids[0], null,
            new MemberAssignment(ids[0], [0]), new MemberAssignment(ids[1], [1]), new MemberAssignment(ids[2], [2])));
        Assert.Equal(ErrorCode.None, leaderSync.Error);
        Assert.Equal(new byte[] { 0 }, leaderSync.Assignment);
        Assert.Equal(new byte[] { 1 }, (await Done(follower)).Assignment);
        var late = await Done(kit.Sync("g", 1, ids[2])); // Stable: answered at once
        Assert.Equal((ErrorCode.None, "range"), (late.Error, late.ProtocolName));
        Assert.Equal(new byte[] { 2 }, late.Assignment);

        foreach (var id in ids) Assert.Equal(ErrorCode.None, kit.Coordinator.Heartbeat("g", 1, id, null));
        var description = kit.Coordinator.DescribeGroup("g");
        Assert.Equal(("Stable", "consumer", "range", 3), (description.State, description.ProtocolType, description.Protocol, description.Members.Count));
        Assert.Equal(new byte[] { 1 }, description.Members.Single(m => m.MemberId == ids[1]).Assignment);
        Assert.Equal("c1", description.Members.Single(m => m.MemberId == ids[1]).ClientId);

        // A follower rejoining with the same metadata gets the current generation; the leader rejoining rebalances.
        var again = await Done(kit.Join("g", ids[2]));
        Assert.Equal((ErrorCode.None, 1, leader), (again.Error, again.GenerationId, again.LeaderId));
        Assert.Equal("Stable", kit.Coordinator.DescribeGroup("g").State);
        var leaderRejoin = kit.Join("g", ids[0]);
        Assert.Equal("PreparingRebalance", kit.Coordinator.DescribeGroup("g").State);
        Assert.Equal(ErrorCode.RebalanceInProgress, kit.Coordinator.Heartbeat("g", 1, ids[1], null));
        var rejoins = new[] { leaderRejoin, kit.Join("g", ids[1]), kit.Join("g", ids[2]) };
        var second = await Task.WhenAll(rejoins.Select(Done));
        Assert.All(second, r => Assert.Equal((ErrorCode.None, 2), (r.Error, r.GenerationId)));
    }

    [Fact]
    public async Task Initial_delay_restarts_on_each_join_and_is_capped_by_the_rebalance_timeout()
    {
        await using var kit = new GroupKit(new GroupCoordinatorOptions { GroupInitialRebalanceDelayMs = 3000, OffsetsTopicPartitions = 3 });
        var first = kit.Join("g", rebalanceMs: 10_000);
        kit.Advance(2000);
        var second = kit.Join("g", rebalanceMs: 10_000);
        kit.Advance(1000); // the first delay ends, but a member came: another 3 s
        Assert.False(first.IsCompleted);
        kit.Advance(2999);
        Assert.False(first.IsCompleted);
        kit.Advance(1);
        Assert.Equal((ErrorCode.None, 1), ((await Done(first)).Error, (await Done(second)).GenerationId));

        // Members arriving all the time cannot hold a rebalance beyond the rebalance timeout (10 s).
        await using var busy = new GroupKit(new GroupCoordinatorOptions { GroupInitialRebalanceDelayMs = 3000, OffsetsTopicPartitions = 3 });
        var joins = new List<Task<JoinGroupOutcome>> { busy.Join("b", rebalanceMs: 10_000) };
        int elapsed = 0;
        while (!joins[0].IsCompleted && elapsed < 30_000)
        {
            joins.Add(busy.Join("b", rebalanceMs: 10_000));
            busy.Advance(1000);
            elapsed += 1000;
        }
        Assert.InRange(elapsed, 9000, 10_000);
        Assert.Equal(joins.Count, (await Done(joins[0])).Members.Count);
    }

    [Fact]
    public async Task Pending_member_id_expires_after_the_session_timeout_and_blocks_the_rebalance_meanwhile()
    {
        await using var kit = new GroupKit();
        var first = await kit.StableSingle("g");
        var required = await Done(kit.Join("g", requireKnown: true, sessionMs: 6000));
        Assert.Equal(ErrorCode.MemberIdRequired, required.Error);

        // The leader rejoins: the rebalance waits for the pending member as well.
        var leader = kit.Join("g", first.MemberId);
        kit.Advance(5000);
        Assert.False(leader.IsCompleted);
        kit.Advance(1000); // the pending id expires and the rebalance completes without it
        var done = await Done(leader);
        Assert.Equal((ErrorCode.None, 2), (done.Error, done.GenerationId));
        Assert.Single(done.Members);
        Assert.Equal(ErrorCode.UnknownMemberId, (await Done(kit.Join("g", required.MemberId, requireKnown: true))).Error);
    }

    [Fact]
    public async Task Join_and_sync_errors()
    {
        await using var kit = new GroupKit(new GroupCoordinatorOptions { GroupInitialRebalanceDelayMs = 0, GroupMaxSize = 2, OffsetsTopicPartitions = 3 });
        Assert.Equal(ErrorCode.InvalidSessionTimeout, (await Done(kit.Join("g", sessionMs: 5999))).Error);
        Assert.Equal(ErrorCode.InvalidSessionTimeout, (await Done(kit.Join("g", sessionMs: 1_800_001))).Error);
        Assert.Equal(ErrorCode.InvalidGroupId, (await Done(kit.Join(""))).Error);
        Assert.Equal(ErrorCode.InconsistentGroupProtocol, (await Done(kit.Join("g", protocols: []))).Error);
        Assert.Equal(ErrorCode.UnknownMemberId, (await Done(kit.Join("nobody", "made-up-id"))).Error);

        var a = await kit.StableSingle("g");
        Assert.Equal(ErrorCode.UnknownMemberId, (await Done(kit.Join("g", "made-up-id"))).Error);
        Assert.Equal(ErrorCode.InconsistentGroupProtocol, (await Done(kit.Join("g", protocolType: "connect"))).Error);
        Assert.Equal(ErrorCode.InconsistentGroupProtocol,
            (await Done(kit.Join("g", protocols: [new GroupProtocol("roundrobin", [])]))).Error);

        Assert.Equal(ErrorCode.UnknownMemberId, (await Done(kit.Sync("g", 1, "made-up-id"))).Error);
        Assert.Equal(ErrorCode.IllegalGeneration, (await Done(kit.Sync("g", 7, a.MemberId))).Error);
        var wrongName = await Done(kit.Coordinator.SyncGroupAsync(new SyncGroupArgs("g", 1, a.MemberId, null, "consumer", "roundrobin", [])));
        Assert.Equal(ErrorCode.InconsistentGroupProtocol, wrongName.Error);
        var rightName = await Done(kit.Coordinator.SyncGroupAsync(new SyncGroupArgs("g", 1, a.MemberId, null, "consumer", "range", [])));
        Assert.Equal(ErrorCode.None, rightName.Error);
        Assert.Equal(new byte[] { 1, 2, 3 }, rightName.Assignment);

        Assert.Equal(ErrorCode.UnknownMemberId, kit.Coordinator.Heartbeat("g", 1, "made-up-id", null));
        Assert.Equal(ErrorCode.IllegalGeneration, kit.Coordinator.Heartbeat("g", 0, a.MemberId, null));
        Assert.Equal(ErrorCode.UnknownMemberId, kit.Coordinator.Heartbeat("nobody", 1, a.MemberId, null));

        // A second member makes the group rebalance; a third is one too many for group.max.size 2.
        var b = kit.Join("g");
        Assert.Equal(ErrorCode.RebalanceInProgress, (await Done(kit.Sync("g", 1, a.MemberId))).Error);
        var aRejoin = kit.Join("g", a.MemberId);
        var full = await Done(kit.Join("g"));
        Assert.Equal(ErrorCode.GroupMaxSizeReached, full.Error);
        Assert.Equal(2, (await Done(aRejoin)).Members.Count);
        Assert.Equal(ErrorCode.None, (await Done(b)).Error);
        Assert.Equal(ErrorCode.GroupMaxSizeReached, (await Done(kit.Join("g"))).Error); // CompletingRebalance, 2 members
    }

    [Fact]
    public async Task Protocol_is_chosen_by_vote_among_those_every_member_supports()
    {
        await using var kit = new GroupKit(new GroupCoordinatorOptions { GroupInitialRebalanceDelayMs = 1000, OffsetsTopicPartitions = 3 });
        GroupProtocol P(string name) => new(name, Subscription("t1"));
        var joins = new[]
        {
            kit.Join("g", protocols: [P("sticky"), P("range"), P("roundrobin")]),
            kit.Join("g", protocols: [P("roundrobin"), P("range")]),
            kit.Join("g", protocols: [P("range"), P("roundrobin")]),
        };
        kit.Advance(1000);
        kit.Advance(1000);
        var results = await Task.WhenAll(joins.Select(Done));
        // sticky is not supported by all; range gets two votes, roundrobin one.
        Assert.All(results, r => Assert.Equal("range", r.ProtocolName));
    }
}

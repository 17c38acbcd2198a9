using Broker.Core.Model;

namespace Broker.Groups.Tests;

/// <summary>Sessions, rebalance timeouts, static membership (KIP-345) and LeaveGroup.</summary>
public sealed class MembershipTests
{
    /// <summary>Two members in a Stable group of generation 2 (a is the leader).</summary>
    private static async Task<(string A, string B)> StablePair(GroupKit kit, string group = "g", string? instanceA = null, string? instanceB = null)
    {
        var a = await kit.StableSingle(group, instanceA);
        var bJoin = kit.Join(group, instanceId: instanceB);
        var aJoin = await Done(kit.Join(group, a.MemberId, instanceA));
        var b = await Done(bJoin);
        Assert.Equal((2, a.MemberId), (aJoin.GenerationId, aJoin.LeaderId));
        var bSync = kit.Sync(group, 2, b.MemberId, instanceB);
        await Done(kit.Sync(group, 2, a.MemberId, instanceA, new MemberAssignment(a.MemberId, [1]), new MemberAssignment(b.MemberId, [2])));
        Assert.Equal(ErrorCode.None, (await Done(bSync)).Error);
        Assert.Equal("Stable", kit.Coordinator.DescribeGroup(group).State);
        return (a.MemberId, b.MemberId);
    }

    [Fact]
    public async Task Expired_session_removes_the_member_and_rebalances()
    {
        await using var kit = new GroupKit();
        var (a, b) = await StablePair(kit);
        for (int i = 0; i < 3; i++)
        {
            kit.Advance(3000);
            Assert.Equal(ErrorCode.None, kit.Coordinator.Heartbeat("g", 2, a, null)); // only a heartbeats
        }
        kit.Advance(999);
        Assert.Equal(2, kit.Coordinator.DescribeGroup("g").Members.Count); // 9.999 s: still in time
        kit.Advance(1);
        // b's 10 s session ran out: removed, the group rebalances.
        Assert.Equal(ErrorCode.UnknownMemberId, kit.Coordinator.Heartbeat("g", 2, b, null));
        Assert.Equal(ErrorCode.RebalanceInProgress, kit.Coordinator.Heartbeat("g", 2, a, null));
        var rejoin = await Done(kit.Join("g", a));
        Assert.Equal((ErrorCode.None, 3, a), (rejoin.Error, rejoin.GenerationId, rejoin.LeaderId));
        Assert.Equal([a], rejoin.Members.Select(m => m.MemberId));

        // The last member's session expiring leaves the group Empty (and persisted so).
        await Done(kit.Sync("g", 3, a, null, new MemberAssignment(a, [1])));
        kit.Advance(10_000);
        var description = kit.Coordinator.DescribeGroup("g");
        Assert.Equal(("Empty", 0), (description.State, description.Members.Count));
    }

    [Fact]
    public async Task Rebalance_timeout_removes_members_that_did_not_rejoin()
    {
        await using var kit = new GroupKit();
        var (a, b) = await StablePair(kit);
        var aJoin = kit.Join("g", a, rebalanceMs: 15_000); // the leader rejoining starts a rebalance
        for (int i = 0; i < 6; i++)
        {
            kit.Advance(3000);
            Assert.False(aJoin.IsCompleted);
            Assert.Equal(ErrorCode.RebalanceInProgress, kit.Coordinator.Heartbeat("g", 2, b, null)); // alive, but does not rejoin
        }
        kit.Advance(2000); // 20 s, the largest rebalance timeout (b's): the rebalance completes without b
        var joined = await Done(aJoin);
        Assert.Equal((ErrorCode.None, 3), (joined.Error, joined.GenerationId));
        Assert.Equal([a], joined.Members.Select(m => m.MemberId));
        Assert.Equal(ErrorCode.UnknownMemberId, kit.Coordinator.Heartbeat("g", 3, b, null));
    }

    [Fact]
    public async Task Leader_that_never_syncs_is_expired_and_followers_are_told_to_rejoin()
    {
        await using var kit = new GroupKit();
        var a = await kit.StableSingle("g");
        var bJoin = kit.Join("g");
        await Done(kit.Join("g", a.MemberId));
        var b = await Done(bJoin);
        var bSync = kit.Sync("g", 2, b.MemberId); // waits for the leader, which never sends its SyncGroup
        for (int i = 0; i < 2; i++)
        {
            kit.Advance(4000);
            Assert.Equal(ErrorCode.None, kit.Coordinator.Heartbeat("g", 2, b.MemberId, null));
        }
        Assert.False(bSync.IsCompleted);
        kit.Advance(2000); // the leader's 10 s session is over
        Assert.Equal(ErrorCode.RebalanceInProgress, (await Done(bSync)).Error);
        Assert.Equal(ErrorCode.UnknownMemberId, kit.Coordinator.Heartbeat("g", 2, a.MemberId, null));
    }

    [Fact]
    public async Task Static_member_rejoining_with_a_new_id_replaces_the_old_one_without_a_rebalance()
    {
        await using var kit = new GroupKit(new GroupCoordinatorOptions { GroupInitialRebalanceDelayMs = 0, GroupMaxSize = 2, OffsetsTopicPartitions = 3 });
        var (a, b) = await StablePair(kit, instanceA: "ia", instanceB: "ib");
        int recordsBefore = kit.Topic.Records(kit.Coordinator.PartitionFor("g")).Count;

        Assert.Equal(ErrorCode.GroupMaxSizeReached, (await Done(kit.Join("g"))).Error);
        // "ib" restarts: unknown member id, same instance and protocols (not one member too many).
        var rejoined = await Done(kit.Join("g", instanceId: "ib"));
        Assert.Equal((ErrorCode.None, 2, a), (rejoined.Error, rejoined.GenerationId, rejoined.LeaderId));
        Assert.NotEqual(b, rejoined.MemberId);
        Assert.Equal("Stable", kit.Coordinator.DescribeGroup("g").State);
        Assert.Equal(recordsBefore + 1, kit.Topic.Records(kit.Coordinator.PartitionFor("g")).Count); // the new id was persisted
        var sync = await Done(kit.Sync("g", 2, rejoined.MemberId, "ib"));
        Assert.Equal(new byte[] { 2 }, sync.Assignment); // the instance keeps its assignment

        // The old incarnation is fenced everywhere.
        Assert.Equal(ErrorCode.FencedInstanceId, kit.Coordinator.Heartbeat("g", 2, b, "ib"));
        Assert.Equal(ErrorCode.FencedInstanceId, (await Done(kit.Join("g", b, "ib"))).Error);
        Assert.Equal(ErrorCode.FencedInstanceId, (await Done(kit.Sync("g", 2, b, "ib"))).Error);
        var commit = await Done(kit.Coordinator.CommitOffsetsAsync(new OffsetCommitArgs("g", 2, b, "ib", -1, [new("t1", 0, 5, -1, null)])));
        Assert.Equal(ErrorCode.FencedInstanceId, commit.Results[0].Error);
        var leave = await Done(kit.Coordinator.LeaveGroupAsync("g", [new LeavingMember(b, "ib", null)]));
        Assert.Equal(ErrorCode.FencedInstanceId, leave.Members[0].Error);
        Assert.Equal(ErrorCode.None, kit.Coordinator.Heartbeat("g", 2, rejoined.MemberId, "ib"));

        // An unknown instance id with a member id is unknown; a static member joining with other protocols rebalances.
        Assert.Equal(ErrorCode.UnknownMemberId, (await Done(kit.Join("g", a, "other"))).Error);

        // Admin removal by instance id (empty member id).
        var removed = await Done(kit.Coordinator.LeaveGroupAsync("g", [new LeavingMember("", "ib", "admin"), new LeavingMember("", "nope", null)]));
        Assert.Equal([ErrorCode.None, ErrorCode.UnknownMemberId], removed.Members.Select(m => m.Error));
        Assert.Equal("PreparingRebalance", kit.Coordinator.DescribeGroup("g").State);
    }

    [Fact]
    public async Task Static_leader_restarting_during_a_rebalance_keeps_leadership_under_its_new_id()
    {
        await using var kit = new GroupKit();
        var (a, b) = await StablePair(kit, instanceA: "ia", instanceB: "ib");
        var bRejoin = kit.Join("g", b, "ib", protocols: [new GroupProtocol("range", Subscription("t1", "t2"))]); // new metadata: rebalance
        Assert.Equal("PreparingRebalance", kit.Coordinator.DescribeGroup("g").State);
        var aNew = await Task.WhenAll(Done(kit.Join("g", instanceId: "ia")), Done(bRejoin));
        Assert.Equal((ErrorCode.None, 3), (aNew[0].Error, aNew[0].GenerationId));
        Assert.Equal(aNew[0].MemberId, aNew[0].LeaderId);
        Assert.Equal(2, aNew[0].Members.Count);
        Assert.Equal(ErrorCode.FencedInstanceId, kit.Coordinator.Heartbeat("g", 3, a, "ia"));
    }

    [Fact]
    public async Task Leave_group_answers_per_member_and_rebalances_the_rest()
    {
        await using var kit = new GroupKit(new GroupCoordinatorOptions { GroupInitialRebalanceDelayMs = 100, OffsetsTopicPartitions = 3 });
        var joins = new[] { kit.Join("g"), kit.Join("g"), kit.Join("g") };
        kit.Advance(100);
        kit.Advance(100);
        var members = await Task.WhenAll(joins.Select(Done));
        string[] ids = [.. members.Select(m => m.MemberId)];
        var syncs = new[] { kit.Sync("g", 1, ids[1]), kit.Sync("g", 1, ids[2]), kit.Sync("g", 1, ids[0]) };
        await Task.WhenAll(syncs.Select(Done));

        var leave = await Done(kit.Coordinator.LeaveGroupAsync("g",
            [new LeavingMember(ids[1], null, "bye"), new LeavingMember("ghost", null, null), new LeavingMember(ids[2], null, null)]));
        Assert.Equal(ErrorCode.None, leave.Error);
        Assert.Equal([ErrorCode.None, ErrorCode.UnknownMemberId, ErrorCode.None], leave.Members.Select(m => m.Error));
        Assert.Equal(("PreparingRebalance", 1), (kit.Coordinator.DescribeGroup("g").State, kit.Coordinator.DescribeGroup("g").Members.Count));
        var rejoin = await Done(kit.Join("g", ids[0]));
        Assert.Equal((2, 1), (rejoin.GenerationId, rejoin.Members.Count));

        // The last one leaving empties the group; an unknown group answers per member.
        await Done(kit.Sync("g", 2, ids[0], null, new MemberAssignment(ids[0], [])));
        await Done(kit.Coordinator.LeaveGroupAsync("g", [new LeavingMember(ids[0], null, null)]));
        Assert.Equal("Empty", kit.Coordinator.DescribeGroup("g").State);
        var unknown = await Done(kit.Coordinator.LeaveGroupAsync("never", [new LeavingMember("x", null, null)]));
        Assert.Equal((ErrorCode.None, ErrorCode.UnknownMemberId), (unknown.Error, unknown.Members[0].Error));
    }

    [Fact]
    public async Task Leaving_a_rebalance_in_progress_lets_it_complete_without_the_member()
    {
        await using var kit = new GroupKit();
        var (a, b) = await StablePair(kit);
        var aJoin = kit.Join("g", a);
        Assert.False(aJoin.IsCompleted);
        await Done(kit.Coordinator.LeaveGroupAsync("g", [new LeavingMember(b, null, null)]));
        var joined = await Done(aJoin);
        Assert.Equal((ErrorCode.None, 3, 1), (joined.Error, joined.GenerationId, joined.Members.Count));
    }
}

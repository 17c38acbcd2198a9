using Broker.Core.Model;

namespace Broker.Groups.Tests;

/// <summary>OffsetCommit/OffsetFetch, retention-based expiry, DeleteGroups and OffsetDelete.</summary>
public sealed class OffsetTests
{
    [Fact]
    public async Task Commits_from_outside_group_management_create_the_group_and_are_fetched_back()
    {
        await using var kit = new GroupKit();
        var outcome = await Done(kit.Commit("simple", -1, "", new("t1", 0, 42, 3, "meta"), new("t1", 1, 7, -1, null), new("t2", 0, 1, -1, "")));
        Assert.All(outcome.Results, r => Assert.Equal(ErrorCode.None, r.Error));
        Assert.Equal(new CommittedOffset("t1", 0, 42, 3, "meta", ErrorCode.None), kit.Fetch("simple", "t1", 0));
        Assert.Equal(new CommittedOffset("t1", 1, 7, -1, "", ErrorCode.None), kit.Fetch("simple", "t1", 1));
        Assert.Equal(new CommittedOffset("t1", 9, -1, -1, "", ErrorCode.None), kit.Fetch("simple", "t1", 9));
        Assert.Equal(3, kit.Coordinator.FetchOffsets("simple", null, requireStable: true).Offsets.Count);
        Assert.Equal("Empty", kit.Coordinator.DescribeGroup("simple").State);

        // Last write wins.
        await Done(kit.Commit("simple", -1, "", new OffsetCommitEntry("t1", 0, 50, 4, "m2")));
        Assert.Equal(50, kit.Fetch("simple", "t1", 0).Offset);

        // An unknown group has nothing committed, without an error.
        var unknown = kit.Coordinator.FetchOffsets("nobody", [new TopicPartitionsQuery("t1", [0, 1])], requireStable: false);
        Assert.Equal(ErrorCode.None, unknown.Error);
        Assert.Equal([-1L, -1L], unknown.Offsets.Select(o => o.Offset));
        Assert.Empty(kit.Coordinator.FetchOffsets("nobody", null, false).Offsets);
    }

    [Fact]
    public async Task Commit_validation_errors()
    {
        await using var kit = new GroupKit(new GroupCoordinatorOptions { GroupInitialRebalanceDelayMs = 0, OffsetMetadataMaxBytes = 10, OffsetsTopicPartitions = 3 });
        var a = await kit.StableSingle("g");
        OffsetCommitEntry E(int partition = 0, string? metadata = null) => new("t1", partition, 10, -1, metadata);

        Assert.Equal(ErrorCode.IllegalGeneration, (await Done(kit.Commit("new", 3, "m", E()))).Results[0].Error); // no group, generation >= 0
        Assert.Equal(ErrorCode.UnknownMemberId, (await Done(kit.Commit("g", -1, "", E()))).Results[0].Error); // members exist
        Assert.Equal(ErrorCode.UnknownMemberId, (await Done(kit.Commit("g", 1, "someone", E()))).Results[0].Error);
        Assert.Equal(ErrorCode.IllegalGeneration, (await Done(kit.Commit("g", 2, a.MemberId, E()))).Results[0].Error);
        var mixed = await Done(kit.Commit("g", 1, a.MemberId, E(0, "0123456789"), E(1, "0123456789x")));
        Assert.Equal([ErrorCode.None, ErrorCode.OffsetMetadataTooLarge], mixed.Results.Select(r => r.Error));
        Assert.Equal(-1, kit.Fetch("g", "t1", 1).Offset);

        // PreparingRebalance still accepts the current generation; CompletingRebalance does not.
        var bJoin = kit.Join("g");
        Assert.Equal(ErrorCode.None, (await Done(kit.Commit("g", 1, a.MemberId, E()))).Results[0].Error);
        await Done(kit.Join("g", a.MemberId));
        await Done(bJoin);
        Assert.Equal(ErrorCode.RebalanceInProgress, (await Done(kit.Commit("g", 2, a.MemberId, E()))).Results[0].Error);
    }

    [Fact]
    public async Task Offsets_of_an_empty_group_expire_from_when_it_became_empty()
    {
        var options = new GroupCoordinatorOptions
        {
            GroupInitialRebalanceDelayMs = 0, OffsetsTopicPartitions = 3, OffsetsRetentionMs = 100_000, OffsetsRetentionCheckIntervalMs = 1000,
        };
        await using var kit = new GroupKit(options);
        var a = await kit.StableSingle("g");
        await Done(kit.Commit("g", 1, a.MemberId, new OffsetCommitEntry("t1", 0, 10, -1, null)));
        for (int i = 0; i < 10; i++)
        {
            kit.Advance(5_000);
            Assert.Equal(ErrorCode.None, kit.Coordinator.Heartbeat("g", 1, a.MemberId, null));
        }
        await Done(kit.Coordinator.LeaveGroupAsync("g", [new LeavingMember(a.MemberId, null, null)])); // Empty from here (t = 50 s)
        Assert.Equal("Empty", kit.Coordinator.DescribeGroup("g").State);

        kit.Advance(99_000); // 149 s after the commit, 99 s after the group emptied
        Assert.Equal(10, kit.Fetch("g", "t1", 0).Offset);
        kit.Advance(1000);
        Assert.Equal(-1, kit.Fetch("g", "t1", 0).Offset);
        Assert.Equal("Dead", kit.Coordinator.DescribeGroup("g").State); // no offsets left: the group is gone

        // The tombstones are in the log: a reload finds nothing.
        await kit.RestartAsync();
        Assert.Equal(-1, kit.Fetch("g", "t1", 0).Offset);
        Assert.Equal("Dead", kit.Coordinator.DescribeGroup("g").State);
    }

    [Fact]
    public async Task Standalone_commits_expire_by_commit_time_and_an_explicit_retention_wins()
    {
        var options = new GroupCoordinatorOptions
        {
            GroupInitialRebalanceDelayMs = 0, OffsetsTopicPartitions = 3, OffsetsRetentionMs = 100_000, OffsetsRetentionCheckIntervalMs = 1000,
        };
        await using var kit = new GroupKit(options);
        await Done(kit.Commit("s", -1, "", new OffsetCommitEntry("t1", 0, 1, -1, null)));
        kit.Advance(60_000);
        await Done(kit.Commit("s", -1, "", new OffsetCommitEntry("t1", 1, 2, -1, null)));
        await Done(kit.Coordinator.CommitOffsetsAsync(new OffsetCommitArgs("s", -1, "", null, 5_000, [new("t1", 2, 3, -1, null)])));
        kit.Advance(5_000);
        Assert.Equal(-1, kit.Fetch("s", "t1", 2).Offset); // its own 5 s retention
        Assert.Equal(1, kit.Fetch("s", "t1", 0).Offset);
        kit.Advance(35_000);
        Assert.Equal(-1, kit.Fetch("s", "t1", 0).Offset); // 100 s after its commit
        Assert.Equal(2, kit.Fetch("s", "t1", 1).Offset);
        Assert.Equal("Empty", kit.Coordinator.DescribeGroup("s").State);
    }

    [Fact]
    public async Task Delete_group_needs_an_empty_group_and_survives_a_reload()
    {
        await using var kit = new GroupKit();
        await Done(kit.Commit("empty", -1, "", new OffsetCommitEntry("t1", 0, 5, -1, null)));
        await kit.StableSingle("busy");
        Assert.Equal(ErrorCode.GroupIdNotFound, await Done(kit.Coordinator.DeleteGroupAsync("nobody")));
        Assert.Equal(ErrorCode.NonEmptyGroup, await Done(kit.Coordinator.DeleteGroupAsync("busy")));
        Assert.Equal(ErrorCode.None, await Done(kit.Coordinator.DeleteGroupAsync("empty")));
        Assert.Equal(ErrorCode.GroupIdNotFound, await Done(kit.Coordinator.DeleteGroupAsync("empty")));
        Assert.Equal(-1, kit.Fetch("empty", "t1", 0).Offset);
        Assert.Equal(["busy"], kit.Coordinator.ListGroups(null, null).Groups.Select(g => g.GroupId));

        await kit.RestartAsync();
        Assert.Equal(-1, kit.Fetch("empty", "t1", 0).Offset);
        Assert.Equal("Dead", kit.Coordinator.DescribeGroup("empty").State);
        Assert.Equal("Stable", kit.Coordinator.DescribeGroup("busy").State);
    }

    [Fact]
    public async Task Offset_delete_refuses_subscribed_topics_of_consumer_groups()
    {
        await using var kit = new GroupKit();
        var a = await kit.StableSingle("g"); // subscribed to t1
        await Done(kit.Commit("g", 1, a.MemberId, new("t1", 0, 5, -1, null), new("t2", 0, 6, -1, null), new("t2", 1, 7, -1, null)));

        var outcome = await Done(kit.Coordinator.DeleteOffsetsAsync("g", [new("t1", 0), new("t2", 0), new("t3", 0)]));
        Assert.Equal(ErrorCode.None, outcome.Error);
        Assert.Equal([ErrorCode.GroupSubscribedToTopic, ErrorCode.None, ErrorCode.None], outcome.Partitions.Select(p => p.Error));
        Assert.Equal(5, kit.Fetch("g", "t1", 0).Offset);
        Assert.Equal(-1, kit.Fetch("g", "t2", 0).Offset);
        Assert.Equal(7, kit.Fetch("g", "t2", 1).Offset);
        Assert.Equal(ErrorCode.GroupIdNotFound, (await Done(kit.Coordinator.DeleteOffsetsAsync("nobody", [new("t1", 0)]))).Error);

        // Not a consumer group with members: nothing can go.
        var connect = await Done(kit.Join("c", protocolType: "connect", protocols: [new GroupProtocol("default", [1])]));
        await Done(kit.Sync("c", connect.GenerationId, connect.MemberId));
        Assert.Equal(ErrorCode.NonEmptyGroup, (await Done(kit.Coordinator.DeleteOffsetsAsync("c", [new("t1", 0)]))).Error);

        // An Empty group loses any offset, and the group itself with its last one.
        await Done(kit.Commit("s", -1, "", new OffsetCommitEntry("t1", 0, 1, -1, null)));
        Assert.Equal(ErrorCode.None, (await Done(kit.Coordinator.DeleteOffsetsAsync("s", [new("t1", 0)]))).Partitions[0].Error);
        Assert.Equal("Dead", kit.Coordinator.DescribeGroup("s").State);
        await kit.RestartAsync();
        Assert.Equal(-1, kit.Fetch("g", "t2", 0).Offset);
        Assert.Equal(7, kit.Fetch("g", "t2", 1).Offset);
    }

    [Fact]
    public async Task List_groups_filters_by_state_and_type()
    {
        await using var kit = new GroupKit();
        await kit.StableSingle("stable");
        await Done(kit.Commit("empty", -1, "", new OffsetCommitEntry("t1", 0, 1, -1, null)));
        var all = kit.Coordinator.ListGroups(null, null);
        Assert.Equal(["empty", "stable"], all.Groups.Select(g => g.GroupId).Order());
        Assert.Equal("consumer", all.Groups.Single(g => g.GroupId == "stable").ProtocolType);
        Assert.Equal("", all.Groups.Single(g => g.GroupId == "empty").ProtocolType);
        Assert.Equal(["stable"], kit.Coordinator.ListGroups(["stable"], null).Groups.Select(g => g.GroupId));
        Assert.Equal(["empty"], kit.Coordinator.ListGroups(["Empty", "Dead"], ["Classic"]).Groups.Select(g => g.GroupId));
        Assert.Empty(kit.Coordinator.ListGroups(null, ["consumer"]).Groups);
        var dead = kit.Coordinator.DescribeGroup("nobody");
        Assert.Equal((ErrorCode.None, "Dead", 0), (dead.Error, dead.State, dead.Members.Count));
    }
}

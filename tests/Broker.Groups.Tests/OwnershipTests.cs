using Broker.Core.Model;

namespace Broker.Groups.Tests;

/// <summary>Placement, coordinator loading/unloading as offsets-partition leadership moves, and write failures.</summary>
public sealed class OwnershipTests
{
    [Fact]
    public async Task Groups_are_placed_by_java_string_hash()
    {
        var clock = new ManualClock();
        using var noTopic = new FakeOffsetsTopic(clock, 0);
        await using var coordinator = new GroupCoordinator(new GroupCoordinatorOptions(), noTopic, clock);
        Assert.Equal(22, coordinator.PartitionFor("hello"));               // hashCode 99162322
        Assert.Equal(0, coordinator.PartitionFor("polygenelubricants"));   // hashCode Int.MinValue: Utils.abs gives 0
        Assert.Equal(12, coordinator.PartitionFor("my-group"));            // hashCode -1906497762
        Assert.Equal(6, coordinator.PartitionFor("groupé"));               // UTF-16 code units
        Assert.Equal(ErrorCode.NotCoordinator, coordinator.CheckCoordinator("hello")); // no topic yet

        await using var kit = new GroupKit(partitions: 3); // the topic's real count wins over the option
        Assert.Equal(1, kit.Coordinator.PartitionFor("hello"));
        Assert.Equal(2, kit.Coordinator.PartitionFor("consumer-group-1"));
    }

    [Fact]
    public async Task Unloading_answers_waiting_calls_and_reloading_restores_groups_and_offsets()
    {
        await using var kit = new GroupKit();
        int p = kit.Coordinator.PartitionFor("g");
        var a = await kit.StableSingle("g");
        await Done(kit.Commit("g", 1, a.MemberId, new("t1", 0, 42, 5, "meta"), new("t1", 1, 43, -1, null)));
        await Done(kit.Commit("g", 1, a.MemberId, new OffsetCommitEntry("t1", 1, 44, -1, null)));
        await Done(kit.Commit("other", -1, "", new OffsetCommitEntry("t9", 0, 9, -1, null)));
        var waiting = kit.Join("g"); // a newcomer waits for a's rejoin
        Assert.False(waiting.IsCompleted);

        kit.Topic.Follow(p, 1);
        Assert.Equal(ErrorCode.NotCoordinator, kit.Coordinator.CheckCoordinator("g")); // at once, before maintenance
        kit.Coordinator.RunMaintenance();
        Assert.Equal(ErrorCode.NotCoordinator, (await Done(waiting)).Error);
        Assert.Equal(ErrorCode.NotCoordinator, kit.Coordinator.Heartbeat("g", 1, a.MemberId, null));
        Assert.Equal(ErrorCode.NotCoordinator, kit.Coordinator.FetchOffsets("g", null, false).Error);
        Assert.Equal(ErrorCode.NotCoordinator, (await Done(kit.Commit("g", 1, a.MemberId, new OffsetCommitEntry("t1", 0, 1, -1, null)))).Results[0].Error);
        Assert.DoesNotContain(kit.Coordinator.ListGroups(null, null).Groups, g => g.GroupId == "g");

        kit.Topic.Lead(p, 2); // leadership comes back with a new epoch: everything is replayed from the log
        kit.LoadAll();
        Assert.Equal(ErrorCode.None, kit.Coordinator.CheckCoordinator("g"));
        Assert.Equal(new CommittedOffset("t1", 0, 42, 5, "meta", ErrorCode.None), kit.Fetch("g", "t1", 0));
        Assert.Equal(44, kit.Fetch("g", "t1", 1).Offset);
        var description = kit.Coordinator.DescribeGroup("g");
        Assert.Equal(("Stable", "range", a.MemberId), (description.State, description.Protocol, Assert.Single(description.Members).MemberId));
        Assert.Equal(new byte[] { 1, 2, 3 }, description.Members[0].Assignment);
        Assert.Equal(ErrorCode.None, kit.Coordinator.Heartbeat("g", 1, a.MemberId, null)); // the generation carried over
        Assert.Equal(new byte[] { 1, 2, 3 }, (await Done(kit.Sync("g", 1, a.MemberId))).Assignment);
        Assert.Equal(9, kit.Fetch("other", "t9", 0).Offset);

        // A loaded member that never heartbeats expires after its session like any other.
        kit.Advance(10_000);
        Assert.Equal("Empty", kit.Coordinator.DescribeGroup("g").State);
    }

    [Fact]
    public async Task Loading_waits_until_the_log_end_at_election_is_committed()
    {
        await using var kit = new GroupKit();
        int p = kit.Coordinator.PartitionFor("g");
        await Done(kit.Commit("g", -1, "", new OffsetCommitEntry("t1", 0, 1, -1, null)));
        kit.Topic.Follow(p, 1);
        kit.Coordinator.RunMaintenance();

        // The new leader has an uncommitted commit record from its predecessor at the end of its log.
        var replica = new ScriptedReplica(kit.Topic.Logs[p], epoch: 2);
        replica.Hold();
        var writer = new ScriptedReplica(kit.Topic.Logs[p], epoch: 1);
        await using (var other = new GroupKit(kit.Options, topic: kit.Topic, clock: kit.Clock))
        {
            kit.Topic.Set(p, writer);
            other.LoadAll();
            await Done(other.Commit("g", -1, "", new OffsetCommitEntry("t1", 0, 2, -1, null)));
            kit.Topic.Set(p, null);
            other.Coordinator.RunMaintenance();
        }
        kit.Topic.Set(p, replica);
        kit.Coordinator.RunMaintenance();
        await Task.Delay(20);
        Assert.Equal(ErrorCode.CoordinatorLoadInProgress, kit.Coordinator.CheckCoordinator("g"));
        Assert.Equal(ErrorCode.CoordinatorLoadInProgress, kit.Coordinator.FetchOffsets("g", null, false).Error);
        Assert.Equal(ErrorCode.CoordinatorLoadInProgress, kit.Coordinator.ListGroups(null, null).Error);

        replica.Release();
        kit.LoadAll();
        Assert.Equal(2, kit.Fetch("g", "t1", 0).Offset);
    }

    [Fact]
    public async Task Write_failures_map_to_kafka_errors_and_leave_the_cache_alone()
    {
        await using var kit = new GroupKit();
        int p = kit.Coordinator.PartitionFor("g");
        var replica = new ScriptedReplica(kit.Topic.Logs[p], epoch: 7);
        kit.Topic.Set(p, replica);
        kit.LoadAll();
        var a = await kit.StableSingle("g");
        OffsetCommitEntry E(long offset) => new("t1", 0, offset, -1, null);
        Assert.Equal(ErrorCode.None, (await Done(kit.Commit("g", 1, a.MemberId, E(1)))).Results[0].Error);

        replica.WaitError = ErrorCode.RequestTimedOut;
        Assert.Equal(ErrorCode.RequestTimedOut, (await Done(kit.Commit("g", 1, a.MemberId, E(2)))).Results[0].Error);
        Assert.Equal(1, kit.Fetch("g", "t1", 0).Offset);
        replica.WaitError = ErrorCode.None;
        replica.AppendError = ErrorCode.NotEnoughReplicas;
        Assert.Equal(ErrorCode.CoordinatorNotAvailable, (await Done(kit.Commit("g", 1, a.MemberId, E(3)))).Results[0].Error);
        replica.AppendError = ErrorCode.None;

        // A commit waiting for replication is pending: OffsetFetch with requireStable says so.
        replica.Hold();
        var pending = kit.Commit("g", 1, a.MemberId, E(4));
        await Task.Delay(20);
        Assert.False(pending.IsCompleted);
        var unstable = kit.Coordinator.FetchOffsets("g", [new TopicPartitionsQuery("t1", [0])], requireStable: true);
        Assert.Equal(ErrorCode.UnstableOffsetCommit, unstable.Offsets[0].Error);
        Assert.Equal(1, kit.Fetch("g", "t1", 0).Offset);
        replica.Release();
        Assert.Equal(ErrorCode.None, (await Done(pending)).Results[0].Error);
        Assert.Equal(4, kit.Fetch("g", "t1", 0).Offset);

        // The leader's SyncGroup whose group write times out: COORDINATOR_NOT_AVAILABLE, and the group rebalances.
        var bJoin = kit.Join("g");
        var aJoin = await Done(kit.Join("g", a.MemberId));
        var b = await Done(bJoin);
        var bSync = kit.Sync("g", 2, b.MemberId);
        replica.WaitError = ErrorCode.RequestTimedOut;
        var aSync = await Done(kit.Sync("g", 2, a.MemberId, null, new MemberAssignment(a.MemberId, [1])));
        Assert.Equal(ErrorCode.CoordinatorNotAvailable, aSync.Error);
        Assert.Equal(ErrorCode.CoordinatorNotAvailable, (await Done(bSync)).Error);
        Assert.Equal("PreparingRebalance", kit.Coordinator.DescribeGroup("g").State);
        Assert.Equal(2, aJoin.GenerationId);

        // Leadership lost between maintenance passes: NOT_COORDINATOR at once.
        replica.WaitError = ErrorCode.None;
        replica.IsLeader = false;
        Assert.Equal(ErrorCode.NotCoordinator, (await Done(kit.Commit("g", -1, "", E(5)))).Results[0].Error);
        Assert.Equal(ErrorCode.NotCoordinator, kit.Coordinator.CheckCoordinator("g"));
    }

    [Fact]
    public async Task Started_coordinator_follows_leadership_on_its_own()
    {
        var clock = new ManualClock();
        using var topic = new FakeOffsetsTopic(clock, 2);
        await using var coordinator = new GroupCoordinator(new GroupCoordinatorOptions { MaintenanceIntervalMs = 5, OffsetsTopicPartitions = 2 }, topic, clock);
        coordinator.Start();
        int p = coordinator.PartitionFor("g");
        await WaitFor(() => coordinator.CheckCoordinator("g") == ErrorCode.None);
        topic.Follow(p, 1);
        await WaitFor(() => coordinator.ListGroups(null, null).Error == ErrorCode.None && coordinator.CheckCoordinator("g") == ErrorCode.NotCoordinator);
        topic.Lead(p, 2);
        await WaitFor(() => coordinator.CheckCoordinator("g") == ErrorCode.None);
    }

    private static async Task WaitFor(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not reached");
            await Task.Delay(5);
        }
    }
}

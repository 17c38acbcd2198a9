using Broker.Core.Model;

namespace Broker.Groups.Tests;

/// <summary>The metrics snapshots: committed offsets and group states of the groups this node coordinates.</summary>
public sealed class MetricsSnapshotTests
{
    [Fact]
    public async Task Snapshots_list_committed_offsets_and_group_states_of_owned_groups_only()
    {
        await using var kit = new GroupKit();
        Assert.Empty(kit.Coordinator.SnapshotCommittedOffsets());
        Assert.Empty(kit.Coordinator.SnapshotGroups());

        var member = await kit.StableSingle("stable");
        await GroupKit.Done(kit.Commit("stable", member.GenerationId, member.MemberId, new("t1", 0, 42, -1, null), new("t1", 1, 7, -1, null)));
        await GroupKit.Done(kit.Commit("simple", -1, "", new OffsetCommitEntry("t2", 3, 5, -1, null)));

        var offsets = kit.Coordinator.SnapshotCommittedOffsets().OrderBy(o => o.GroupId).ThenBy(o => o.Topic).ThenBy(o => o.Partition).ToList();
        Assert.Equal(
        [
            new GroupCommittedOffset("simple", "t2", 3, 5),
            new GroupCommittedOffset("stable", "t1", 0, 42),
            new GroupCommittedOffset("stable", "t1", 1, 7),
        ], offsets);
        var groups = kit.Coordinator.SnapshotGroups().OrderBy(g => g.GroupId).ToList();
        Assert.Equal([new GroupSummary("simple", "Empty", 0), new GroupSummary("stable", "Stable", 1)], groups);

        // Losing the leadership of a group's offsets partition drops its groups from the snapshots.
        int p = kit.Coordinator.PartitionFor("stable");
        kit.Topic.Follow(p, 1);
        kit.Coordinator.RunMaintenance();
        Assert.Equal(ErrorCode.NotCoordinator, kit.Coordinator.CheckCoordinator("stable"));
        Assert.DoesNotContain(kit.Coordinator.SnapshotCommittedOffsets(), o => o.GroupId == "stable");
        Assert.DoesNotContain(kit.Coordinator.SnapshotGroups(), g => g.GroupId == "stable");
    }
}

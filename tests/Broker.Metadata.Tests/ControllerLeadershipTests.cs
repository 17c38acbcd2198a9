using Broker.Core.Model;
using Broker.Metadata.Controller;

namespace Broker.Metadata.Tests;

/// <summary>ClusterController.ApplyPartitionLeadershipAsync: what a partition leader's report changes, and what it may not.</summary>
public class ControllerLeadershipTests
{
    /// <summary>Four brokers and "t": partition 0 on [1,2,3] (leader 1, epoch 0), partition 1 on [1,2,4].</summary>
    private static async Task<(ControllerFixture F, Guid TopicId)> StartAsync()
    {
        var f = await ControllerFixture.StartAsync(brokers: 4);
        var spec = new NewTopicSpec("t", ManualAssignment: new Dictionary<int, int[]> { [0] = [1, 2, 3], [1] = [1, 2, 4] });
        var created = (await f.Controller.CreateTopicsAsync([spec], validateOnly: false))[0];
        Assert.Equal(ErrorCode.None, created.Error);
        return (f, created.TopicId);
    }

    private static long Epoch(ControllerFixture f, int broker) => f.Image.GetBroker(broker)!.BrokerEpoch;

    [Fact]
    public async Task A_new_leader_with_a_higher_epoch_is_recorded_with_its_isr()
    {
        var (f, id) = await StartAsync();
        using var _ = f;
        var results = await f.Controller.ApplyPartitionLeadershipAsync(2, Epoch(f, 2), [new PartitionLeadershipReport(id, 0, 2, 7, [3, 2])]);
        var r = Assert.Single(results);
        Assert.Equal((id, 0, ErrorCode.None), (r.TopicId, r.PartitionId, r.Error));
        var p = f.Image.GetPartition("t", 0)!;
        Assert.Equal((2, 7), (p.Leader, p.LeaderEpoch));
        Assert.Equal(new[] { 3, 2 }, p.Isr);
        Assert.Equal(new[] { 1, 2, 3 }, p.Replicas);
    }

    [Fact]
    public async Task Isr_change_in_the_same_epoch_and_reelection_of_the_same_leader_are_recorded()
    {
        var (f, id) = await StartAsync();
        using var _ = f;
        Assert.Equal(ErrorCode.None, (await f.Controller.ApplyPartitionLeadershipAsync(1, Epoch(f, 1), [new PartitionLeadershipReport(id, 0, 1, 0, [1])]))[0].Error);
        var p = f.Image.GetPartition("t", 0)!;
        Assert.Equal((1, 0), (p.Leader, p.LeaderEpoch));
        Assert.Equal(new[] { 1 }, p.Isr);

        Assert.Equal(ErrorCode.None, (await f.Controller.ApplyPartitionLeadershipAsync(1, Epoch(f, 1), [new PartitionLeadershipReport(id, 0, 1, 3, [1, 2])]))[0].Error);
        p = f.Image.GetPartition("t", 0)!;
        Assert.Equal((1, 3), (p.Leader, p.LeaderEpoch));
        Assert.Equal(new[] { 1, 2 }, p.Isr);
    }

    [Fact]
    public async Task An_unchanged_report_writes_nothing()
    {
        var (f, id) = await StartAsync();
        using var _ = f;
        long end = f.Storage.LogEndOffset;
        // The image's own state, ISR in another order.
        var results = await f.Controller.ApplyPartitionLeadershipAsync(1, Epoch(f, 1),
            [new PartitionLeadershipReport(id, 0, 1, 0, [3, 1, 2]), new PartitionLeadershipReport(id, 1, 1, 0, [4, 2, 1])]);
        Assert.All(results, r => Assert.Equal(ErrorCode.None, r.Error));
        Assert.Equal(end, f.Storage.LogEndOffset);
    }

    [Fact]
    public async Task Accepted_changes_of_one_request_are_one_batch()
    {
        var (f, id) = await StartAsync();
        using var _ = f;
        long end = f.Storage.LogEndOffset;
        int batches = f.Storage.BatchCount;
        var results = await f.Controller.ApplyPartitionLeadershipAsync(2, Epoch(f, 2),
            [new PartitionLeadershipReport(id, 0, 2, 1, [2]), new PartitionLeadershipReport(id, 1, 2, 1, [1, 2])]);
        Assert.All(results, r => Assert.Equal(ErrorCode.None, r.Error));
        Assert.Equal(end + 2, f.Storage.LogEndOffset);
        Assert.Equal(batches + 1, f.Storage.BatchCount);
        Assert.Equal(2, f.Image.GetPartition("t", 1)!.Leader);
    }

    [Fact]
    public async Task Stale_or_unknown_broker_epochs_are_refused()
    {
        var (f, id) = await StartAsync();
        using var _ = f;
        var report = new PartitionLeadershipReport(id, 0, 2, 5, [2]);
        var stale = await f.Controller.ApplyPartitionLeadershipAsync(2, Epoch(f, 2) + 1, [report, report with { PartitionId = 1 }]);
        Assert.All(stale, r => Assert.Equal(ErrorCode.StaleBrokerEpoch, r.Error));
        Assert.Equal(ErrorCode.BrokerIdNotRegistered, (await f.Controller.ApplyPartitionLeadershipAsync(9, 0, [report with { Leader = 9, Isr = [9] }]))[0].Error);
        Assert.Equal((1, 0), (f.Image.GetPartition("t", 0)!.Leader, f.Image.GetPartition("t", 0)!.LeaderEpoch));
    }

    [Fact]
    public async Task Invalid_reports_get_their_own_error_and_valid_ones_still_apply()
    {
        var (f, id) = await StartAsync();
        using var _ = f;
        // Move partition 0 to epoch 4 first, so older epochs are fenced.
        Assert.Equal(ErrorCode.None, (await f.Controller.ApplyPartitionLeadershipAsync(1, Epoch(f, 1), [new PartitionLeadershipReport(id, 0, 1, 4, [1, 2, 3])]))[0].Error);
        long end = f.Storage.LogEndOffset;

        var results = await f.Controller.ApplyPartitionLeadershipAsync(3, Epoch(f, 3),
        [
            new PartitionLeadershipReport(id, 0, 3, 3, [3]),              // older epoch
            new PartitionLeadershipReport(id, 0, 3, 4, [3]),              // reported twice
            new PartitionLeadershipReport(id, 1, 3, 9, [3]),              // 3 is not a replica of partition 1
            new PartitionLeadershipReport(id, 7, 3, 9, [3]),              // no such partition
            new PartitionLeadershipReport(Guid.NewGuid(), 0, 3, 9, [3]), // no such topic
        ]);
        Assert.Equal(
            [ErrorCode.FencedLeaderEpoch, ErrorCode.InvalidRequest, ErrorCode.InvalidRequest, ErrorCode.UnknownTopicOrPartition, ErrorCode.UnknownTopicId],
            results.Select(r => r.Error));
        Assert.All(results, r => Assert.NotNull(r.Message));
        Assert.Equal(end, f.Storage.LogEndOffset);

        // The same epoch with another leader: Raft has one leader per term.
        Assert.Equal(ErrorCode.InvalidRequest, (await f.Controller.ApplyPartitionLeadershipAsync(3, Epoch(f, 3), [new PartitionLeadershipReport(id, 0, 3, 4, [3])]))[0].Error);
        // A broker reporting someone else, an ISR with a non-replica, without its leader, or with a duplicate.
        Assert.Equal(ErrorCode.InvalidRequest, (await f.Controller.ApplyPartitionLeadershipAsync(3, Epoch(f, 3), [new PartitionLeadershipReport(id, 0, 2, 5, [2])]))[0].Error);
        Assert.Equal(ErrorCode.InvalidRequest, (await f.Controller.ApplyPartitionLeadershipAsync(2, Epoch(f, 2), [new PartitionLeadershipReport(id, 1, 2, 5, [2, 3])]))[0].Error);
        Assert.Equal(ErrorCode.InvalidRequest, (await f.Controller.ApplyPartitionLeadershipAsync(2, Epoch(f, 2), [new PartitionLeadershipReport(id, 1, 2, 5, [1])]))[0].Error);
        Assert.Equal(ErrorCode.InvalidRequest, (await f.Controller.ApplyPartitionLeadershipAsync(2, Epoch(f, 2), [new PartitionLeadershipReport(id, 1, 2, 5, [2, 2])]))[0].Error);
        Assert.Equal(ErrorCode.InvalidRequest, (await f.Controller.ApplyPartitionLeadershipAsync(2, Epoch(f, 2), [new PartitionLeadershipReport(id, 1, 2, 5, [])]))[0].Error);
        Assert.Equal(end, f.Storage.LogEndOffset);

        // A mixed request: the valid report is written, the invalid one is not.
        var mixed = await f.Controller.ApplyPartitionLeadershipAsync(2, Epoch(f, 2),
            [new PartitionLeadershipReport(id, 0, 2, 2, [2]), new PartitionLeadershipReport(id, 1, 2, 5, [1, 2])]);
        Assert.Equal([ErrorCode.FencedLeaderEpoch, ErrorCode.None], mixed.Select(r => r.Error));
        Assert.Equal((2, 5), (f.Image.GetPartition("t", 1)!.Leader, f.Image.GetPartition("t", 1)!.LeaderEpoch));
        Assert.Equal((1, 4), (f.Image.GetPartition("t", 0)!.Leader, f.Image.GetPartition("t", 0)!.LeaderEpoch));
    }

    [Fact]
    public async Task A_controller_that_does_not_lead_the_metadata_log_answers_not_controller()
    {
        var (f, id) = await StartAsync();
        using var _ = f;
        using var follower = new ClusterController(new ControllerOptions { NodeId = 2 }, new FollowerLog(f.Storage), f.Applier);
        var results = await follower.ApplyPartitionLeadershipAsync(2, Epoch(f, 2), [new PartitionLeadershipReport(id, 0, 2, 5, [2])]);
        Assert.Equal(ErrorCode.NotController, Assert.Single(results).Error);
        Assert.Empty(await follower.ApplyPartitionLeadershipAsync(2, Epoch(f, 2), []));
    }
}

using Broker.Core.Model;
using Broker.Metadata.Controller;
using Broker.Server.Admin;
using Broker.Server.Tests.Lifecycle;
using Xunit;

namespace Broker.Server.Tests.Admin;

/// <summary>ForwardingTopicAdmin against a real controller listener (see <see cref="ForwardingFixture"/>).</summary>
public class ForwardingTopicAdminTests
{
    private static readonly CancellationToken None = CancellationToken.None;

    [Fact]
    public async Task Create_topics_is_forwarded_and_mapped_back()
    {
        await using var f = await ForwardingFixture.StartAsync();
        using var admin = f.Forwarder();
        var results = await admin.CreateTopicsAsync(
        [
            new NewTopicSpec("orders", 3, 1, Configs: new Dictionary<string, string?> { ["retention.ms"] = "1000", ["cleanup.policy"] = "compact" }),
            new NewTopicSpec("manual", ManualAssignment: new Dictionary<int, int[]> { [1] = [1], [0] = [1] }),
            new NewTopicSpec("bad", 1, 1, Configs: new Dictionary<string, string?> { ["retention.ms"] = "soon" }),
        ], validateOnly: false, None);

        var orders = results[0];
        Assert.Equal((ErrorCode.None, 3, (short)1), (orders.Error, orders.NumPartitions, orders.ReplicationFactor));
        Assert.Equal(f.Image.GetTopic("orders")!.TopicId, orders.TopicId);
        // Only the topic's own configs, as the local controller reports them (the broker defaults are dropped).
        Assert.Equal(new Dictionary<string, string> { ["retention.ms"] = "1000", ["cleanup.policy"] = "compact" }, orders.Configs);
        Assert.Empty(results[1].Configs);
        Assert.Equal((ErrorCode.None, 2), (results[1].Error, f.Image.GetTopic("manual")!.PartitionCount));
        Assert.Equal(ErrorCode.InvalidConfig, results[2].Error);
        Assert.Contains("retention.ms", results[2].Message);
        Assert.Equal((Guid.Empty, -1), (results[2].TopicId, results[2].NumPartitions));
        Assert.Null(f.Image.GetTopic("bad"));

        var again = await admin.CreateTopicsAsync([new NewTopicSpec("orders", 1, 1)], validateOnly: false, None);
        Assert.Equal(ErrorCode.TopicAlreadyExists, again[0].Error);
    }

    [Fact]
    public async Task Duplicates_and_validate_only_behave_as_the_local_controller()
    {
        await using var f = await ForwardingFixture.StartAsync();
        using var admin = f.Forwarder();
        var results = await admin.CreateTopicsAsync(
            [new NewTopicSpec("a", 1, 1), new NewTopicSpec("b", 1, 1), new NewTopicSpec("a", 2, 1)], validateOnly: false, None);
        Assert.Equal([ErrorCode.InvalidRequest, ErrorCode.None, ErrorCode.InvalidRequest], results.Select(r => r.Error));
        Assert.Null(f.Image.GetTopic("a"));

        var validated = await admin.CreateTopicsAsync([new NewTopicSpec("c", 4, 1)], validateOnly: true, None);
        Assert.Equal((ErrorCode.None, 4), (validated[0].Error, validated[0].NumPartitions));
        Assert.Null(f.Image.GetTopic("c"));
    }

    [Fact]
    public async Task Delete_topics_and_create_partitions_are_forwarded()
    {
        await using var f = await ForwardingFixture.StartAsync();
        using var admin = f.Forwarder();
        var created = await admin.CreateTopicsAsync([new NewTopicSpec("x", 1, 1), new NewTopicSpec("y", 1, 1)], validateOnly: false, None);
        Assert.All(created, r => Assert.Equal(ErrorCode.None, r.Error));

        var grown = await admin.CreatePartitionsAsync(
            [new NewPartitionsSpec("x", 3), new NewPartitionsSpec("x", 4), new NewPartitionsSpec("y", 1), new NewPartitionsSpec("nope", 2)], validateOnly: false, None);
        Assert.Equal([ErrorCode.InvalidRequest, ErrorCode.InvalidRequest, ErrorCode.InvalidPartitions, ErrorCode.UnknownTopicOrPartition], grown.Select(r => r.Error));
        grown = await admin.CreatePartitionsAsync([new NewPartitionsSpec("x", 3, [[1], [1]])], validateOnly: false, None);
        Assert.Equal(ErrorCode.None, grown[0].Error);
        Assert.Equal(3, f.Image.GetTopic("x")!.PartitionCount);

        var unknownId = Guid.NewGuid();
        var deleted = await admin.DeleteTopicsAsync(
        [
            TopicReference.ByName("x"), TopicReference.ById(created[1].TopicId), TopicReference.ById(unknownId),
            TopicReference.ByName("missing"), TopicReference.ById(unknownId),
        ], None);
        Assert.Equal(
            [ErrorCode.None, ErrorCode.None, ErrorCode.UnknownTopicId, ErrorCode.UnknownTopicOrPartition, ErrorCode.InvalidRequest],
            deleted.Select(r => r.Error));
        Assert.Equal(("y", created[1].TopicId), (deleted[1].Name, deleted[1].TopicId));
        Assert.Empty(f.Image.TopicsByName);
    }

    [Fact]
    public async Task Without_a_reachable_controller_the_answer_is_request_timed_out()
    {
        await using var f = await ForwardingFixture.StartAsync();
        using var unknown = f.Forwarder(() => null);
        var results = await unknown.CreateTopicsAsync([new NewTopicSpec("a", 1, 1)], validateOnly: false, None);
        Assert.Equal(ErrorCode.RequestTimedOut, results[0].Error);
        Assert.Contains("No active controller", results[0].Message);

        var dead = LifecycleFixture.DeadEndpoint().Split(':');
        int resolutions = 0;
        using var flaky = f.Forwarder(() => Interlocked.Increment(ref resolutions) == 1 ? (dead[0], int.Parse(dead[1])) : f.Controller);
        var deleted = await flaky.DeleteTopicsAsync([TopicReference.ByName("a")], None);
        Assert.Equal(ErrorCode.RequestTimedOut, deleted[0].Error);
        Assert.Contains("failed", deleted[0].Message);

        // The same forwarder recovers once the controller is reachable.
        Assert.Equal(ErrorCode.None, (await flaky.CreateTopicsAsync([new NewTopicSpec("a", 1, 1)], validateOnly: false, None))[0].Error);
    }

    [Fact]
    public async Task Not_controller_is_retried_once_after_resolving_the_controller_again()
    {
        await using var f = await ForwardingFixture.StartAsync();
        var stale = new RecordingTopicAdmin(ErrorCode.NotController);
        var staleEndpoint = f.StartListener(stale);
        int resolutions = 0;
        using var admin = f.Forwarder(() => Interlocked.Increment(ref resolutions) == 1 ? staleEndpoint : f.Controller);
        var results = await admin.CreateTopicsAsync([new NewTopicSpec("moved", 2, 1)], validateOnly: false, None);
        Assert.Equal(ErrorCode.None, results[0].Error);
        Assert.Equal((1, 2), (stale.Calls, resolutions));
        Assert.NotNull(f.Image.GetTopic("moved"));

        // Still NOT_CONTROLLER after the retry: returned as is, no third attempt.
        using var stuck = f.Forwarder(() => staleEndpoint);
        var partitions = await stuck.CreatePartitionsAsync([new NewPartitionsSpec("moved", 3)], validateOnly: false, None);
        Assert.Equal(ErrorCode.NotController, partitions[0].Error);
        Assert.Equal(3, stale.Calls);
    }

    [Fact]
    public async Task The_active_controller_is_served_locally()
    {
        await using var f = await ForwardingFixture.StartAsync();
        var local = new RecordingTopicAdmin(ErrorCode.PolicyViolation);
        using var admin = new ForwardingTopicAdmin(local, () => true, () => throw new InvalidOperationException("must not resolve"));
        var results = await admin.DeleteTopicsAsync([TopicReference.ByName("a"), TopicReference.ByName("b")], None);
        Assert.All(results, r => Assert.Equal(ErrorCode.PolicyViolation, r.Error));
        Assert.Equal(1, local.Calls);
    }

    [Fact]
    public async Task Cancellation_by_the_caller_propagates_and_the_next_call_reconnects()
    {
        await using var f = await ForwardingFixture.StartAsync();
        using var admin = f.Forwarder();
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => admin.CreateTopicsAsync([new NewTopicSpec("a", 1, 1)], false, cts.Token));
        Assert.Equal(ErrorCode.None, (await admin.CreateTopicsAsync([new NewTopicSpec("a", 1, 1)], false, None))[0].Error);
    }
}

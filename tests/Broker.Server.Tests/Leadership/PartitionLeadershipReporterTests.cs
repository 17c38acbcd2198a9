using Broker.Core.Model;
using Broker.Server.Handlers;
using Xunit;

namespace Broker.Server.Tests.Leadership;

/// <summary>The reporter of broker 2 against a real controller listener (see <see cref="LeadershipFixture"/>).</summary>
public class PartitionLeadershipReporterTests
{
    private static bool Shows(LeadershipFixture f, int partition, int leader, int epoch, params int[] isr)
    {
        var p = f.Partition(partition);
        return p.Leader == leader && p.LeaderEpoch == epoch && p.Isr.Order().SequenceEqual(isr);
    }

    [Fact]
    public async Task Leadership_and_isr_changes_reach_the_image_and_a_caught_up_image_stops_the_reports()
    {
        await using var f = await LeadershipFixture.StartAsync();
        f.Replica(0).Lead(4, 3, 2);
        await using var reporter = f.Reporter();
        reporter.Start();
        Assert.True(await LeadershipFixture.EventuallyAsync(() => Shows(f, 0, 2, 4, 2, 3)), $"image: {f.Partition(0)}");
        // Partitions this broker does not lead are not reported.
        Assert.Equal((2, 0), (f.Partition(1).Leader, f.Partition(1).LeaderEpoch));
        Assert.Equal((3, 0), (f.Partition(2).Leader, f.Partition(2).LeaderEpoch));

        // Once the broker's image agrees, nothing more is sent.
        Assert.True(await LeadershipFixture.EventuallyAsync(() => f.Partitions.TryGetPartition("t", 0, out var s) && s.Image.LeaderEpoch == 4));
        await Task.Delay(100);
        long sent = reporter.RequestsSent;
        await Task.Delay(300);
        Assert.Equal(sent, reporter.RequestsSent);

        // An ISR change in the same term, picked up at once after a nudge.
        f.Replica(0).SetIsr(1, 2, 3);
        reporter.Nudge();
        Assert.True(await LeadershipFixture.EventuallyAsync(() => Shows(f, 0, 2, 4, 1, 2, 3)), $"image: {f.Partition(0)}");

        // A later term of another partition: all of one round travel in one request.
        f.Replica(1).Lead(2, 2);
        f.Replica(2).Lead(6, 1, 2);
        Assert.True(await LeadershipFixture.EventuallyAsync(() => Shows(f, 1, 2, 2, 2) && Shows(f, 2, 2, 6, 1, 2)), $"image: {f.Partition(1)} {f.Partition(2)}");
    }

    [Fact]
    public async Task A_refused_report_is_not_repeated_before_the_resend_delay()
    {
        await using var f = await LeadershipFixture.StartAsync();
        f.Replica(0).Lead(4, 2, 9); // 9 is not a replica: INVALID_REQUEST
        await using var reporter = f.Reporter();
        reporter.Start();
        Assert.True(await LeadershipFixture.EventuallyAsync(() => reporter.RequestsSent >= 1));
        await Task.Delay(500); // 25 rounds
        Assert.Equal(1, reporter.RequestsSent);
        Assert.Equal((1, 0), (f.Partition(0).Leader, f.Partition(0).LeaderEpoch));

        // A corrected ISR is different values: sent at once.
        f.Replica(0).SetIsr(2);
        Assert.True(await LeadershipFixture.EventuallyAsync(() => Shows(f, 0, 2, 4, 2)));
    }

    [Fact]
    public async Task Nothing_is_sent_while_unregistered_or_without_a_known_controller()
    {
        await using var f = await LeadershipFixture.StartAsync();
        var endpoint = f.StartListener();
        long epoch = -1;
        var gate = new object();
        (string, int)? controller = null;
        f.Replica(0).Lead(4, 2);
        await using var reporter = f.Reporter(() => Interlocked.Read(ref epoch), () => { lock (gate) return controller; });
        reporter.Start();
        await Task.Delay(150);
        Interlocked.Exchange(ref epoch, f.Broker2Epoch);
        await Task.Delay(150);
        Assert.Equal(0, reporter.RequestsSent);
        Assert.Equal(1, f.Partition(0).Leader);

        lock (gate) controller = endpoint;
        Assert.True(await LeadershipFixture.EventuallyAsync(() => Shows(f, 0, 2, 4, 2)));
    }

    [Fact]
    public async Task A_failed_connection_is_retried_and_not_controller_moves_on_at_once()
    {
        await using var f = await LeadershipFixture.StartAsync();
        var dead = Lifecycle.LifecycleFixture.DeadEndpoint().Split(':');
        var notController = f.StartListener(LeadershipFixture.Serve(() => null));
        var live = f.StartListener();
        int calls = 0;
        // Round 1: nobody listens; round 2: a node without an active controller; then the active controller.
        (string, int)? Resolve() => Interlocked.Increment(ref calls) switch
        {
            1 => (dead[0], int.Parse(dead[1])),
            2 => notController,
            _ => live,
        };
        f.Replica(0).Lead(4, 2);
        // A long resend delay: only the NOT_CONTROLLER redirect can make the report arrive quickly.
        await using var reporter = f.Reporter(controller: Resolve, resendAfter: TimeSpan.FromSeconds(30));
        reporter.Start();
        Assert.True(await LeadershipFixture.EventuallyAsync(() => Shows(f, 0, 2, 4, 2), TimeSpan.FromSeconds(4)), $"image: {f.Partition(0)}");
        Assert.True(Volatile.Read(ref calls) >= 3);
        // The NOT_CONTROLLER answer and the accepted one; under load a round may resolve past the refusing node
        // before its connection is up, so only the bound is certain. The quick arrival above is the real check.
        Assert.InRange(reporter.RequestsSent, 1, 2);
    }

    [Fact]
    public async Task A_replica_whose_term_the_image_already_passed_is_not_reported()
    {
        await using var f = await LeadershipFixture.StartAsync();
        // Broker 3 took over at epoch 7; broker 2 still believes it leads epoch 5.
        var broker3 = f.Image.GetBroker(3)!.BrokerEpoch;
        Assert.Equal(ErrorCode.None, (await f.Controller.ApplyPartitionLeadershipAsync(3, broker3, [new(f.TopicId, 0, 3, 7, [3])]))[0].Error);
        Assert.True(await LeadershipFixture.EventuallyAsync(() => f.Partitions.TryGetPartition("t", 0, out var s) && s.Image.LeaderEpoch == 7));
        f.Replica(0).Lead(5, 2);
        await using var reporter = f.Reporter();
        reporter.Start();
        await Task.Delay(300);
        Assert.Equal(0, reporter.RequestsSent);
        Assert.True(Shows(f, 0, 3, 7, 3));
    }
}

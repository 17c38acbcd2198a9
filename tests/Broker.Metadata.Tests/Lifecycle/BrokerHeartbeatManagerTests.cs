using Broker.Consensus;
using Broker.Core.Model;
using Broker.Metadata.Controller;
using Broker.Metadata.Lifecycle;
using static Broker.Metadata.Tests.Lifecycle.LifecycleTestKit;

namespace Broker.Metadata.Tests.Lifecycle;

/// <summary>Registration and heartbeat rules of the controller-side lifecycle, on a fake clock over a real controller.</summary>
public sealed class BrokerHeartbeatManagerTests
{
    private static async Task<(ControllerFixture Fixture, FakeClock Clock, BrokerHeartbeatManager Manager)> StartAsync(Func<int, bool>? leadsPartitions = null)
    {
        var fixture = await ControllerFixture.StartAsync(brokers: 0);
        var clock = new FakeClock();
        return (fixture, clock, Manager(fixture, clock, leadsPartitions));
    }

    private static async Task<long> RegisterAsync(BrokerHeartbeatManager manager, int id, Guid? incarnation = null)
    {
        var result = await manager.RegisterAsync(Spec(id, incarnation ?? Guid.NewGuid()));
        Assert.Equal(ErrorCode.None, result.Error);
        return result.BrokerEpoch;
    }

    [Fact]
    public async Task Registration_leaves_the_broker_fenced_with_epoch_at_its_record_offset()
    {
        var (fixture, _, manager) = await StartAsync();
        using var _f = fixture; using var _m = manager;
        long endBefore = fixture.Log.Log.LogEndOffset;

        long epoch = await RegisterAsync(manager, 2);

        Assert.Equal(endBefore, epoch);
        var broker = fixture.Image.GetBroker(2)!;
        Assert.True(broker.Fenced);
        Assert.DoesNotContain(2, fixture.Image.UnfencedBrokerIds);
        Assert.Equal(BrokerSessionState.Fenced, manager.GetSession(2)!.Value.State);
    }

    [Fact]
    public async Task Fenced_broker_is_unfenced_only_once_caught_up_and_not_asking_to_stay_fenced()
    {
        var (fixture, _, manager) = await StartAsync();
        using var _f = fixture; using var _m = manager;
        long epoch = await RegisterAsync(manager, 2);

        var behind = await manager.HeartbeatAsync(new BrokerHeartbeat(2, epoch, CurrentMetadataOffset: epoch - 1));
        Assert.Equal(ErrorCode.None, behind.Error);
        Assert.False(behind.IsCaughtUp);
        Assert.True(behind.IsFenced);

        var wantsFence = await manager.HeartbeatAsync(new BrokerHeartbeat(2, epoch, epoch, WantFence: true));
        Assert.True(wantsFence.IsCaughtUp);
        Assert.True(wantsFence.IsFenced);
        Assert.True(fixture.Image.GetBroker(2)!.Fenced);

        var ready = await manager.HeartbeatAsync(new BrokerHeartbeat(2, epoch, epoch));
        Assert.Equal(ErrorCode.None, ready.Error);
        Assert.True(ready.IsCaughtUp);
        Assert.False(ready.IsFenced);
        Assert.False(ready.ShouldShutDown);
        Assert.False(fixture.Image.GetBroker(2)!.Fenced);
        Assert.Contains(2, fixture.Image.UnfencedBrokerIds);
        var session = manager.GetSession(2)!.Value;
        Assert.Equal(BrokerSessionState.Active, session.State);
        Assert.Equal(epoch, session.MetadataOffset);
    }

    [Fact]
    public async Task Unknown_broker_and_wrong_epoch_are_rejected()
    {
        var (fixture, _, manager) = await StartAsync();
        using var _f = fixture; using var _m = manager;
        long epoch = await RegisterAsync(manager, 2);

        var unknown = await manager.HeartbeatAsync(new BrokerHeartbeat(7, epoch, epoch));
        Assert.Equal(ErrorCode.BrokerIdNotRegistered, unknown.Error);
        Assert.True(unknown.IsFenced);

        var stale = await manager.HeartbeatAsync(new BrokerHeartbeat(2, epoch + 1, epoch + 1));
        Assert.Equal(ErrorCode.StaleBrokerEpoch, stale.Error);
        Assert.True(fixture.Image.GetBroker(2)!.Fenced);
    }

    [Fact]
    public async Task Broker_without_heartbeat_for_the_session_timeout_is_fenced_and_can_come_back()
    {
        var (fixture, clock, manager) = await StartAsync();
        using var _f = fixture; using var _m = manager;
        long epoch = await RegisterAsync(manager, 2);
        Assert.False((await manager.HeartbeatAsync(new BrokerHeartbeat(2, epoch, epoch))).IsFenced);

        clock.Advance(SessionTimeoutMs - 1);
        Assert.Empty(await manager.CheckSessionsAsync());
        Assert.False(fixture.Image.GetBroker(2)!.Fenced);

        clock.Advance(1);
        Assert.Equal([2], await manager.CheckSessionsAsync());
        Assert.True(fixture.Image.GetBroker(2)!.Fenced);
        Assert.Equal(epoch, fixture.Image.GetBroker(2)!.BrokerEpoch);
        Assert.Empty(await manager.CheckSessionsAsync()); // already fenced: nothing more written
        long end = fixture.Log.Log.LogEndOffset;
        clock.Advance(SessionTimeoutMs * 3);
        Assert.Empty(await manager.CheckSessionsAsync());
        Assert.Equal(end, fixture.Log.Log.LogEndOffset);

        var back = await manager.HeartbeatAsync(new BrokerHeartbeat(2, epoch, end));
        Assert.Equal(ErrorCode.None, back.Error);
        Assert.False(back.IsFenced);
        Assert.False(fixture.Image.GetBroker(2)!.Fenced);
    }

    [Fact]
    public async Task Heartbeats_keep_the_session_alive()
    {
        var (fixture, clock, manager) = await StartAsync();
        using var _f = fixture; using var _m = manager;
        long epoch = await RegisterAsync(manager, 2);
        for (int i = 0; i < 5; i++)
        {
            Assert.False((await manager.HeartbeatAsync(new BrokerHeartbeat(2, epoch, epoch))).IsFenced);
            clock.Advance(SessionTimeoutMs / 2);
            Assert.Empty(await manager.CheckSessionsAsync());
        }
        Assert.False(fixture.Image.GetBroker(2)!.Fenced);
    }

    [Fact]
    public async Task New_incarnation_is_a_duplicate_while_the_old_session_lives()
    {
        var (fixture, clock, manager) = await StartAsync();
        using var _f = fixture; using var _m = manager;
        var first = Guid.NewGuid();
        long epoch = await RegisterAsync(manager, 2, first);
        await manager.HeartbeatAsync(new BrokerHeartbeat(2, epoch, epoch));

        var again = await manager.RegisterAsync(Spec(2, first));
        Assert.Equal(ErrorCode.None, again.Error);
        Assert.Equal(epoch, again.BrokerEpoch); // same incarnation: idempotent

        var duplicate = await manager.RegisterAsync(Spec(2, Guid.NewGuid()));
        Assert.Equal(ErrorCode.DuplicateBrokerRegistration, duplicate.Error);
        Assert.Equal(-1, duplicate.BrokerEpoch);
        Assert.Equal(first, fixture.Image.GetBroker(2)!.IncarnationId);

        clock.Advance(SessionTimeoutMs);
        var second = Guid.NewGuid();
        var replaced = await manager.RegisterAsync(Spec(2, second));
        Assert.Equal(ErrorCode.None, replaced.Error);
        Assert.True(replaced.BrokerEpoch > epoch);
        Assert.Equal(second, fixture.Image.GetBroker(2)!.IncarnationId);
        Assert.True(fixture.Image.GetBroker(2)!.Fenced);

        var old = await manager.HeartbeatAsync(new BrokerHeartbeat(2, epoch, epoch));
        Assert.Equal(ErrorCode.StaleBrokerEpoch, old.Error);
    }

    [Fact]
    public async Task Cluster_id_and_metadata_version_must_match()
    {
        var (fixture, _, manager) = await StartAsync();
        using var _f = fixture; using var _m = manager;

        var wrongCluster = await manager.RegisterAsync(Spec(2, Guid.NewGuid(), clusterId: "other-cluster"));
        Assert.Equal(ErrorCode.InconsistentClusterId, wrongCluster.Error);
        Assert.Contains("other-cluster", wrongCluster.Message);

        var tooOld = await manager.RegisterAsync(Spec(2, Guid.NewGuid(), minVersion: 1, maxVersion: MetadataVersion - 1));
        Assert.Equal(ErrorCode.UnsupportedVersion, tooOld.Error);

        var none = await manager.RegisterAsync(new BrokerRegistrationSpec(2, "test-cluster", Guid.NewGuid(), Spec(2, Guid.Empty).Endpoints, []));
        Assert.Equal(ErrorCode.UnsupportedVersion, none.Error);
        Assert.Null(fixture.Image.GetBroker(2));
    }

    [Fact]
    public async Task Controlled_shutdown_is_granted_once_the_broker_leads_nothing()
    {
        bool leads = true;
        var (fixture, _, manager) = await StartAsync(leadsPartitions: id => id == 2 && Volatile.Read(ref leads));
        using var _f = fixture; using var _m = manager;
        long epoch = await RegisterAsync(manager, 2);
        await manager.HeartbeatAsync(new BrokerHeartbeat(2, epoch, epoch));

        var asked = await manager.HeartbeatAsync(new BrokerHeartbeat(2, epoch, epoch, WantShutDown: true));
        Assert.Equal(ErrorCode.None, asked.Error);
        Assert.False(asked.ShouldShutDown);
        Assert.False(asked.IsFenced);
        Assert.True(fixture.Image.GetBroker(2)!.InControlledShutdown);
        Assert.Equal(BrokerSessionState.ControlledShutdown, manager.GetSession(2)!.Value.State);

        // Cannot be cancelled by a heartbeat without WantShutDown.
        var still = await manager.HeartbeatAsync(new BrokerHeartbeat(2, epoch, epoch));
        Assert.False(still.ShouldShutDown);
        Assert.Equal(BrokerSessionState.ControlledShutdown, manager.GetSession(2)!.Value.State);

        Volatile.Write(ref leads, false);
        var granted = await manager.HeartbeatAsync(new BrokerHeartbeat(2, epoch, epoch, WantShutDown: true));
        Assert.True(granted.ShouldShutDown);
        Assert.True(granted.IsFenced);
        Assert.True(fixture.Image.GetBroker(2)!.Fenced);
        Assert.True(manager.GetSession(2)!.Value.ShutdownApproved);

        // The released session no longer blocks the next incarnation.
        var restart = await manager.RegisterAsync(Spec(2, Guid.NewGuid()));
        Assert.Equal(ErrorCode.None, restart.Error);
    }

    [Fact]
    public async Task Fenced_broker_asking_to_shut_down_may_do_so_at_once()
    {
        var (fixture, _, manager) = await StartAsync(leadsPartitions: _ => true);
        using var _f = fixture; using var _m = manager;
        long epoch = await RegisterAsync(manager, 2);
        var result = await manager.HeartbeatAsync(new BrokerHeartbeat(2, epoch, epoch, WantShutDown: true));
        Assert.True(result.ShouldShutDown);
        Assert.True(result.IsFenced);
        Assert.True(fixture.Image.GetBroker(2)!.Fenced);
    }

    [Fact]
    public async Task Seeded_sessions_expire_and_excluded_brokers_are_left_alone()
    {
        // Brokers 1 and 2 registered (and unfenced) directly through the controller, as the single-node path does.
        using var fixture = await ControllerFixture.StartAsync(brokers: 2);
        var clock = new FakeClock();
        using var manager = Manager(fixture, clock);
        Assert.Empty(await manager.CheckSessionsAsync()); // no sessions yet: nothing expires
        manager.SeedFromImage(exclude: new HashSet<int> { 1 });
        clock.Advance(SessionTimeoutMs);
        Assert.Equal([2], await manager.CheckSessionsAsync());
        Assert.False(fixture.Image.GetBroker(1)!.Fenced);
        Assert.True(fixture.Image.GetBroker(2)!.Fenced);
    }

    [Fact]
    public async Task A_node_that_is_not_the_active_controller_answers_not_controller()
    {
        using var fixture = await ControllerFixture.StartAsync(brokers: 1);
        using var applier = new MetadataApplier(new FollowerLog(fixture.Storage), "test-cluster", () => 1);
        applier.Replay();
        using var follower = new ClusterController(new ControllerOptions { NodeId = 1 }, new FollowerLog(fixture.Storage), applier);
        using var manager = new BrokerHeartbeatManager(follower, new FakeClock());
        Assert.False(manager.IsActive);
        Assert.Equal(ErrorCode.NotController, (await manager.RegisterAsync(Spec(2, Guid.NewGuid()))).Error);
        long epoch = fixture.Image.GetBroker(1)!.BrokerEpoch;
        Assert.Equal(ErrorCode.NotController, (await manager.HeartbeatAsync(new BrokerHeartbeat(1, epoch, epoch))).Error);
        Assert.Empty(await manager.CheckSessionsAsync());
    }

    [Fact]
    public async Task Registration_through_the_controller_still_unfences_by_default()
    {
        using var fixture = await ControllerFixture.StartAsync(brokers: 0);
        var result = await fixture.Controller.RegisterBrokerAsync(3, Guid.NewGuid(), [ControllerFixture.Endpoint(9300)], rack: null);
        Assert.Equal(ErrorCode.None, result.Error);
        Assert.False(fixture.Image.GetBroker(3)!.Fenced);

        var fenced = await fixture.Controller.RegisterBrokerAsync(4, Guid.NewGuid(), [ControllerFixture.Endpoint(9400)], rack: null, unfence: false);
        Assert.Equal(ErrorCode.None, fenced.Error);
        Assert.True(fixture.Image.GetBroker(4)!.Fenced);
    }
}

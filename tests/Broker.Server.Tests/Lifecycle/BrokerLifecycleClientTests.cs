using Broker.Core.Model;
using Broker.Metadata.Lifecycle;
using Broker.Server.Lifecycle;
using Xunit;

namespace Broker.Server.Tests.Lifecycle;

/// <summary>
/// End to end on loopback sockets: a BrokerLifecycleClient talking to a KafkaListener that serves BrokerRegistration
/// and BrokerHeartbeat over a real MetadataNode. Session expiry uses the controller's stepped clock.
/// </summary>
public sealed class BrokerLifecycleClientTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(4);

    [Fact]
    public async Task Registers_stays_fenced_until_caught_up_then_is_fenced_when_heartbeats_stop()
    {
        await using var fx = await LifecycleFixture.StartAsync();
        string controller = fx.StartListener();
        long offset = -1;
        int heartbeats = 0;
        await using var client = new BrokerLifecycleClient(fx.ClientOptions(2, controller), () =>
        {
            Interlocked.Increment(ref heartbeats);
            return Interlocked.Read(ref offset);
        });
        client.Start();

        Assert.True(await client.WaitForStateAsync(BrokerLifecycleState.Fenced, Wait), $"not registered: {client.State} {client.LastError}");
        long epoch = client.BrokerEpoch;
        Assert.Equal(fx.Image.GetBroker(2)!.BrokerEpoch, epoch);
        Assert.Equal(client.Options.IncarnationId, fx.Image.GetBroker(2)!.IncarnationId);
        Assert.Equal(controller, client.ControllerEndpoint);

        // Several heartbeats while behind: still fenced.
        await WaitUntil(() => Volatile.Read(ref heartbeats) >= 3, "heartbeats while behind");
        Assert.Equal(BrokerLifecycleState.Fenced, client.State);
        Assert.False(client.IsCaughtUp);
        Assert.True(fx.Image.GetBroker(2)!.Fenced);

        Interlocked.Exchange(ref offset, fx.Image.LastAppliedOffset);
        Assert.True(await client.WaitForStateAsync(BrokerLifecycleState.Active, Wait), $"not unfenced: {client.State}");
        Assert.True(client.IsCaughtUp);
        Assert.False(fx.Image.GetBroker(2)!.Fenced);
        Assert.Contains(2, fx.Image.UnfencedBrokerIds);

        // The broker dies without a word; its session runs out on the controller's clock.
        await client.StopAsync();
        Assert.Equal(BrokerLifecycleState.Stopped, client.State);
        Assert.Empty(await fx.Manager.CheckSessionsAsync());
        fx.Clock.Advance(LifecycleFixture.SessionTimeout);
        Assert.Equal([2], await fx.Manager.CheckSessionsAsync());
        Assert.True(fx.Image.GetBroker(2)!.Fenced);
        Assert.Equal(epoch, fx.Image.GetBroker(2)!.BrokerEpoch);
        Assert.False(fx.Image.GetBroker(1)!.Fenced); // the in-process local broker has no session and is left alone
    }

    [Fact]
    public async Task A_fenced_broker_that_still_heartbeats_is_unfenced_again()
    {
        await using var fx = await LifecycleFixture.StartAsync();
        string controller = fx.StartListener();
        await using var client = new BrokerLifecycleClient(fx.ClientOptions(2, controller), () => fx.Image.LastAppliedOffset);
        client.Start();
        Assert.True(await client.WaitForStateAsync(BrokerLifecycleState.Active, Wait), $"not active: {client.State} {client.LastError}");

        // Expire the session between two heartbeats (the controller stalled, say): fenced, and the next heartbeat,
        // still caught up, unfences it again (the client may never see Fenced in between).
        long epoch = client.BrokerEpoch;
        fx.Clock.Advance(LifecycleFixture.SessionTimeout * 2);
        Assert.Equal([2], await fx.Manager.CheckSessionsAsync());
        await WaitUntil(() => !fx.Image.GetBroker(2)!.Fenced, "unfenced again");
        Assert.Equal(BrokerLifecycleState.Active, client.State);
        Assert.Equal(epoch, client.BrokerEpoch);
        Assert.Equal(epoch, fx.Image.GetBroker(2)!.BrokerEpoch);
    }

    [Fact]
    public async Task Controlled_shutdown_waits_for_the_controller_and_ends_fenced()
    {
        bool leads = true;
        await using var fx = await LifecycleFixture.StartAsync(leadsPartitions: id => id == 2 && Volatile.Read(ref leads));
        string controller = fx.StartListener();
        await using var client = new BrokerLifecycleClient(fx.ClientOptions(2, controller), () => fx.Image.LastAppliedOffset);
        client.Start();
        Assert.True(await client.WaitForStateAsync(BrokerLifecycleState.Active, Wait), $"not active: {client.State} {client.LastError}");

        var shutdown = client.ShutdownAsync(Wait);
        Assert.True(await client.WaitForStateAsync(BrokerLifecycleState.ControlledShutdown, Wait), $"no controlled shutdown: {client.State}");
        Assert.True(fx.Image.GetBroker(2)!.InControlledShutdown);
        Assert.False(fx.Image.GetBroker(2)!.Fenced);
        Assert.False(shutdown.IsCompleted);

        Volatile.Write(ref leads, false); // leadership moved away
        Assert.True(await shutdown.WaitAsync(Wait));
        Assert.Equal(BrokerLifecycleState.ShouldShutDown, client.State);
        Assert.True(fx.Image.GetBroker(2)!.Fenced);
        Assert.True(fx.Manager.GetSession(2)!.Value.ShutdownApproved);
    }

    [Fact]
    public async Task Shutdown_is_bounded_when_the_controller_never_agrees()
    {
        await using var fx = await LifecycleFixture.StartAsync(leadsPartitions: _ => true);
        string controller = fx.StartListener();
        await using var client = new BrokerLifecycleClient(fx.ClientOptions(2, controller), () => fx.Image.LastAppliedOffset);
        client.Start();
        Assert.True(await client.WaitForStateAsync(BrokerLifecycleState.Active, Wait));

        var started = Environment.TickCount64;
        Assert.False(await client.ShutdownAsync(TimeSpan.FromMilliseconds(300)));
        Assert.InRange(Environment.TickCount64 - started, 250, 3000);
        Assert.Equal(BrokerLifecycleState.Stopped, client.State);
        Assert.Equal(BrokerSessionState.ControlledShutdown, fx.Manager.GetSession(2)!.Value.State);
    }

    [Fact]
    public async Task Skips_dead_endpoints_and_non_controllers_to_find_the_active_controller()
    {
        await using var fx = await LifecycleFixture.StartAsync();
        var inactive = new InactiveController();
        string notController = fx.StartListener(LifecycleFixture.Serve(inactive));
        string active = fx.StartListener();
        string dead = LifecycleFixture.DeadEndpoint();
        await using var client = new BrokerLifecycleClient(fx.ClientOptions(2, dead, notController, active), () => fx.Image.LastAppliedOffset);
        client.Start();

        Assert.True(await client.WaitForStateAsync(BrokerLifecycleState.Active, Wait), $"not active: {client.State} {client.LastError}");
        Assert.Equal(active, client.ControllerEndpoint);
        Assert.Equal(0, inactive.Calls); // NOT_CONTROLLER came from the handler, without touching the controller
        Assert.False(fx.Image.GetBroker(2)!.Fenced);
    }

    [Fact]
    public async Task Wrong_cluster_id_keeps_retrying_without_registering_and_stops_promptly()
    {
        await using var fx = await LifecycleFixture.StartAsync();
        string controller = fx.StartListener();
        var options = fx.ClientOptions(2, controller) with { ClusterId = "some-other-cluster" };
        await using var client = new BrokerLifecycleClient(options, () => 0);
        client.Start();

        await WaitUntil(() => client.LastError == ErrorCode.InconsistentClusterId, "INCONSISTENT_CLUSTER_ID");
        Assert.Equal(BrokerLifecycleState.NotRegistered, client.State);
        Assert.Null(fx.Image.GetBroker(2));
        var started = Environment.TickCount64;
        Assert.False(await client.ShutdownAsync(Wait));
        Assert.True(Environment.TickCount64 - started < 2000, "shutting down an unregistered client must not wait for the controller");
    }

    [Fact]
    public void Options_are_validated()
    {
        var good = new BrokerLifecycleOptions
        {
            BrokerId = 2, ClusterId = "c", ControllerEndpoints = ["localhost:9093", "[::1]:9093"],
            Listeners = [new Metadata.Image.BrokerEndpoint("PLAINTEXT", "h", 9092, 0)],
        };
        good.Validate();
        Assert.Throws<ArgumentException>(() => (good with { ControllerEndpoints = ["localhost"] }).Validate());
        Assert.Throws<ArgumentException>(() => (good with { ControllerEndpoints = ["localhost:0"] }).Validate());
        Assert.Throws<ArgumentException>(() => (good with { ControllerEndpoints = [] }).Validate());
        Assert.Throws<ArgumentException>(() => (good with { ClusterId = "" }).Validate());
        Assert.Throws<ArgumentException>(() => (good with { HeartbeatInterval = TimeSpan.Zero }).Validate());
        Assert.True(BrokerLifecycleOptions.TryParseEndpoint("[::1]:9093", out var host, out var port));
        Assert.Equal(("::1", 9093), (host, port));
    }

    private static async Task WaitUntil(Func<bool> condition, string what)
    {
        long deadline = Environment.TickCount64 + (long)Wait.TotalMilliseconds;
        while (!condition())
        {
            if (Environment.TickCount64 > deadline) throw new TimeoutException($"timed out waiting for {what}");
            await Task.Delay(10);
        }
    }
}

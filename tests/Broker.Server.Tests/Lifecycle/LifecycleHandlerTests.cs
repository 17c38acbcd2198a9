using Broker.Core.Model;
using Broker.Protocol.Messages;
using Broker.Server.Tests.Harness;
using Xunit;

namespace Broker.Server.Tests.Lifecycle;

/// <summary>BrokerRegistration (62) and BrokerHeartbeat (63) through the dispatcher, over a real metadata node.</summary>
public sealed class LifecycleHandlerTests
{
    private static BrokerRegistrationRequest Registration(string clusterId, int brokerId, Guid incarnation, short maxMetadataVersion = 19) => new()
    {
        BrokerId = brokerId,
        ClusterId = clusterId,
        IncarnationId = incarnation,
        Listeners = [new BrokerRegistrationRequest.Listener { Name = "PLAINTEXT", Host = "b2.example", Port = 29092, SecurityProtocol = 0 }],
        Features = [new BrokerRegistrationRequest.Feature { Name = "metadata.version", MinSupportedVersion = 1, MaxSupportedVersion = maxMetadataVersion }],
        Rack = "r2",
        LogDirs = [Guid.NewGuid()],
        PreviousBrokerEpoch = -1,
    };

    private static Task<BrokerRegistrationResponse> RegisterAsync(HandlerHarness harness, short version, BrokerRegistrationRequest request) =>
        harness.CallAsync((short)ApiKey.BrokerRegistration, version, request, BrokerRegistrationResponse.Read);

    private static Task<BrokerHeartbeatResponse> HeartbeatAsync(HandlerHarness harness, short version, BrokerHeartbeatRequest request) =>
        harness.CallAsync((short)ApiKey.BrokerHeartbeat, version, request, BrokerHeartbeatResponse.Read);

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task Registration_at_every_version_registers_a_fenced_broker(short version)
    {
        await using var fx = await LifecycleFixture.StartAsync();
        var response = await RegisterAsync(fx.Harness, version, Registration(fx.ClusterId, 2, Guid.NewGuid()));

        Assert.Equal(0, response.ErrorCode);
        var broker = fx.Image.GetBroker(2)!;
        Assert.Equal(broker.BrokerEpoch, response.BrokerEpoch);
        Assert.True(broker.Fenced);
        Assert.Equal("r2", broker.Rack);
        Assert.Equal(29092, broker.FindEndpoint("PLAINTEXT")!.Port);
        Assert.Equal("b2.example", broker.FindEndpoint("PLAINTEXT")!.Host);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public async Task Heartbeats_unfence_a_caught_up_broker_and_report_its_state(short version)
    {
        await using var fx = await LifecycleFixture.StartAsync();
        long epoch = (await RegisterAsync(fx.Harness, 3, Registration(fx.ClusterId, 2, Guid.NewGuid()))).BrokerEpoch;

        var behind = await HeartbeatAsync(fx.Harness, version, new BrokerHeartbeatRequest { BrokerId = 2, BrokerEpoch = epoch, CurrentMetadataOffset = epoch - 1, OfflineLogDirs = [Guid.NewGuid()] });
        Assert.Equal(0, behind.ErrorCode);
        Assert.False(behind.IsCaughtUp);
        Assert.True(behind.IsFenced);
        Assert.False(behind.ShouldShutDown);

        var caughtUp = await HeartbeatAsync(fx.Harness, version, new BrokerHeartbeatRequest { BrokerId = 2, BrokerEpoch = epoch, CurrentMetadataOffset = epoch });
        Assert.Equal(0, caughtUp.ErrorCode);
        Assert.True(caughtUp.IsCaughtUp);
        Assert.False(caughtUp.IsFenced);
        Assert.False(fx.Image.GetBroker(2)!.Fenced);

        var shutdown = await HeartbeatAsync(fx.Harness, version, new BrokerHeartbeatRequest { BrokerId = 2, BrokerEpoch = epoch, CurrentMetadataOffset = epoch, WantShutDown = true });
        Assert.True(shutdown.ShouldShutDown);
        Assert.True(shutdown.IsFenced);
        Assert.True(fx.Image.GetBroker(2)!.InControlledShutdown);
    }

    [Fact]
    public async Task Registration_errors_reach_the_wire()
    {
        await using var fx = await LifecycleFixture.StartAsync();

        var wrongCluster = await RegisterAsync(fx.Harness, 3, Registration("not-" + fx.ClusterId, 2, Guid.NewGuid()));
        Assert.Equal((short)ErrorCode.InconsistentClusterId, wrongCluster.ErrorCode);
        Assert.Equal(-1, wrongCluster.BrokerEpoch);

        var oldBroker = await RegisterAsync(fx.Harness, 3, Registration(fx.ClusterId, 2, Guid.NewGuid(), maxMetadataVersion: 7));
        Assert.Equal((short)ErrorCode.UnsupportedVersion, oldBroker.ErrorCode);

        var noListeners = Registration(fx.ClusterId, 2, Guid.NewGuid());
        noListeners.Listeners.Clear();
        Assert.Equal((short)ErrorCode.InvalidRequest, (await RegisterAsync(fx.Harness, 3, noListeners)).ErrorCode);

        var incarnation = Guid.NewGuid();
        var first = await RegisterAsync(fx.Harness, 3, Registration(fx.ClusterId, 2, incarnation));
        Assert.Equal(0, first.ErrorCode);
        var duplicate = await RegisterAsync(fx.Harness, 3, Registration(fx.ClusterId, 2, Guid.NewGuid()));
        Assert.Equal((short)ErrorCode.DuplicateBrokerRegistration, duplicate.ErrorCode);
        Assert.Equal(-1, duplicate.BrokerEpoch);
        Assert.Equal(incarnation, fx.Image.GetBroker(2)!.IncarnationId);
    }

    [Fact]
    public async Task Heartbeat_errors_reach_the_wire()
    {
        await using var fx = await LifecycleFixture.StartAsync();
        long epoch = (await RegisterAsync(fx.Harness, 3, Registration(fx.ClusterId, 2, Guid.NewGuid()))).BrokerEpoch;

        var unknown = await HeartbeatAsync(fx.Harness, 1, new BrokerHeartbeatRequest { BrokerId = 9, BrokerEpoch = epoch, CurrentMetadataOffset = epoch });
        Assert.Equal((short)ErrorCode.BrokerIdNotRegistered, unknown.ErrorCode);
        Assert.True(unknown.IsFenced);
        Assert.False(unknown.IsCaughtUp);

        var stale = await HeartbeatAsync(fx.Harness, 1, new BrokerHeartbeatRequest { BrokerId = 2, BrokerEpoch = epoch - 1, CurrentMetadataOffset = epoch });
        Assert.Equal((short)ErrorCode.StaleBrokerEpoch, stale.ErrorCode);
    }

    [Fact]
    public async Task A_node_that_is_not_the_active_controller_answers_not_controller()
    {
        var inactive = new InactiveController();
        var harness = new HandlerHarness(LifecycleFixture.Serve(inactive));

        var registration = await RegisterAsync(harness, 3, Registration("c", 2, Guid.NewGuid()));
        Assert.Equal((short)ErrorCode.NotController, registration.ErrorCode);
        Assert.Equal(-1, registration.BrokerEpoch);
        var heartbeat = await HeartbeatAsync(harness, 1, new BrokerHeartbeatRequest { BrokerId = 2, BrokerEpoch = 5, CurrentMetadataOffset = 5 });
        Assert.Equal((short)ErrorCode.NotController, heartbeat.ErrorCode);
        Assert.Equal(0, inactive.Calls);
    }

    [Fact]
    public async Task ApiVersions_on_the_controller_listener_advertises_both_apis()
    {
        var harness = new HandlerHarness(LifecycleFixture.Serve(new InactiveController()));
        var response = await harness.CallAsync((short)ApiKey.ApiVersions, 3, new ApiVersionsRequest { ClientSoftwareName = "t", ClientSoftwareVersion = "1" }, ApiVersionsResponse.Read);
        var registration = Assert.Single(response.ApiKeys, k => k.ApiKey == (short)ApiKey.BrokerRegistration);
        Assert.Equal((0, 3), (registration.MinVersion, registration.MaxVersion));
        var heartbeat = Assert.Single(response.ApiKeys, k => k.ApiKey == (short)ApiKey.BrokerHeartbeat);
        Assert.Equal((0, 1), (heartbeat.MinVersion, heartbeat.MaxVersion));
    }
}

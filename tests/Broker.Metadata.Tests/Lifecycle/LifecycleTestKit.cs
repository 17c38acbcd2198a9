using Broker.Core.Diagnostics;
using Broker.Metadata.Controller;
using Broker.Metadata.Image;
using Broker.Metadata.Lifecycle;

namespace Broker.Metadata.Tests.Lifecycle;

/// <summary>A clock tests move by hand; both readings advance together.</summary>
internal sealed class FakeClock(long startMs = 1_000_000) : IClock
{
    private long _now = startMs;
    public long UnixTimeMilliseconds => Interlocked.Read(ref _now);
    public long MonotonicMilliseconds => Interlocked.Read(ref _now);
    public void Advance(long ms) => Interlocked.Add(ref _now, ms);
}

internal static class LifecycleTestKit
{
    public const long SessionTimeoutMs = 9000;
    public const short MetadataVersion = 19;

    public static BrokerRegistrationSpec Spec(int brokerId, Guid incarnation, string clusterId = "test-cluster",
        short minVersion = 1, short maxVersion = MetadataVersion) =>
        new(brokerId, clusterId, incarnation,
            [new BrokerEndpoint("PLAINTEXT", "localhost", 9090 + brokerId, 0)],
            [new BrokerFeatureRange("metadata.version", minVersion, maxVersion)]);

    public static BrokerHeartbeatManager Manager(ControllerFixture fixture, FakeClock clock, Func<int, bool>? leadsPartitions = null) =>
        new(fixture.Controller, clock, TimeSpan.FromMilliseconds(SessionTimeoutMs), leadsPartitions);
}

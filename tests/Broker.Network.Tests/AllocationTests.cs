using Broker.Core.Buffers;
using Xunit;

namespace Broker.Network.Tests;

/// <summary>Runs alone: allocation counters are process-wide.</summary>
[CollectionDefinition(nameof(SerialCollection), DisableParallelization = true)]
public sealed class SerialCollection;

/// <summary>An allocation budget for the transport's per-request path (the handler allocates nothing here).</summary>
[Collection(nameof(SerialCollection))]
public sealed class AllocationTests
{
    [Fact]
    public async Task Pipelined_requests_cost_the_transport_almost_no_allocations()
    {
        var handler = new TestHandler((_, _) => new ValueTask<ChunkedBufferWriter?>((ChunkedBufferWriter?)null));
        await using var listener = Kit.Start(handler, Kit.Options());
        using var client = await TestClient.ConnectAsync(listener.BoundEndPoint!);
        var burst = new List<byte>();
        for (int i = 0; i < 100; i++) burst.AddRange(TestClient.Frame(Kit.Pattern(200, i)));
        byte[] bytes = burst.ToArray();

        for (int i = 0; i < 100; i++) await client.SendRawAsync(bytes); // warm up pools and code paths
        await Kit.WaitUntil(() => handler.Calls == 10_000, "warm-up requests handled");

        long before = GC.GetTotalAllocatedBytes(precise: true);
        for (int i = 0; i < 500; i++) await client.SendRawAsync(bytes);
        await Kit.WaitUntil(() => handler.Calls == 60_000, "measured requests handled");
        long perRequest = (GC.GetTotalAllocatedBytes(precise: true) - before) / 50_000;

        // Measured ~1 byte/request; a work-item or state-machine allocation per request would be 64+.
        Assert.True(perRequest < 32, $"{perRequest} bytes allocated per request");
    }
}

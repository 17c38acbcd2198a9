using System.Collections.Concurrent;
using System.Diagnostics;
using Broker.Core.Model;
using Broker.Metadata.Controller;
using Broker.Server.Producers;
using Xunit;

namespace Broker.Server.Tests.Producers;

public class ProducerIdManagerTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(5);

    private static ProducerIdManager Manager(FakeAllocator allocator, Func<long>? epoch = null, int maxAttempts = 4) =>
        new(allocator, () => 2, epoch ?? (() => 7), maxAttempts, retryBackoff: TimeSpan.FromMilliseconds(5),
            maxRetryBackoff: TimeSpan.FromMilliseconds(20));

    private static async Task<long> NextAsync(ProducerIdManager manager)
    {
        var result = await manager.NextProducerIdAsync(Wait);
        Assert.Equal(ErrorCode.None, result.Error);
        return result.ProducerId;
    }

    private static async Task EventuallyAsync(Func<bool> condition, string what)
    {
        var sw = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(sw.Elapsed < Wait, $"timed out waiting until {what}");
            await Task.Delay(5);
        }
    }

    [Fact]
    public async Task Ids_come_from_the_controller_blocks_in_order_each_once()
    {
        var allocator = new FakeAllocator(blockSize: 10);
        await using var manager = Manager(allocator);
        var ids = new List<long>();
        for (int i = 0; i < 25; i++) ids.Add(await NextAsync(manager));

        Assert.Equal(Enumerable.Range(0, 25).Select(i => (long)i), ids);
        Assert.Equal(3, manager.BlocksFetched);
        Assert.All(allocator.Requests, r => Assert.Equal((2, 7L), r));
    }

    [Fact]
    public async Task The_next_block_is_fetched_once_90_percent_of_the_current_one_is_used()
    {
        var allocator = new FakeAllocator(blockSize: 10);
        await using var manager = Manager(allocator);
        for (int i = 0; i < 8; i++) await NextAsync(manager);
        await Task.Delay(50);
        Assert.Equal(1, allocator.Calls); // 8 of 10 used: no prefetch yet

        Assert.Equal(8, await NextAsync(manager)); // the 9th id: 90% used
        await EventuallyAsync(() => manager.BlocksFetched == 2, "the next block was prefetched");
        Assert.Equal(1 + 10, manager.Available);

        // The rest of the block and the start of the next one are at hand without waiting.
        Assert.True(manager.TryNextProducerId(out long ninth));
        Assert.True(manager.TryNextProducerId(out long tenth));
        Assert.Equal((9L, 10L), (ninth, tenth));
        Assert.Equal(2, allocator.Calls);
    }

    [Fact]
    public async Task Concurrent_callers_get_distinct_ids_and_no_block_is_wasted()
    {
        var allocator = new FakeAllocator(blockSize: 50) { Delay = TimeSpan.FromMilliseconds(2) };
        await using var manager = Manager(allocator);
        var ids = new ConcurrentBag<long>();
        var workers = Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
        {
            for (int i = 0; i < 300; i++)
                ids.Add(manager.TryNextProducerId(out long id) ? id : await NextAsync(manager));
        })).ToArray();
        await Task.WhenAll(workers).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(2400, ids.Count);
        Assert.Equal(2400, ids.Distinct().Count());
        // Blocks are used up in order, so the ids handed out are exactly 0..2399 (at most one block prefetched).
        Assert.Equal(2399, ids.Max());
        Assert.InRange(allocator.Calls, 48, 49);
    }

    [Fact]
    public async Task Controller_errors_are_retried_within_a_fetch_round()
    {
        var allocator = new FakeAllocator(blockSize: 10)
        {
            Script = call => call switch
            {
                1 => FakeAllocator.Error(ErrorCode.NotController),
                2 => throw new InvalidOperationException("connection reset"),
                3 => FakeAllocator.Error(ErrorCode.RequestTimedOut),
                _ => null,
            },
        };
        await using var manager = Manager(allocator);
        Assert.Equal(0, await NextAsync(manager));
        Assert.Equal(4, allocator.Calls);
    }

    [Fact]
    public async Task A_failed_round_answers_coordinator_load_in_progress_and_the_next_request_starts_a_new_round()
    {
        bool failing = true;
        var allocator = new FakeAllocator(blockSize: 10) { Script = _ => failing ? FakeAllocator.Error(ErrorCode.StaleBrokerEpoch) : null };
        await using var manager = Manager(allocator, maxAttempts: 3);

        var sw = Stopwatch.StartNew();
        var result = await manager.NextProducerIdAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(ErrorCode.CoordinatorLoadInProgress, result.Error);
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(5), $"a failed round answered only after {sw.Elapsed}");
        Assert.Equal(3, allocator.Calls); // bounded: maxAttempts calls, then the round ends

        failing = false;
        Assert.Equal(0, await NextAsync(manager));
        Assert.Equal(4, allocator.Calls);
    }

    [Fact]
    public async Task An_unregistered_broker_asks_the_controller_nothing()
    {
        long epoch = -1;
        var allocator = new FakeAllocator(blockSize: 10);
        await using var manager = Manager(allocator, epoch: () => Interlocked.Read(ref epoch));
        Assert.Equal(ErrorCode.CoordinatorLoadInProgress, (await manager.NextProducerIdAsync(Wait)).Error);
        Assert.Equal(0, allocator.Calls);

        Interlocked.Exchange(ref epoch, 42);
        Assert.Equal(0, await NextAsync(manager));
        Assert.Equal((2, 42L), Assert.Single(allocator.Requests));
    }

    [Fact]
    public async Task The_wait_for_a_block_is_bounded()
    {
        var allocator = new FakeAllocator(blockSize: 10);
        allocator.Hold();
        await using var manager = Manager(allocator);
        var sw = Stopwatch.StartNew();
        var result = await manager.NextProducerIdAsync(TimeSpan.FromMilliseconds(200));
        Assert.Equal(ErrorCode.CoordinatorLoadInProgress, result.Error);
        Assert.InRange(sw.Elapsed, TimeSpan.FromMilliseconds(150), TimeSpan.FromSeconds(3));
        Assert.False(manager.TryNextProducerId(out _));
        Assert.Equal(1, allocator.Calls); // the held fetch is still the one in flight

        allocator.Release();
        Assert.Equal(0, await NextAsync(manager));
        Assert.Equal(1, allocator.Calls);
    }

    [Fact]
    public async Task A_block_overlapping_ids_already_received_is_refused()
    {
        var allocator = new FakeAllocator(blockSize: 10)
        {
            Script = call => call switch
            {
                1 => new ProducerIdBlock(ErrorCode.None, 100, 10),
                2 => new ProducerIdBlock(ErrorCode.None, 105, 10), // overlaps [100, 110)
                3 => new ProducerIdBlock(ErrorCode.None, 50, 10),  // below it
                4 => new ProducerIdBlock(ErrorCode.None, 0, 0),    // empty
                _ => new ProducerIdBlock(ErrorCode.None, 110, 10),
            },
        };
        await using var manager = Manager(allocator, maxAttempts: 8);
        var ids = new List<long>();
        for (int i = 0; i < 15; i++) ids.Add(await NextAsync(manager));
        Assert.Equal(Enumerable.Range(100, 15).Select(i => (long)i), ids);
        Assert.Equal(2, manager.BlocksFetched);
        Assert.Equal(5, allocator.Calls);
    }

    [Fact]
    public async Task Dispose_stops_a_fetch_in_flight_and_later_requests_get_no_id()
    {
        var allocator = new FakeAllocator(blockSize: 10);
        allocator.Hold();
        var manager = Manager(allocator);
        Assert.False(manager.TryNextProducerId(out _));
        await EventuallyAsync(() => allocator.Calls == 1, "the fetch started");

        await manager.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(ErrorCode.CoordinatorLoadInProgress, (await manager.NextProducerIdAsync(TimeSpan.FromSeconds(1))).Error);
        Assert.Equal(1, allocator.Calls);
    }

    [Fact]
    public async Task The_stopping_token_ends_fetching()
    {
        using var stopping = new CancellationTokenSource();
        var allocator = new FakeAllocator(blockSize: 10) { Script = _ => FakeAllocator.Error(ErrorCode.NotController) };
        await using var manager = new ProducerIdManager(allocator, () => 2, () => 7, maxAttempts: 1000,
            retryBackoff: TimeSpan.FromMilliseconds(20), maxRetryBackoff: TimeSpan.FromMilliseconds(20), stopping: stopping.Token);
        var pending = manager.NextProducerIdAsync(TimeSpan.FromSeconds(30)).AsTask();
        await EventuallyAsync(() => allocator.Calls >= 2, "the round retried");
        stopping.Cancel();
        var result = await pending.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(ErrorCode.CoordinatorLoadInProgress, result.Error);
        int calls = allocator.Calls;
        await Task.Delay(100);
        Assert.Equal(calls, allocator.Calls);
    }
}

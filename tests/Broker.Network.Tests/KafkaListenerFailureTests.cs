using System.Diagnostics;
using System.Net.Sockets;
using Broker.Core.Buffers;
using Xunit;

namespace Broker.Network.Tests;

/// <summary>Bad input, failing handlers, shutdown and backpressure: one connection fails, the listener lives on.</summary>
public sealed class KafkaListenerFailureTests
{
    [Fact]
    public async Task Oversized_size_prefix_closes_only_that_connection_with_a_warning()
    {
        var pool = new CountingPool();
        var handler = TestHandler.Echo();
        await using var listener = Kit.Start(handler, Kit.Options(pool) with { MaxRequestBytes = 1024 });
        using var bad = await TestClient.ConnectAsync(listener.BoundEndPoint!);
        using var good = await TestClient.ConnectAsync(listener.BoundEndPoint!);

        await bad.SendRawAsync(Kit.Int(1025)); // only the prefix: the transport must not wait for the body
        Assert.True(await bad.WaitForCloseAsync(), "oversized frame must close the connection");
        Assert.True(LogCapture.Contains("WARN", bad.LocalText, "1025", "socket.request.max.bytes"), LogCapture.Dump());
        Assert.Equal(0, handler.Calls);

        byte[] max = Kit.Pattern(1024, 1); // exactly the limit is allowed
        await good.SendFrameAsync(max);
        Assert.Equal(max, await good.ExpectFrameAsync());

        await Kit.WaitUntil(() => listener.ConnectionCount == 1, "bad connection removed");
        Assert.Equal(1, handler.TotalClosed);
        good.Dispose();
        await Kit.WaitUntil(() => listener.ConnectionCount == 0, "good connection removed");
        Assert.Equal(0, pool.Outstanding);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(int.MinValue)]
    public async Task Negative_size_prefix_closes_the_connection(int size)
    {
        var handler = TestHandler.Echo();
        await using var listener = Kit.Start(handler, Kit.Options());
        using (var bad = await TestClient.ConnectAsync(listener.BoundEndPoint!))
        {
            await bad.SendRawAsync([.. Kit.Int(size), 1, 2, 3, 4]);
            Assert.True(await bad.WaitForCloseAsync());
            Assert.True(LogCapture.Contains("WARN", bad.LocalText, size.ToString()), LogCapture.Dump());
        }
        using var next = await TestClient.ConnectAsync(listener.BoundEndPoint!);
        await next.SendFrameAsync("ok"u8);
        Assert.Equal("ok"u8.ToArray(), await next.ExpectFrameAsync());
        Assert.Equal(1, handler.Calls);
    }

    [Fact]
    public async Task Garbage_then_disconnect_cleans_up_without_calling_the_handler()
    {
        var pool = new CountingPool();
        var handler = TestHandler.Echo();
        await using var listener = Kit.Start(handler, Kit.Options(pool));

        using (var a = await TestClient.ConnectAsync(listener.BoundEndPoint!)) await a.SendRawAsync([0x00, 0x17]);
        using (var b = await TestClient.ConnectAsync(listener.BoundEndPoint!))
            await b.SendRawAsync([.. Kit.Int(100), .. Kit.Pattern(10, 3)]); // truncated body
        using (var c = await TestClient.ConnectAsync(listener.BoundEndPoint!))
            await c.SendRawAsync([.. Kit.Int(50_000), .. Kit.Pattern(20_000, 4)]); // truncated large body

        await Kit.WaitUntil(() => handler.TotalClosed == 3 && listener.ConnectionCount == 0, "three closes");
        Assert.Equal(0, handler.Calls);
        Assert.Equal(0, pool.Outstanding);
        Assert.Equal(0, pool.BadReturns);

        using var d = await TestClient.ConnectAsync(listener.BoundEndPoint!);
        await d.SendFrameAsync("still alive"u8);
        Assert.Equal("still alive"u8.ToArray(), await d.ExpectFrameAsync());
    }

    [Fact]
    public async Task Handler_exceptions_close_that_connection_and_the_listener_lives_on()
    {
        var pool = new CountingPool();
        var handler = new TestHandler((_, frame) => frame.Span[0] switch
        {
            1 => throw new ProtocolViolationException("bad api key 777"),
            2 => ThrowLater(new InvalidOperationException("boom in handler")),
            3 => ThrowLater(new ProtocolViolationException("late violation")),
            _ => new ValueTask<ChunkedBufferWriter?>(TestHandler.Respond(frame.Span)),
        });
        await using var listener = Kit.Start(handler, Kit.Options(pool));
        using var bystander = await TestClient.ConnectAsync(listener.BoundEndPoint!);

        foreach (byte kind in new byte[] { 1, 2, 3 })
        {
            using var client = await TestClient.ConnectAsync(listener.BoundEndPoint!);
            await client.SendFrameAsync([0, 9]);
            Assert.Equal(new byte[] { 0, 9 }, await client.ExpectFrameAsync());
            await client.SendFrameAsync([kind]);
            Assert.True(await client.WaitForCloseAsync(), $"kind {kind} must close the connection");
            string expected = kind switch { 1 => "bad api key 777", 2 => "boom in handler", _ => "late violation" };
            string level = kind == 2 ? "ERROR" : "WARN";
            await Kit.WaitUntil(() => LogCapture.Contains(level, client.LocalText, expected), $"log line for {kind}");
        }

        await bystander.SendFrameAsync([0, 1, 2]);
        Assert.Equal(new byte[] { 0, 1, 2 }, await bystander.ExpectFrameAsync());
        await Kit.WaitUntil(() => handler.TotalClosed == 3, "three handler-failed connections closed");
        foreach (var kv in handler.ClosedCounts)
        {
            Assert.Equal(1, kv.Value);
            Assert.True(handler.Contexts[kv.Key].Closed.IsCancellationRequested);
        }
        bystander.Dispose();
        await Kit.WaitUntil(() => listener.ConnectionCount == 0, "all closed");
        Assert.Equal(0, pool.Outstanding);

        static async ValueTask<ChunkedBufferWriter?> ThrowLater(Exception ex)
        {
            await Task.Yield();
            throw ex;
        }
    }

    [Fact]
    public async Task Peer_disconnect_cancels_Closed_and_waits_for_pending_tasks_before_OnConnectionClosed()
    {
        var pool = new CountingPool();
        int completed = 0;
        int completedAtClose = -1;
        var handler = new TestHandler((ctx, _) => LongPoll(ctx));
        handler.OnClosed = _ => completedAtClose = Volatile.Read(ref completed);
        await using var listener = Kit.Start(handler, Kit.Options(pool));

        using (var client = await TestClient.ConnectAsync(listener.BoundEndPoint!))
        {
            await client.SendRawAsync([.. TestClient.Frame("a"u8), .. TestClient.Frame("b"u8)]);
            await Kit.WaitUntil(() => handler.Calls == 2, "both requests dispatched");
        }
        await Kit.WaitUntil(() => handler.TotalClosed == 1, "OnConnectionClosed");
        Assert.Equal(2, completedAtClose);
        await Kit.WaitUntil(() => listener.ConnectionCount == 0, "connection removed");
        Assert.Equal(0, pool.Outstanding);
        Assert.Equal(0, pool.BadReturns);

        async ValueTask<ChunkedBufferWriter?> LongPoll(ConnectionContext ctx)
        {
            try
            {
                await Task.Delay(Timeout.Infinite, ctx.Closed);
                return null;
            }
            finally
            {
                Interlocked.Increment(ref completed);
            }
        }
    }

    [Fact]
    public async Task StopAsync_closes_idle_connections_promptly_and_stops_accepting()
    {
        var handler = TestHandler.Echo();
        var listener = Kit.Start(handler, Kit.Options());
        var clients = new List<TestClient>();
        for (int i = 0; i < 10; i++)
        {
            var c = await TestClient.ConnectAsync(listener.BoundEndPoint!);
            await c.SendFrameAsync(Kit.Int(i));
            Assert.Equal(i, Kit.ReadInt(await c.ExpectFrameAsync()));
            clients.Add(c);
        }
        Assert.Equal(10, listener.ConnectionCount);

        var sw = Stopwatch.StartNew();
        await listener.StopAsync().WaitAsync(TimeSpan.FromSeconds(5));
        Assert.True(sw.ElapsedMilliseconds < 2000, $"stop took {sw.ElapsedMilliseconds} ms");
        Assert.Equal(0, listener.ConnectionCount);
        Assert.Equal(10, handler.TotalClosed);
        foreach (var c in clients)
        {
            Assert.True(await c.WaitForCloseAsync(2000));
            c.Dispose();
        }
        await Assert.ThrowsAnyAsync<SocketException>(() => TestClient.ConnectAsync(listener.BoundEndPoint!));
        await listener.StopAsync(); // idempotent
        await listener.DisposeAsync();
    }

    [Fact]
    public async Task Backpressure_stops_dispatching_at_the_in_flight_limit_and_resumes_in_order()
    {
        var pending = new List<(int Seq, TaskCompletionSource<ChunkedBufferWriter?> Tcs)>();
        bool autoComplete = false;
        var handler = new TestHandler((_, frame) =>
        {
            int seq = Kit.ReadInt(frame.Span);
            lock (pending)
            {
                if (autoComplete) return new ValueTask<ChunkedBufferWriter?>(TestHandler.Respond(Kit.Int(seq)));
                var tcs = new TaskCompletionSource<ChunkedBufferWriter?>(TaskCreationOptions.RunContinuationsAsynchronously);
                pending.Add((seq, tcs));
                return new ValueTask<ChunkedBufferWriter?>(tcs.Task);
            }
        });
        await using var listener = Kit.Start(handler, Kit.Options() with { MaxInFlightRequestsPerConnection = 3 });
        using var client = await TestClient.ConnectAsync(listener.BoundEndPoint!);

        var burst = new List<byte>();
        for (int i = 0; i < 10; i++) burst.AddRange(TestClient.Frame(Kit.Int(i)));
        await client.SendRawAsync(burst.ToArray());

        await Kit.WaitUntil(() => handler.Calls == 3, "three dispatched");
        await Task.Delay(300);
        Assert.Equal(3, handler.Calls); // the limit holds while nothing completes

        lock (pending)
        {
            autoComplete = true;
            for (int i = pending.Count - 1; i >= 0; i--) // complete in reverse: order must still hold
                pending[i].Tcs.SetResult(TestHandler.Respond(Kit.Int(pending[i].Seq)));
        }
        for (int i = 0; i < 10; i++) Assert.Equal(i, Kit.ReadInt(await client.ExpectFrameAsync()));
        Assert.Equal(10, handler.Calls);
    }
}

using System.Buffers.Binary;
using System.Net;
using Broker.Core.Buffers;
using Xunit;

namespace Broker.Network.Tests;

/// <summary>Happy paths over real loopback sockets: framing, ordering, null responses, zero-copy chunks, fan-in.</summary>
public sealed class KafkaListenerTests
{
    [Fact]
    public async Task Echo_round_trips_frames_of_many_sizes_one_by_one_and_pipelined()
    {
        var pool = new CountingPool();
        var handler = TestHandler.Echo();
        await using var listener = Kit.Start(handler, Kit.Options(pool));
        Assert.NotEqual(0, listener.BoundEndPoint!.Port);

        int[] sizes = [0, 1, 4, 1000, 16_380, 16_384, 16_385, 70_000, 1_000_000];
        using (var client = await TestClient.ConnectAsync(listener.BoundEndPoint))
        {
            foreach (int size in sizes)
            {
                byte[] payload = Kit.Pattern(size, size);
                await client.SendFrameAsync(payload);
                Assert.Equal(payload, await client.ExpectFrameAsync());
            }

            // All at once in one write: frames straddle the read-ahead buffer in every possible way.
            var all = new List<byte>();
            foreach (int size in sizes) all.AddRange(TestClient.Frame(Kit.Pattern(size, size + 1)));
            await client.SendRawAsync(all.ToArray());
            foreach (int size in sizes) Assert.Equal(Kit.Pattern(size, size + 1), await client.ExpectFrameAsync());

            var ctx = Assert.Single(handler.Contexts).Value;
            Assert.Equal("TEST", ctx.ListenerName);
            Assert.Equal(client.LocalText, ctx.RemoteEndPoint!.ToString());
            Assert.Equal(listener.BoundEndPoint, ctx.LocalEndPoint);
            Assert.False(ctx.Closed.IsCancellationRequested);
            Assert.Equal(1, listener.ConnectionCount);
        }

        await Kit.WaitUntil(() => listener.ConnectionCount == 0, "connection removed after client disconnect");
        Assert.True(Assert.Single(handler.Contexts).Value.Closed.IsCancellationRequested);
        Assert.Equal(1, handler.TotalClosed);
        Assert.Equal(0, pool.Outstanding);
        Assert.Equal(0, pool.BadReturns);
    }

    [Fact]
    public async Task Frame_trickled_byte_by_byte_is_assembled()
    {
        await using var listener = Kit.Start(TestHandler.Echo(), Kit.Options());
        using var client = await TestClient.ConnectAsync(listener.BoundEndPoint!);
        byte[] frame = TestClient.Frame(Kit.Pattern(37, 7));
        foreach (byte b in frame)
        {
            await client.SendRawAsync([b]);
            await Task.Delay(2);
        }
        Assert.Equal(Kit.Pattern(37, 7), await client.ExpectFrameAsync());
    }

    [Fact]
    public async Task Pipelined_requests_are_dispatched_in_order_and_answered_in_order_despite_out_of_order_completion()
    {
        var dispatchOrder = new List<int>();
        var handler = new TestHandler((_, frame) =>
        {
            int seq = Kit.ReadInt(frame.Span, 0);
            int delay = Kit.ReadInt(frame.Span, 1);
            lock (dispatchOrder) dispatchOrder.Add(seq); // synchronous part runs in arrival order
            return Later(seq, delay);
        });
        await using var listener = Kit.Start(handler, Kit.Options());
        using var client = await TestClient.ConnectAsync(listener.BoundEndPoint!);

        const int n = 20;
        var burst = new List<byte>();
        for (int i = 0; i < n; i++) burst.AddRange(TestClient.Frame(Kit.Ints(i, (n - i) * 8))); // later = faster
        await client.SendRawAsync(burst.ToArray());

        for (int i = 0; i < n; i++) Assert.Equal(i, Kit.ReadInt(await client.ExpectFrameAsync()));
        lock (dispatchOrder) Assert.Equal(Enumerable.Range(0, n), dispatchOrder);

        static async ValueTask<ChunkedBufferWriter?> Later(int seq, int delay)
        {
            await Task.Delay(delay);
            return TestHandler.Respond(Kit.Int(seq));
        }
    }

    [Fact]
    public async Task Frame_stays_valid_until_the_handler_task_completes()
    {
        var pool = new CountingPool(); // poisons returned buffers
        var handler = new TestHandler((_, frame) => EchoLater(frame));
        await using var listener = Kit.Start(handler, Kit.Options(pool));
        using var client = await TestClient.ConnectAsync(listener.BoundEndPoint!);

        var burst = new List<byte>();
        for (int i = 0; i < 8; i++) burst.AddRange(TestClient.Frame(Kit.Pattern(100 + i * 5000, i)));
        await client.SendRawAsync(burst.ToArray());
        for (int i = 0; i < 8; i++) Assert.Equal(Kit.Pattern(100 + i * 5000, i), await client.ExpectFrameAsync());

        static async ValueTask<ChunkedBufferWriter?> EchoLater(ReadOnlyMemory<byte> frame)
        {
            await Task.Delay(30); // later frames arrive and are dispatched meanwhile
            return TestHandler.Respond(frame.Span);
        }
    }

    [Fact]
    public async Task Null_responses_send_nothing_but_keep_order()
    {
        var handler = new TestHandler((_, frame) => Maybe(Kit.ReadInt(frame.Span)));
        await using var listener = Kit.Start(handler, Kit.Options());
        using var client = await TestClient.ConnectAsync(listener.BoundEndPoint!);

        var burst = new List<byte>();
        for (int i = 0; i < 12; i++) burst.AddRange(TestClient.Frame(Kit.Int(i)));
        await client.SendRawAsync(burst.ToArray());

        foreach (int expected in new[] { 0, 2, 3, 5, 6, 8, 9, 11 })
            Assert.Equal(expected, Kit.ReadInt(await client.ExpectFrameAsync()));

        // The trailing requests were null (10) and answered (11); the connection still works afterwards.
        await client.SendFrameAsync(Kit.Int(99));
        Assert.Equal(99, Kit.ReadInt(await client.ExpectFrameAsync()));
        Assert.Equal(13, handler.Calls);

        static async ValueTask<ChunkedBufferWriter?> Maybe(int seq)
        {
            await Task.Delay(Math.Max(0, 12 - seq) * 5 % 23); // mixed completion order
            return seq % 3 == 1 ? null : TestHandler.Respond(Kit.Int(seq));
        }
    }

    [Fact]
    public async Task External_chunk_is_sent_byte_exact_and_its_lease_is_disposed_only_after_the_send()
    {
        byte[] big = Kit.Pattern(4 * 1024 * 1024, 42);
        var lease = new Lease();
        var handler = new TestHandler((_, frame) =>
        {
            var w = new ChunkedBufferWriter();
            w.Write("head"u8);
            w.WriteExternal(big, lease);
            w.Write("tail"u8);
            return new ValueTask<ChunkedBufferWriter?>(w);
        });
        var options = Kit.Options() with { SocketSendBufferBytes = 64 * 1024 };
        await using var listener = Kit.Start(handler, options);
        using var client = await TestClient.ConnectAsync(listener.BoundEndPoint!, receiveBufferSize: 64 * 1024);

        await client.SendFrameAsync("fetch"u8);
        await Task.Delay(300); // the client does not read: the send is stuck on full socket buffers
        Assert.Equal(0, lease.DisposeCount);

        byte[] payload = await client.ExpectFrameAsync();
        Assert.Equal(4 + big.Length + 4, payload.Length);
        Assert.True(payload.AsSpan(0, 4).SequenceEqual("head"u8));
        Assert.True(payload.AsSpan(4, big.Length).SequenceEqual(big));
        Assert.True(payload.AsSpan(4 + big.Length).SequenceEqual("tail"u8));
        await Kit.WaitUntil(() => lease.DisposeCount > 0, "lease disposed after send");
        Assert.Equal(1, lease.DisposeCount);
    }

    [Fact]
    public async Task Many_concurrent_connections_each_get_their_own_answers()
    {
        var pool = new CountingPool();
        var handler = TestHandler.Echo();
        await using var listener = Kit.Start(handler, Kit.Options(pool));
        const int clients = 40, perClient = 10;

        var clientsList = new List<TestClient>();
        for (int c = 0; c < clients; c++) clientsList.Add(await TestClient.ConnectAsync(listener.BoundEndPoint!));
        await Kit.WaitUntil(() => listener.ConnectionCount == clients, "all connections accepted");

        var tasks = new List<Task>();
        for (int c = 0; c < clients; c++)
        {
            int id = c;
            TestClient client = clientsList[c];
            tasks.Add(Task.Run(async () =>
            {
                var burst = new List<byte>();
                for (int i = 0; i < perClient; i++) burst.AddRange(TestClient.Frame(Payload(id, i)));
                await client.SendRawAsync(burst.ToArray());
                for (int i = 0; i < perClient; i++) Assert.Equal(Payload(id, i), await client.ExpectFrameAsync(10_000));
            }));
        }
        await Task.WhenAll(tasks).WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal(clients * perClient, handler.Calls);
        Assert.Equal(clients, listener.TotalAccepted);

        foreach (var client in clientsList) client.Dispose();
        await Kit.WaitUntil(() => listener.ConnectionCount == 0, "all connections closed");
        Assert.Equal(clients, handler.TotalClosed);
        foreach (var kv in handler.ClosedCounts) Assert.Equal(1, kv.Value);
        Assert.Equal(0, pool.Outstanding);
        Assert.Equal(0, pool.BadReturns);

        static byte[] Payload(int client, int i)
        {
            byte[] p = Kit.Pattern(8 + (client * 997 + i * 131) % 5000, client * 1000 + i);
            BinaryPrimitives.WriteInt32BigEndian(p, client);
            BinaryPrimitives.WriteInt32BigEndian(p.AsSpan(4), i);
            return p;
        }
    }

    [Fact]
    public async Task Port_zero_binds_a_real_port_and_second_listener_on_it_fails()
    {
        await using var listener = Kit.Start(TestHandler.Echo(), Kit.Options());
        IPEndPoint bound = listener.BoundEndPoint!;
        Assert.True(bound.Port > 0);
        var clash = new KafkaListener(Kit.Options() with { EndPoint = bound }, TestHandler.Echo());
        Assert.ThrowsAny<System.Net.Sockets.SocketException>(clash.Start);
        await clash.DisposeAsync();
    }

    [Fact]
    public void Invalid_options_are_rejected_with_a_clear_message()
    {
        var ex = Assert.Throws<ArgumentException>(() =>
            new KafkaListener(Kit.Options() with { MaxRequestBytes = 0 }, TestHandler.Echo()));
        Assert.Contains("socket.request.max.bytes", ex.Message);
        Assert.Throws<ArgumentException>(() =>
            new KafkaListener(Kit.Options() with { MaxInFlightRequestsPerConnection = 0 }, TestHandler.Echo()));
    }

    private sealed class Lease : IDisposable
    {
        private int _count;
        public int DisposeCount => Volatile.Read(ref _count);
        public void Dispose() => Interlocked.Increment(ref _count);
    }
}

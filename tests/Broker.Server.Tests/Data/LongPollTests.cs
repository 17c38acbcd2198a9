using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Broker.Core.Model;
using Broker.Network;
using Broker.Protocol.Messages;
using Broker.Server.Tests.Harness;
using Xunit;

namespace Broker.Server.Tests.Data;

public sealed class LongPollTests : IDisposable
{
    private readonly DataFixture _f = new();

    public void Dispose() => _f.Dispose();

    private ObservedReplica Replica(string topic, int partition = 0) => _f.Replicas[new TopicPartition(topic, partition)];

    [Fact]
    public async Task AProduceWakesTheWaitingFetch()
    {
        _f.CreateTopic("t");
        var clock = Stopwatch.StartNew();
        var fetch = _f.FetchAsync("t", 0, 0, maxWaitMs: 2000, minBytes: 1);
        await Task.Delay(200);
        Assert.False(fetch.IsCompleted);
        Assert.Equal(1, Replica("t").Subscribers);

        await _f.ProduceAsync("t", 0, TestBatches.Build(3), acks: 1);
        var p = await fetch;
        Assert.True(clock.ElapsedMilliseconds < 1500, $"took {clock.ElapsedMilliseconds} ms");
        Assert.Equal((short)ErrorCode.None, p.ErrorCode);
        Assert.Equal(3, p.HighWatermark);
        Assert.Single(TestBatches.Split(p.Records!.Value.Span));
        Assert.Equal(0, Replica("t").Subscribers);
        Assert.Equal(0, _f.Leases.Outstanding);
    }

    [Fact]
    public async Task NothingArrivingTimesOutEmptyAfterMaxWait()
    {
        _f.CreateTopic("t");
        var clock = Stopwatch.StartNew();
        var p = await _f.FetchAsync("t", 0, 0, maxWaitMs: 600, minBytes: 1);
        long elapsed = clock.ElapsedMilliseconds;
        Assert.InRange(elapsed, 550, 2000);
        Assert.Equal((short)ErrorCode.None, p.ErrorCode);
        Assert.Equal(0, p.Records!.Value.Length);
        Assert.Equal(0, Replica("t").Subscribers);
    }

    [Fact]
    public async Task AnyRequestedPartitionWakesTheFetch()
    {
        _f.CreateTopic("t", partitions: 2);
        var request = new FetchRequest
        {
            ReplicaId = -1,
            MaxWaitMs = 3000,
            MinBytes = 1,
            MaxBytes = int.MaxValue,
            SessionEpoch = -1,
            Topics =
            [
                new FetchRequest.FetchTopic
                {
                    Topic = "t",
                    Partitions = [new() { Partition = 0, PartitionMaxBytes = 1 << 20 }, new() { Partition = 1, PartitionMaxBytes = 1 << 20 }],
                },
            ],
        };
        var clock = Stopwatch.StartNew();
        var fetch = _f.Harness.CallAsync(1, 12, request, FetchResponse.Read);
        await Task.Delay(150);
        Assert.False(fetch.IsCompleted);
        await _f.ProduceAsync("t", 1, TestBatches.Build(1), acks: 1);
        var parts = Assert.Single((await fetch).Responses).Partitions;
        Assert.True(clock.ElapsedMilliseconds < 2000, $"took {clock.ElapsedMilliseconds} ms");
        Assert.Equal(0, parts[0].Records!.Value.Length);
        Assert.Single(TestBatches.Split(parts[1].Records!.Value.Span));
        Assert.Equal(0, Replica("t", 0).Subscribers);
        Assert.Equal(0, Replica("t", 1).Subscribers);
    }

    [Fact]
    public async Task BelowMinBytesRereadsOnEachAdvanceAndReleasesEarlierLeases()
    {
        _f.CreateTopic("t");
        await _f.ProduceAsync("t", 0, TestBatches.Build(1, valueSize: 700), acks: 1);
        var clock = Stopwatch.StartNew();
        var fetch = _f.FetchAsync("t", 0, 0, maxWaitMs: 700, minBytes: 100_000);
        await Task.Delay(150);
        Assert.False(fetch.IsCompleted);
        Assert.Equal(1, _f.Leases.Outstanding); // the first read is held while waiting
        await _f.ProduceAsync("t", 0, TestBatches.Build(1, valueSize: 700), acks: 1);
        await Task.Delay(100);
        Assert.Equal(1, _f.Leases.Outstanding); // re-read: the first lease was released, the new one is held
        Assert.False(fetch.IsCompleted);

        var p = await fetch;
        Assert.True(clock.ElapsedMilliseconds >= 650, $"took {clock.ElapsedMilliseconds} ms");
        Assert.Equal(2, TestBatches.Split(p.Records!.Value.Span).Count);
        Assert.Equal(0, _f.Leases.Outstanding);
        Assert.Equal(0, _f.Leases.DoubleReleases);
    }

    [Fact]
    public async Task EnoughDataAlreadyThereAnswersAtOnce()
    {
        _f.CreateTopic("t");
        await _f.ProduceAsync("t", 0, TestBatches.Build(1), acks: 1);
        var clock = Stopwatch.StartNew();
        var p = await _f.FetchAsync("t", 0, 0, maxWaitMs: 5000, minBytes: 1);
        Assert.True(clock.ElapsedMilliseconds < 1000);
        Assert.Single(TestBatches.Split(p.Records!.Value.Span));
        Assert.Equal(0, Replica("t").Subscribers);
    }

    [Fact]
    public async Task ClosingTheConnectionEndsTheLongPoll()
    {
        _f.CreateTopic("t");
        await using var listener = new KafkaListener(
            new KafkaListenerOptions { ListenerName = "PLAINTEXT", EndPoint = new IPEndPoint(IPAddress.Loopback, 0) },
            _f.Dispatcher);
        listener.Start();

        using (var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            await client.ConnectAsync(listener.BoundEndPoint!);
            var body = HandlerHarness.EncodeRequest(1, 12, DataFixture.FetchRequestFor("t", 0, 0, maxWaitMs: 30_000), 1);
            var frame = new byte[4 + body.Length];
            BinaryPrimitives.WriteInt32BigEndian(frame, body.Length);
            body.CopyTo(frame, 4);
            await client.SendAsync(frame);

            Assert.True(await WaitFor(() => Replica("t").Subscribers == 1, 3000), "the fetch never started waiting");
            client.Shutdown(SocketShutdown.Both);
        }

        var clock = Stopwatch.StartNew();
        Assert.True(await WaitFor(() => Replica("t").Subscribers == 0, 5000), "the long poll kept waiting after the close");
        Assert.True(clock.ElapsedMilliseconds < 5000);
        Assert.True(await WaitFor(() => _f.Leases.Outstanding == 0, 2000));
    }

    private static async Task<bool> WaitFor(Func<bool> condition, int timeoutMs)
    {
        var clock = Stopwatch.StartNew();
        while (clock.ElapsedMilliseconds < timeoutMs)
        {
            if (condition()) return true;
            await Task.Delay(20);
        }
        return condition();
    }
}

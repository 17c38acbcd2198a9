using Broker.Core.Model;
using Broker.Core.Records;
using Broker.Protocol.Messages;
using Broker.Server.Tests.Harness;
using Xunit;

namespace Broker.Server.Tests.Data;

public sealed class FetchTests : IDisposable
{
    private readonly DataFixture _f = new();

    public void Dispose() => _f.Dispose();

    /// <summary>Produces <paramref name="count"/> one-record batches of ~<paramref name="valueSize"/> bytes; returns their sizes.</summary>
    private async Task<int[]> ProduceBatches(string topic, int partition, int count, int valueSize)
    {
        var sizes = new int[count];
        for (int i = 0; i < count; i++)
        {
            var batch = TestBatches.Build(1, valueSize: valueSize);
            sizes[i] = batch.Length;
            Assert.Equal((short)ErrorCode.None, (await _f.ProduceAsync(topic, partition, batch, acks: 1)).ErrorCode);
        }
        return sizes;
    }

    [Theory]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(7)]
    [InlineData(9)]
    [InlineData(10)]
    [InlineData(11)]
    [InlineData(12)]
    public async Task EveryVersionDecodesCleanly(short version)
    {
        _f.CreateTopic("t");
        await ProduceBatches("t", 0, 2, 600);
        // The harness asserts there are no unread bytes after the body.
        var p = await _f.FetchAsync("t", 0, 0, version: version);
        Assert.Equal((short)ErrorCode.None, p.ErrorCode);
        Assert.Equal(2, p.HighWatermark);
        Assert.Equal(2, p.LastStableOffset);
        Assert.Equal(version >= 5 ? 0 : -1, p.LogStartOffset);
        Assert.Equal(-1, p.PreferredReadReplica);
        Assert.Equal(2, TestBatches.Split(p.Records!.Value.Span).Count);
        Assert.Equal(0, _f.Leases.Outstanding);
    }

    [Fact]
    public async Task OffsetsOutsideTheLogAreOutOfRange()
    {
        _f.CreateTopic("t");
        await ProduceBatches("t", 0, 2, 10);
        var beyond = await _f.FetchAsync("t", 0, 3);
        Assert.Equal((short)ErrorCode.OffsetOutOfRange, beyond.ErrorCode);
        Assert.Equal(-1, beyond.HighWatermark);
        Assert.Equal(0, beyond.Records!.Value.Length);
        Assert.Equal((short)ErrorCode.OffsetOutOfRange, (await _f.FetchAsync("t", 0, -1)).ErrorCode);

        var atEnd = await _f.FetchAsync("t", 0, 2);
        Assert.Equal((short)ErrorCode.None, atEnd.ErrorCode);
        Assert.Equal(2, atEnd.HighWatermark);
        Assert.Equal(0, atEnd.Records!.Value.Length);
    }

    [Fact]
    public async Task UnknownTopicAndNotLeader()
    {
        _f.CreateTopic("follower", leader: 2, replicas: [2, DataFixture.NodeId]);
        Assert.Equal((short)ErrorCode.UnknownTopicOrPartition, (await _f.FetchAsync("missing", 0, 0)).ErrorCode);
        Assert.Equal((short)ErrorCode.NotLeaderOrFollower, (await _f.FetchAsync("follower", 0, 0)).ErrorCode);
    }

    [Fact]
    public async Task PartitionMaxBytesStillReturnsOneWholeBatch()
    {
        _f.CreateTopic("t");
        var sizes = await ProduceBatches("t", 0, 3, 300);

        var tiny = await _f.FetchAsync("t", 0, 0, partitionMaxBytes: 100);
        Assert.Equal(sizes[0], tiny.Records!.Value.Length); // KIP-74: the first batch is returned whole

        var two = await _f.FetchAsync("t", 0, 0, partitionMaxBytes: sizes[0] + sizes[1] + 10);
        Assert.Equal(2, TestBatches.Split(two.Records!.Value.Span).Count);
        Assert.Equal(sizes[0] + sizes[1], two.Records!.Value.Length);
    }

    [Fact]
    public async Task ResponseMaxBytesIsSharedAndOnlyTheFirstPartitionWithDataMayExceedIt()
    {
        _f.CreateTopic("t", partitions: 3);
        var sizes = await ProduceBatches("t", 1, 3, 300);
        await ProduceBatches("t", 2, 3, 300);

        FetchRequest Request(int maxBytes) => new()
        {
            ReplicaId = -1,
            MaxBytes = maxBytes,
            MinBytes = 1,
            SessionEpoch = -1,
            Topics =
            [
                new FetchRequest.FetchTopic
                {
                    Topic = "t",
                    Partitions =
                    [
                        new FetchRequest.FetchPartition { Partition = 0, FetchOffset = 0, PartitionMaxBytes = 1 << 20 },
                        new FetchRequest.FetchPartition { Partition = 1, FetchOffset = 0, PartitionMaxBytes = 1 << 20 },
                        new FetchRequest.FetchPartition { Partition = 2, FetchOffset = 0, PartitionMaxBytes = 1 << 20 },
                    ],
                },
            ],
        };

        // Partition 0 is empty, so partition 1 is the first with data: it gets one whole batch although it does
        // not fit; partition 2 gets nothing.
        var small = Assert.Single((await _f.Harness.CallAsync(1, 12, Request(100), FetchResponse.Read)).Responses).Partitions;
        Assert.Equal(0, small[0].Records!.Value.Length);
        Assert.Equal(sizes[0], small[1].Records!.Value.Length);
        Assert.Equal(0, small[2].Records!.Value.Length);
        Assert.All(small, p => Assert.Equal((short)ErrorCode.None, p.ErrorCode));

        // Room for two batches and a half: partition 1 takes two, partition 2 none (its batch does not fit).
        int budget = sizes[0] + sizes[1] + sizes[2] / 2;
        var mid = Assert.Single((await _f.Harness.CallAsync(1, 12, Request(budget), FetchResponse.Read)).Responses).Partitions;
        Assert.Equal(sizes[0] + sizes[1], mid[1].Records!.Value.Length);
        Assert.Equal(0, mid[2].Records!.Value.Length);

        var all = Assert.Single((await _f.Harness.CallAsync(1, 12, Request(int.MaxValue), FetchResponse.Read)).Responses).Partitions;
        Assert.Equal(3, TestBatches.Split(all[1].Records!.Value.Span).Count);
        Assert.Equal(3, TestBatches.Split(all[2].Records!.Value.Span).Count);
        Assert.Equal(0, _f.Leases.Outstanding);
    }

    [Fact]
    public async Task BrokerFetchMaxBytesCapsTheResponse()
    {
        using var f = new DataFixture(fetchMaxBytes: 800);
        f.CreateTopic("t");
        for (int i = 0; i < 3; i++) await f.ProduceAsync("t", 0, TestBatches.Build(1, valueSize: 300), acks: 1);
        var p = await f.FetchAsync("t", 0, 0);
        Assert.Equal(2, TestBatches.Split(p.Records!.Value.Span).Count);
    }

    [Fact]
    public async Task IncrementalSessionsAreNotFoundFullFetchesAreServed()
    {
        _f.CreateTopic("t");
        await ProduceBatches("t", 0, 1, 10);

        var incremental = DataFixture.FetchRequestFor("t", 0, 0);
        incremental.SessionId = 42;
        incremental.SessionEpoch = 3;
        var rejected = await _f.Harness.CallAsync(1, 7, incremental, FetchResponse.Read);
        Assert.Equal((short)ErrorCode.FetchSessionIdNotFound, rejected.ErrorCode);
        Assert.Equal(0, rejected.SessionId);
        Assert.Empty(rejected.Responses);

        foreach (var (id, epoch) in new[] { (0, 0), (0, -1), (42, -1), (42, 0) })
        {
            var full = DataFixture.FetchRequestFor("t", 0, 0);
            full.SessionId = id;
            full.SessionEpoch = epoch;
            var response = await _f.Harness.CallAsync(1, 11, full, FetchResponse.Read);
            Assert.Equal(0, response.ErrorCode);
            Assert.Equal(0, response.SessionId);
            Assert.Single(TestBatches.Split(Assert.Single(Assert.Single(response.Responses).Partitions).Records!.Value.Span));
        }
    }

    [Fact]
    public async Task CurrentLeaderEpochIsChecked()
    {
        _f.CreateTopic("t", leaderEpoch: 5);
        Assert.Equal((short)ErrorCode.FencedLeaderEpoch, (await _f.FetchAsync("t", 0, 0, currentLeaderEpoch: 4)).ErrorCode);
        Assert.Equal((short)ErrorCode.UnknownLeaderEpoch, (await _f.FetchAsync("t", 0, 0, currentLeaderEpoch: 6)).ErrorCode);
        Assert.Equal((short)ErrorCode.None, (await _f.FetchAsync("t", 0, 0, currentLeaderEpoch: 5)).ErrorCode);
        Assert.Equal((short)ErrorCode.None, (await _f.FetchAsync("t", 0, 0, currentLeaderEpoch: -1)).ErrorCode);
        // Before v9 the field is not on the wire.
        Assert.Equal((short)ErrorCode.None, (await _f.FetchAsync("t", 0, 0, version: 8, currentLeaderEpoch: 4)).ErrorCode);
    }

    [Fact]
    public async Task RecordsAreReferencedAndTheirLeaseLivesUntilTheResponseIsDisposed()
    {
        _f.CreateTopic("t");
        await ProduceBatches("t", 0, 2, 2000);
        var frame = HandlerHarness.EncodeRequest(1, 12, DataFixture.FetchRequestFor("t", 0, 0), 1);
        var connection = new Broker.Network.ConnectionContext(9, "PLAINTEXT", null, null);
        var response = await _f.Dispatcher.HandleAsync(connection, frame);
        Assert.NotNull(response);
        Assert.Equal(1, _f.Leases.Outstanding);
        // The big batch is an external chunk, not copied into the writer's own buffers.
        Assert.Contains(response!.GetChunks(), c => c.Length >= 2000);
        response.Dispose();
        Assert.Equal(0, _f.Leases.Outstanding);
        Assert.Equal(0, _f.Leases.DoubleReleases);
    }

    [Fact]
    public async Task FetchInTheMiddleOfABatchReturnsTheWholeBatch()
    {
        _f.CreateTopic("t");
        await _f.ProduceAsync("t", 0, TestBatches.Build(5));
        var p = await _f.FetchAsync("t", 0, 3);
        var batch = Assert.Single(TestBatches.Split(p.Records!.Value.Span));
        Assert.Equal(0, TestBatches.Header(batch).BaseOffset);
        Assert.Equal(4, TestBatches.Header(batch).LastOffset);
    }

    [Fact]
    public async Task MultipleTopicsKeepRequestOrder()
    {
        _f.CreateTopic("a");
        _f.CreateTopic("b", partitions: 2);
        await _f.ProduceAsync("b", 1, TestBatches.Build(2));
        var request = new FetchRequest
        {
            ReplicaId = -1,
            MaxBytes = int.MaxValue,
            SessionEpoch = -1,
            Topics =
            [
                new FetchRequest.FetchTopic { Topic = "b", Partitions = [new() { Partition = 1, PartitionMaxBytes = 1000 }, new() { Partition = 0, PartitionMaxBytes = 1000 }] },
                new FetchRequest.FetchTopic { Topic = "zz", Partitions = [new() { Partition = 0, PartitionMaxBytes = 1000 }] },
                new FetchRequest.FetchTopic { Topic = "a", Partitions = [new() { Partition = 0, PartitionMaxBytes = 1000 }] },
            ],
        };
        var response = await _f.Harness.CallAsync(1, 12, request, FetchResponse.Read);
        Assert.Equal(["b", "zz", "a"], response.Responses.Select(t => t.Topic));
        Assert.Equal([1, 0], response.Responses[0].Partitions.Select(p => p.PartitionIndex));
        Assert.Equal(2, response.Responses[0].Partitions[0].HighWatermark);
        Assert.Equal((short)ErrorCode.UnknownTopicOrPartition, response.Responses[1].Partitions[0].ErrorCode);
        Assert.Equal((short)ErrorCode.None, response.Responses[2].Partitions[0].ErrorCode);
    }
}

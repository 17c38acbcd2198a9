using Xunit;
using Broker.Core.Model;
using Broker.Protocol.Messages;

namespace Broker.Server.Tests.Data;

/// <summary>
/// Produce with idempotent batches through the real handler, partition manager and log: duplicates answer with the
/// original base offset and append nothing, sequence gaps and stale epochs get Kafka's error codes with a reason.
/// </summary>
public sealed class ProduceIdempotenceTests : IDisposable
{
    private readonly DataFixture _f = new();

    public void Dispose() => _f.Dispose();

    private static byte[] Batch(int count, short epoch, int baseSequence, long producerId = 1000) =>
        TestBatches.Build(count, baseTimestamp: DataFixture.StartTime, producerId: producerId, producerEpoch: epoch, baseSequence: baseSequence);

    private long EndOffset(string topic)
    {
        Assert.True(_f.Partitions.TryGetPartition(topic, 0, out var state));
        return state.Log.LogEndOffset;
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(1)]
    public async Task ADuplicateGetsTheOriginalBaseOffsetAndIsNotAppended(short acks)
    {
        _f.CreateTopic("t");
        await _f.ProduceAsync("t", 0, TestBatches.Build(2), acks: acks); // offsets 0-1, no producer
        var first = Batch(3, 0, 0);
        var r1 = await _f.ProduceAsync("t", 0, first, acks: acks);
        var r2 = await _f.ProduceAsync("t", 0, Batch(2, 0, 3), acks: acks);
        Assert.Equal((0, 2L, 0, 5L), (r1.ErrorCode, r1.BaseOffset, r2.ErrorCode, r2.BaseOffset));

        var again = await _f.ProduceAsync("t", 0, first, acks: acks);
        Assert.Equal((short)ErrorCode.None, again.ErrorCode);
        Assert.Equal(2, again.BaseOffset);
        Assert.Equal(0, again.LogStartOffset);
        Assert.Null(again.ErrorMessage);
        Assert.Equal(7, EndOffset("t"));
        var batches = TestBatches.Split((await _f.FetchAsync("t", 0, 0)).Records!.Value.Span);
        Assert.Equal(3, batches.Count);
    }

    [Fact]
    public async Task ASequenceGapIsOutOfOrderAndAnOldEpochIsInvalid()
    {
        _f.CreateTopic("t");
        Assert.Equal(0, (await _f.ProduceAsync("t", 0, Batch(2, 5, 0))).ErrorCode);

        var gap = await _f.ProduceAsync("t", 0, Batch(1, 5, 3));
        Assert.Equal((short)ErrorCode.OutOfOrderSequenceNumber, gap.ErrorCode);
        Assert.Equal(-1, gap.BaseOffset);
        Assert.Contains("expected 2", gap.ErrorMessage);

        var old = await _f.ProduceAsync("t", 0, Batch(1, 4, 2));
        Assert.Equal((short)ErrorCode.InvalidProducerEpoch, old.ErrorCode);
        Assert.Contains("epoch 4", old.ErrorMessage);

        var bumpNotAtZero = await _f.ProduceAsync("t", 0, Batch(1, 6, 2));
        Assert.Equal((short)ErrorCode.OutOfOrderSequenceNumber, bumpNotAtZero.ErrorCode);
        Assert.Equal(2, EndOffset("t"));

        Assert.Equal(2, (await _f.ProduceAsync("t", 0, Batch(1, 5, 2))).BaseOffset);
        Assert.Equal(3, (await _f.ProduceAsync("t", 0, Batch(1, 6, 0))).BaseOffset);
        // Other producers and plain batches are independent.
        Assert.Equal(4, (await _f.ProduceAsync("t", 0, Batch(1, 0, 77, producerId: 2000))).BaseOffset);
        Assert.Equal(5, (await _f.ProduceAsync("t", 0, TestBatches.Build(1))).BaseOffset);
    }

    [Fact]
    public async Task ADuplicateOnALogAppendTimeTopicReportsTheOriginalAppendTime()
    {
        _f.CreateTopic("lat", configs: new() { ["message.timestamp.type"] = "LogAppendTime" });
        _f.Clock.Now = DataFixture.StartTime + 1_000;
        var batch = Batch(2, 0, 0);
        var r1 = await _f.ProduceAsync("lat", 0, batch);
        _f.Clock.Now = DataFixture.StartTime + 9_000;
        var r2 = await _f.ProduceAsync("lat", 0, batch);
        Assert.Equal((0L, DataFixture.StartTime + 1_000), (r1.BaseOffset, r1.LogAppendTimeMs));
        Assert.Equal((0L, DataFixture.StartTime + 1_000), (r2.BaseOffset, r2.LogAppendTimeMs));
        Assert.Equal(2, EndOffset("lat"));
    }

    [Fact]
    public async Task TransactionalBatchesStayInvalidTxnState()
    {
        _f.CreateTopic("t");
        var txn = TestBatches.Build(1, baseTimestamp: DataFixture.StartTime, attributes: Broker.Core.Records.RecordBatchHeader.TransactionalMask,
            producerId: 9, producerEpoch: 0, baseSequence: 0);
        Assert.Equal((short)ErrorCode.InvalidTxnState, (await _f.ProduceAsync("t", 0, txn)).ErrorCode);
        Assert.Equal(0, EndOffset("t"));
    }
}

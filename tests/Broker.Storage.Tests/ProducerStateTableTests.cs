using Broker.Core.Model;
using Broker.Core.Records;
using Broker.Storage.Producers;

namespace Broker.Storage.Tests;

/// <summary>Idempotent producer batches for the producer state tests.</summary>
internal static class IdempotentBatch
{
    public static byte[] Build(long producerId, short epoch, int baseSequence, int count = 1, long timestamp = 1_700_000_000_000,
        short attributes = 0)
    {
        var builder = new RecordBatchBuilder();
        builder.Reset(timestamp, producerId, epoch, baseSequence, attributes);
        for (int i = 0; i < count; i++) builder.Add(timestamp + i, default, [(byte)i, 7], keyIsNull: true);
        return builder.ToArray();
    }

    public static RecordBatchHeader Header(byte[] batch)
    {
        Assert.True(RecordBatchHeader.TryRead(batch, out var header));
        return header;
    }
}

/// <summary>The table's rules on their own (Kafka's ProducerStateManager / ProducerAppendInfo semantics).</summary>
public sealed class ProducerStateTableTests
{
    private readonly ProducerStateTable _table = new();
    private long _nextOffset;

    /// <summary>Checks then, when accepted, applies the batch as the log would (offsets assigned consecutively).</summary>
    private ProducerAppendCheck Offer(byte[] batch)
    {
        var check = _table.Check(batch);
        if (check.IsAccepted)
        {
            var header = IdempotentBatch.Header(batch);
            _table.Apply(header, _nextOffset, _nextOffset + header.LastOffsetDelta, header.MaxTimestamp);
            _nextOffset += header.LastOffsetDelta + 1;
        }
        return check;
    }

    [Fact]
    public void LastSequenceWrapsFromMaxValueToZero()
    {
        Assert.Equal(4, ProducerStateTable.LastSequence(0, 4));
        Assert.Equal(int.MaxValue, ProducerStateTable.LastSequence(int.MaxValue - 2, 2));
        Assert.Equal(0, ProducerStateTable.LastSequence(int.MaxValue, 1));
        Assert.Equal(2, ProducerStateTable.LastSequence(int.MaxValue - 1, 4));
        Assert.True(ProducerStateTable.InSequence(int.MaxValue, 0));
        Assert.True(ProducerStateTable.InSequence(6, 7));
        Assert.False(ProducerStateTable.InSequence(6, 8));
        Assert.False(ProducerStateTable.InSequence(int.MaxValue, int.MinValue));
    }

    [Fact]
    public void InOrderBatchesAreAcceptedAndGapsRefused()
    {
        Assert.True(Offer(IdempotentBatch.Build(7, 0, 0, count: 3)).IsAccepted);
        Assert.True(Offer(IdempotentBatch.Build(7, 0, 3, count: 2)).IsAccepted);
        var gap = Offer(IdempotentBatch.Build(7, 0, 6));
        Assert.Equal(ErrorCode.OutOfOrderSequenceNumber, gap.Error);
        Assert.Contains("expected 5", gap.Message);
        var behind = Offer(IdempotentBatch.Build(7, 0, 2)); // not one of the kept batches: out of order, not a duplicate
        Assert.Equal(ErrorCode.OutOfOrderSequenceNumber, behind.Error);
        Assert.True(Offer(IdempotentBatch.Build(7, 0, 5)).IsAccepted);
        Assert.Equal(5, _table.Get(7)!.LastBatch.LastSequence);
    }

    [Fact]
    public void UnknownProducerMayStartAtAnySequence()
    {
        Assert.True(Offer(IdempotentBatch.Build(9, 3, 1234)).IsAccepted);
        Assert.Equal(1234, _table.Get(9)!.LastBatch.FirstSequence);
        Assert.Equal(ErrorCode.OutOfOrderSequenceNumber, Offer(IdempotentBatch.Build(9, 3, 1236)).Error);
    }

    [Fact]
    public void DuplicatesOfTheLastFiveBatchesReturnTheOriginalOffsets()
    {
        var batches = new List<byte[]>();
        for (int i = 0; i < 6; i++)
        {
            var b = IdempotentBatch.Build(1, 0, i * 2, count: 2);
            Assert.True(Offer(b).IsAccepted);
            batches.Add(b);
        }
        Assert.Equal(ProducerEntry.MaxBatches, _table.Get(1)!.BatchCount);
        for (int i = 1; i < 6; i++)
        {
            var dup = Offer(batches[i]);
            Assert.True(dup.IsDuplicate, $"batch {i}");
            Assert.Equal(ErrorCode.None, dup.Error);
            Assert.Equal(i * 2L, dup.Original.FirstOffset);
            Assert.Equal(i * 2L + 1, dup.Original.LastOffset);
        }
        // The first batch fell out of the window: it is now just an old sequence.
        Assert.Equal(ErrorCode.OutOfOrderSequenceNumber, Offer(batches[0]).Error);
        // Same first sequence but another range is not a duplicate either.
        Assert.Equal(ErrorCode.OutOfOrderSequenceNumber, Offer(IdempotentBatch.Build(1, 0, 10, count: 1)).Error);
        Assert.Equal(12, _nextOffset); // nothing was appended by the duplicates
    }

    [Fact]
    public void EpochRules()
    {
        Assert.True(Offer(IdempotentBatch.Build(5, 2, 0, count: 4)).IsAccepted);
        var old = Offer(IdempotentBatch.Build(5, 1, 4));
        Assert.Equal(ErrorCode.InvalidProducerEpoch, old.Error);
        Assert.Contains("epoch 1", old.Message);
        // A duplicate of the current epoch's batch with an older epoch is still a stale epoch, not a duplicate.
        Assert.Equal(ErrorCode.InvalidProducerEpoch, Offer(IdempotentBatch.Build(5, 1, 0, count: 4)).Error);
        // A bump must restart at sequence 0.
        Assert.Equal(ErrorCode.OutOfOrderSequenceNumber, Offer(IdempotentBatch.Build(5, 3, 4)).Error);
        Assert.True(Offer(IdempotentBatch.Build(5, 3, 0)).IsAccepted);
        var entry = _table.Get(5)!;
        Assert.Equal(3, entry.Epoch);
        Assert.Equal(1, entry.BatchCount); // the old epoch's batches are forgotten
        Assert.Equal(ErrorCode.InvalidProducerEpoch, Offer(IdempotentBatch.Build(5, 2, 4)).Error);
    }

    [Fact]
    public void SequenceWrapsAroundInt32MaxValue()
    {
        Assert.True(Offer(IdempotentBatch.Build(3, 0, int.MaxValue - 1, count: 2)).IsAccepted);
        Assert.Equal(int.MaxValue, _table.Get(3)!.LastBatch.LastSequence);
        Assert.True(Offer(IdempotentBatch.Build(3, 0, 0, count: 3)).IsAccepted);
        // A batch that itself crosses the wrap.
        var crossing = IdempotentBatch.Build(4, 0, int.MaxValue - 1, count: 4);
        Assert.True(Offer(crossing).IsAccepted);
        Assert.Equal(1, _table.Get(4)!.LastBatch.LastSequence);
        Assert.True(Offer(crossing).IsDuplicate);
        Assert.True(Offer(IdempotentBatch.Build(4, 0, 2)).IsAccepted);
    }

    [Fact]
    public void BatchesWithoutProducerIdAndControlBatchesAreIgnored()
    {
        Assert.True(Offer(IdempotentBatch.Build(-1, -1, -1)).IsAccepted);
        Assert.True(Offer(IdempotentBatch.Build(8, 0, 17, attributes: RecordBatchHeader.ControlMask)).IsAccepted);
        Assert.Equal(0, _table.Count);
    }

    [Fact]
    public void SeveralBatchesInOneCallAreCheckedAsIfAppendedInOrder()
    {
        Assert.True(Offer(IdempotentBatch.Build(2, 0, 0)).IsAccepted);
        var ok = BatchBuilder.Concat(IdempotentBatch.Build(2, 0, 1), IdempotentBatch.Build(2, 0, 2, count: 2));
        Assert.True(_table.Check(ok).IsAccepted);
        var gapInSecond = BatchBuilder.Concat(IdempotentBatch.Build(2, 0, 1), IdempotentBatch.Build(2, 0, 3));
        Assert.Equal(ErrorCode.OutOfOrderSequenceNumber, _table.Check(gapInSecond).Error);
        var newProducerThenGap = BatchBuilder.Concat(IdempotentBatch.Build(6, 0, 40), IdempotentBatch.Build(6, 0, 42));
        Assert.Equal(ErrorCode.OutOfOrderSequenceNumber, _table.Check(newProducerThenGap).Error);
    }

    [Fact]
    public void BadlyFramedInputEndsTheCheckWithoutLooping()
    {
        Assert.True(Offer(IdempotentBatch.Build(2, 0, 0)).IsAccepted);
        var zeroLength = IdempotentBatch.Build(2, 0, 5);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(zeroLength.AsSpan(RecordBatchHeader.BatchLengthOffset), -12);
        Assert.True(_table.Check(zeroLength).IsAccepted);
        var tooLong = IdempotentBatch.Build(2, 0, 5);
        Assert.True(_table.Check(tooLong.AsSpan(0, tooLong.Length - 1)).IsAccepted);
        Assert.True(_table.Check(new byte[10]).IsAccepted);
    }

    [Fact]
    public void ExpiryUsesTheLatestBatchTimestamp()
    {
        Assert.True(Offer(IdempotentBatch.Build(1, 0, 0, timestamp: 1_000)).IsAccepted);
        Assert.True(Offer(IdempotentBatch.Build(2, 0, 0, timestamp: 1_000)).IsAccepted);
        Assert.True(Offer(IdempotentBatch.Build(2, 0, 1, timestamp: 5_000)).IsAccepted);
        Assert.Equal(0, _table.RemoveExpired(nowMs: 5_999, expirationMs: 5_000));
        Assert.Equal(1, _table.RemoveExpired(nowMs: 6_000, expirationMs: 5_000));
        Assert.Null(_table.Get(1));
        Assert.NotNull(_table.Get(2));
        // An expired producer is unknown again: any sequence goes.
        Assert.True(Offer(IdempotentBatch.Build(1, 0, 99, timestamp: 6_000)).IsAccepted);
    }
}

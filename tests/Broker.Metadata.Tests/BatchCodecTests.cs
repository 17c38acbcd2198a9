using Broker.Consensus;
using Broker.Core.Records;
using Broker.Metadata.Records;

namespace Broker.Metadata.Tests;

public class BatchCodecTests
{
    [Fact]
    public void Batch_is_a_valid_uncompressed_v2_batch()
    {
        var id = Guid.NewGuid();
        MetadataRecord[] records = [new TopicRecord("a", id), new PartitionRecord(0, id, [1], [1], 1, 0, 0), new FeatureLevelRecord("f", 1)];
        var batch = MetadataBatchCodec.BuildBatch(records, 1234);

        Assert.Equal(BatchError.None, RecordBatchValidator.ValidateOne(batch, int.MaxValue, out var header));
        Assert.Equal(batch.Length, header.TotalSize);
        Assert.Equal(2, header.Magic);
        Assert.Equal(3, header.RecordsCount);
        Assert.Equal(2, header.LastOffsetDelta);
        Assert.Equal(CompressionCodec.None, header.Compression);
        Assert.False(header.IsControl);
        Assert.Equal(-1, header.ProducerId);
        Assert.Equal(1234, header.BaseTimestamp);
        Assert.Equal(1234, header.MaxTimestamp);
    }

    [Fact]
    public void Core_reader_yields_absolute_offsets_and_values()
    {
        var id = Guid.NewGuid();
        MetadataRecord[] records = [new TopicRecord("a", id), new RemoveTopicRecord(id)];
        var batch = MetadataBatchCodec.BuildBatch(records, 0);
        RecordBatchHeader.WriteBaseOffset(batch, 100);

        var reader = new RecordReader(batch);
        var seen = new List<(long, MetadataRecord)>();
        while (reader.TryRead(out var record))
        {
            Assert.True(record.KeyIsNull);
            seen.Add((record.Offset, MetadataRecordSerde.Deserialize(record.Value)));
        }

        Assert.Equal([100L, 101L], seen.Select(s => s.Item1));
        RecordAssert.SameRecord(records[0], seen[0].Item2);
        RecordAssert.SameRecord(records[1], seen[1].Item2);
    }

    [Fact]
    public void Malformed_record_inside_a_batch_is_reported_by_replay()
    {
        var batch = MetadataBatchCodec.BuildBatch([new FeatureLevelRecord("f", 1)], 0);
        batch[RecordBatchHeader.Size] = 0x7E; // record length varint: 63, longer than the batch
        RecordBatchValidator.RewriteCrc(batch);
        var ex = Replay(batch);
        Assert.Contains("record length", ex.Message);
        Assert.Contains("metadata batch at offset 0", ex.Message);
    }

    [Fact]
    public void Null_record_value_is_reported_by_replay()
    {
        var builder = new RecordBatchBuilder();
        builder.Reset(0);
        builder.Add(0, default, default, keyIsNull: true, valueIsNull: true);
        Assert.Contains("null value", Replay(builder.ToArray()).Message);
    }

    private static MetadataFormatException Replay(byte[] batch)
    {
        var storage = new InMemoryPartitionLog();
        storage.AppendRaw(batch, 1);
        using var applier = new MetadataApplier(new LocalReplicatedLog(storage, 1), "c", () => 1);
        return Assert.Throws<MetadataFormatException>(() => applier.Replay());
    }

    [Fact]
    public void Empty_record_list_is_refused() =>
        Assert.Throws<ArgumentException>(() => MetadataBatchCodec.BuildBatch([], 0));
}

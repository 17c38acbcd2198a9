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
    public void Reader_yields_absolute_offsets_and_values()
    {
        var id = Guid.NewGuid();
        MetadataRecord[] records = [new TopicRecord("a", id), new RemoveTopicRecord(id)];
        var batch = MetadataBatchCodec.BuildBatch(records, 0);
        RecordBatchHeader.WriteBaseOffset(batch, 100);
        RecordBatchHeader.TryRead(batch, out var header);

        var reader = new BatchRecordReader(batch, header);
        var seen = new List<(long, MetadataRecord)>();
        while (reader.MoveNext(out long offset, out var value)) seen.Add((offset, MetadataRecordSerde.Deserialize(value)));

        Assert.Equal([100L, 101L], seen.Select(s => s.Item1));
        RecordAssert.SameRecord(records[0], seen[0].Item2);
        RecordAssert.SameRecord(records[1], seen[1].Item2);
    }

    [Fact]
    public void Malformed_record_inside_a_batch_is_reported()
    {
        var batch = MetadataBatchCodec.BuildBatch([new FeatureLevelRecord("f", 1)], 0);
        batch[RecordBatchHeader.Size] = 0x7E; // record length varint: 63, longer than the batch
        RecordBatchHeader.TryRead(batch, out var header);
        var ex = Assert.Throws<MetadataFormatException>(() =>
        {
            var reader = new BatchRecordReader(batch, header);
            reader.MoveNext(out _, out _);
        });
        Assert.Contains("record length", ex.Message);
    }

    [Fact]
    public void Empty_record_list_is_refused() =>
        Assert.Throws<ArgumentException>(() => MetadataBatchCodec.BuildBatch([], 0));
}

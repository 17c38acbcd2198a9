using Broker.Core.Records;

namespace Broker.Metadata.Records;

/// <summary>
/// Builds the Kafka v2 record batches that carry metadata records (with Core's <see cref="RecordBatchBuilder"/>;
/// they are read back with Core's <see cref="RecordReader"/>). A batch is uncompressed, has no producer id, and its
/// records have null keys and the framed record as value; one controller request becomes one batch, so it is
/// applied atomically.
/// </summary>
public static class MetadataBatchCodec
{
    /// <summary>Encodes <paramref name="records"/> as one batch with base offset 0 (the log assigns offsets and epoch).</summary>
    public static byte[] BuildBatch(IReadOnlyList<MetadataRecord> records, long timestampMs)
    {
        if (records.Count == 0) throw new ArgumentException("a metadata batch needs at least one record", nameof(records));
        var value = new BodyWriter(64);
        var batch = new RecordBatchBuilder(RecordBatchHeader.Size + 72 * records.Count);
        batch.Reset(timestampMs);
        foreach (var record in records)
        {
            value.Clear();
            MetadataRecordSerde.Write(record, value);
            batch.Add(timestampMs, default, value.WrittenSpan, keyIsNull: true);
        }
        return batch.ToArray();
    }
}

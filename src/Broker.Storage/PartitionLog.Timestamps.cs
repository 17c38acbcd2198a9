using System.Buffers;
using System.Buffers.Binary;
using Broker.Compression;
using Broker.Core.Diagnostics;
using Broker.Core.Records;

namespace Broker.Storage;

/// <summary>
/// Record-level timestamp lookup inside one batch (ListOffsets by timestamp, Kafka's FileRecords.searchForTimestamp):
/// the first record at or after the target time and at or after the log start offset. Compressed batches are
/// decompressed (that one batch, into a pooled buffer) and walked like uncompressed ones.
/// </summary>
public sealed partial class PartitionLog
{
    private static readonly Logger TimestampLogger = Log.For("log-timestamps");

    /// <summary>
    /// Within a batch whose max timestamp reaches <paramref name="timestampMs"/>: the first record whose timestamp
    /// (batch base timestamp + the record's delta; the batch's max timestamp for every record of a LogAppendTime batch)
    /// is at or after <paramref name="timestampMs"/> and whose offset is at or after <paramref name="minOffset"/>.
    /// Null when no record of the batch qualifies (the search goes on with the next batch). A batch whose records
    /// cannot be read (corrupt data, missing codec library) answers its base offset (raised to minOffset) with its max
    /// timestamp, as before records were walked, and is logged.
    /// </summary>
    private static (long Offset, long Timestamp)? FirstRecordAtOrAfter(ReadOnlySpan<byte> batch, in RecordBatchHeader header,
        long timestampMs, long minOffset)
    {
        long first = Math.Max(header.BaseOffset, minOffset);
        if (header.IsLogAppendTime) return first <= header.LastOffset ? (first, header.MaxTimestamp) : null;
        if (header.Compression == CompressionCodec.None)
            return WalkRecords(batch, timestampMs, minOffset, out string? error) ?? Unreadable(header, first, error);

        byte[]? rented = null;
        try
        {
            rented = DecompressBatch(batch, header, out int length, out string? failure);
            if (rented is null) return Unreadable(header, first, failure);
            return WalkRecords(rented.AsSpan(0, length), timestampMs, minOffset, out string? error) ?? Unreadable(header, first, error);
        }
        finally
        {
            if (rented is not null) ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>The first qualifying record of an uncompressed batch; null with <paramref name="error"/> null when
    /// none qualifies, null with the reason when a record is malformed.</summary>
    private static (long Offset, long Timestamp)? WalkRecords(ReadOnlySpan<byte> batch, long timestampMs, long minOffset, out string? error)
    {
        var records = new RecordReader(batch);
        while (records.TryRead(out var record, out error))
        {
            if (record.Offset >= minOffset && record.Timestamp >= timestampMs) return (record.Offset, record.Timestamp);
        }
        return null;
    }

    /// <summary>What a batch whose records cannot be walked answers: null when it was walked without a hit.</summary>
    private static (long Offset, long Timestamp)? Unreadable(in RecordBatchHeader header, long first, string? error)
    {
        if (error is null) return null;
        TimestampLogger.Warn($"timestamp lookup: records of the batch at offset {header.BaseOffset} cannot be read ({error}); answering the batch's offset");
        return first <= header.LastOffset ? (first, header.MaxTimestamp) : null;
    }

    /// <summary>
    /// The batch with its records decompressed, marked uncompressed (length fixed, CRC not recomputed) in a pooled
    /// array the caller returns; null with the reason when the records cannot be decompressed.
    /// </summary>
    private static byte[]? DecompressBatch(ReadOnlySpan<byte> batch, in RecordBatchHeader header, out int length, out string? failure)
    {
        length = 0;
        failure = null;
        var section = batch[RecordBatchHeader.Size..header.TotalSize];
        var writer = new PooledBufferWriter((int)Math.Min((long)section.Length * 4 + RecordBatchHeader.Size + 256, 16 << 20));
        try
        {
            writer.Write(batch[..RecordBatchHeader.Size]);
            Codecs.Decompress(header.Compression, section, writer);
        }
        catch (CompressionException ex)
        {
            writer.Dispose();
            failure = $"{Codecs.Name(header.Compression)}: {ex.Message}";
            return null;
        }
        byte[] result = writer.Detach(out length);
        var plain = result.AsSpan(0, length);
        BinaryPrimitives.WriteInt16BigEndian(plain[RecordBatchHeader.AttributesOffset..], (short)(header.Attributes & ~RecordBatchHeader.CompressionMask));
        BinaryPrimitives.WriteInt32BigEndian(plain[RecordBatchHeader.BatchLengthOffset..], length - RecordBatchHeader.LogOverhead);
        return result;
    }
}

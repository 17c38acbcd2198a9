using System.Buffers.Binary;
using Broker.Core.Records;

namespace Broker.Storage.Compaction;

/// <summary>
/// Record-level work of the log cleaner on single stored batches: feeding keys into the <see cref="KeyOffsetMap"/>
/// and rewriting a batch without its obsolete records. Only uncompressed, non-control, non-transactional batches
/// whose records all parse are touched; every other batch is kept byte for byte (and contributes no keys). A
/// rewritten batch keeps its whole header (base offset, lastOffsetDelta, leader epoch, timestamps, producer fields,
/// attributes); only batchLength, recordsCount and the CRC change, and it may end up with no records.
/// </summary>
internal static class BatchCompactor
{
    /// <summary>Whether the cleaner may look at (and remove) records of this batch.</summary>
    public static bool IsCleanable(in RecordBatchHeader header) =>
        header.Compression == CompressionCodec.None && !header.IsControl && !header.IsTransactional &&
        header.RecordsCount > 0 && header.TotalSize > RecordBatchHeader.Size;

    /// <summary>
    /// Adds every keyed record of <paramref name="batch"/> to <paramref name="map"/>. False only when the map is
    /// full (then it may hold part of the batch, which stays correct: the map's offsets are never too new).
    /// A malformed batch adds nothing further and is kept as is by <see cref="Rewrite"/>.
    /// </summary>
    public static bool AddKeys(ReadOnlySpan<byte> batch, in RecordBatchHeader header, KeyOffsetMap map)
    {
        if (!IsCleanable(header)) return true;
        var reader = new RecordReader(batch[..header.TotalSize]);
        while (reader.TryRead(out var record, out _))
        {
            if (record.KeyIsNull) continue;
            if (!map.TryPut(record.Key, record.Offset)) return false;
        }
        return true;
    }

    /// <summary>
    /// How many records of <paramref name="batch"/> the cleaner would remove (0 for batches it keeps whole).
    /// </summary>
    public static int CountRemovable(ReadOnlySpan<byte> batch, in RecordBatchHeader header, KeyOffsetMap map, bool dropTombstones)
    {
        if (!IsCleanable(header)) return 0;
        batch = batch[..header.TotalSize];
        if (!AllRecordsParse(batch, header)) return 0;
        var reader = new RecordReader(batch);
        int removable = 0;
        while (reader.TryRead(out var record, out _))
        {
            if (!Keep(record, map, dropTombstones)) removable++;
        }
        return removable;
    }

    /// <summary>
    /// Writes <paramref name="batch"/> without its removable records into <paramref name="output"/> (at least the
    /// batch's size) and returns the bytes written; <paramref name="removed"/> says how many records went.
    /// </summary>
    public static int Rewrite(ReadOnlySpan<byte> batch, in RecordBatchHeader header, KeyOffsetMap map, bool dropTombstones,
        Span<byte> output, out int removed)
    {
        batch = batch[..header.TotalSize];
        removed = 0;
        if (!IsCleanable(header) || !AllRecordsParse(batch, header))
        {
            batch.CopyTo(output);
            return batch.Length;
        }
        batch[..RecordBatchHeader.Size].CopyTo(output);
        int written = RecordBatchHeader.Size, kept = 0;
        var reader = new RecordReader(batch);
        int start = reader.Position;
        while (reader.TryRead(out var record, out _))
        {
            int end = reader.Position;
            if (Keep(record, map, dropTombstones))
            {
                batch[start..end].CopyTo(output[written..]);
                written += end - start;
                kept++;
            }
            else
            {
                removed++;
            }
            start = end;
        }
        var result = output[..written];
        BinaryPrimitives.WriteInt32BigEndian(result[RecordBatchHeader.BatchLengthOffset..], written - RecordBatchHeader.LogOverhead);
        BinaryPrimitives.WriteInt32BigEndian(result[RecordBatchHeader.RecordsCountOffset..], kept);
        RecordBatchValidator.RewriteCrc(result);
        return written;
    }

    /// <summary>
    /// Kafka's rule: records without a key stay; a keyed record stays when it is the latest of its key (or the map
    /// does not know the key), except a latest tombstone once its delete retention has passed.
    /// </summary>
    private static bool Keep(in RecordView record, KeyOffsetMap map, bool dropTombstones)
    {
        if (record.KeyIsNull || !map.TryGet(record.Key, out long latest)) return true;
        if (record.Offset < latest) return false;
        return !(record.Offset == latest && record.ValueIsNull && dropTombstones);
    }

    /// <summary>True when exactly recordsCount well-formed records fill the batch (nothing is cut from a batch
    /// the cleaner does not fully understand).</summary>
    private static bool AllRecordsParse(ReadOnlySpan<byte> batch, in RecordBatchHeader header)
    {
        var reader = new RecordReader(batch);
        int count = 0;
        string? error;
        while (reader.TryRead(out _, out error)) count++;
        return error is null && count == header.RecordsCount && reader.Position == batch.Length;
    }
}

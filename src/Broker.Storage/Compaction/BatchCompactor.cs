using System.Buffers.Binary;
using Broker.Compression;
using Broker.Core.Records;

namespace Broker.Storage.Compaction;

/// <summary>
/// Record-level work of the log cleaner on single stored batches: feeding keys into the <see cref="KeyOffsetMap"/>
/// and rewriting a batch without its obsolete records. Non-control, non-transactional batches are cleaned whether
/// compressed or not: a compressed one is decompressed into a scratch buffer, filtered, and its surviving records
/// recompressed with the same codec. A batch whose records do not all parse (or whose compressed body does not
/// decompress) is kept byte for byte and contributes no keys; so are control and transactional batches.
/// A rewritten batch keeps its header (base offset, lastOffsetDelta, leader epoch, base and max timestamps, producer
/// id/epoch, base sequence, attributes); batchLength, recordsCount and the CRC change. A batch left without records
/// is kept as an empty, uncompressed shell of the same offset range (Kafka's empty batch keeps the producer's last
/// sequence). One instance per cleaner pass: its scratch buffers are reused; not thread-safe.
/// </summary>
internal sealed class BatchCompactor : IDisposable
{
    private readonly PooledBufferWriter _plain = new(64 * 1024);    // a decompressed batch (header + records)
    private readonly PooledBufferWriter _filtered = new(64 * 1024); // surviving records of a compressed batch
    private readonly PooledBufferWriter _output = new(64 * 1024);   // the rewritten batch

    /// <summary>Compressed batches whose body would not decompress (kept as they are), counted by <see cref="AddKeys"/>.</summary>
    public int Undecodable { get; private set; }

    /// <summary>Whether the cleaner may look at (and remove) records of this batch.</summary>
    public static bool IsCleanable(in RecordBatchHeader header) =>
        !header.IsControl && !header.IsTransactional && header.RecordsCount > 0 &&
        header.TotalSize > RecordBatchHeader.Size && header.Compression <= CompressionCodec.Zstd;

    /// <summary>
    /// Adds every keyed record of <paramref name="batch"/> to <paramref name="map"/>. False only when the map is
    /// full (then it may hold part of the batch, which stays correct: the map's offsets are never too new).
    /// </summary>
    public bool AddKeys(ReadOnlySpan<byte> batch, in RecordBatchHeader header, KeyOffsetMap map)
    {
        if (!TryOpen(batch, header, out var plain, out bool undecodable))
        {
            if (undecodable) Undecodable++;
            return true;
        }
        var reader = new RecordReader(plain);
        while (reader.TryRead(out var record, out _))
        {
            if (record.KeyIsNull) continue;
            if (!map.TryPut(record.Key, record.Offset, record.ValueIsNull)) return false;
        }
        return true;
    }

    /// <summary>Whether the cleaner would remove at least one record of <paramref name="batch"/>.</summary>
    public bool HasRemovable(ReadOnlySpan<byte> batch, in RecordBatchHeader header, KeyOffsetMap map, bool dropTombstones)
    {
        if (!TryOpen(batch, header, out var plain, out _)) return false;
        var reader = new RecordReader(plain);
        while (reader.TryRead(out var record, out _))
        {
            if (!Keep(record, map, dropTombstones)) return true;
        }
        return false;
    }

    /// <summary>
    /// <paramref name="batch"/> without its removable records: the batch itself when nothing goes (or it is not
    /// cleanable), otherwise the rewritten copy in a scratch buffer that the next call reuses.
    /// <paramref name="removed"/> says how many records went.
    /// </summary>
    public ReadOnlySpan<byte> Rewrite(ReadOnlySpan<byte> batch, in RecordBatchHeader header, KeyOffsetMap map,
        bool dropTombstones, out int removed)
    {
        batch = batch[..header.TotalSize];
        removed = 0;
        if (!TryOpen(batch, header, out var plain, out _)) return batch;

        bool compressed = header.Compression != CompressionCodec.None;
        var records = compressed ? _filtered : _output;
        records.Reset();
        if (!compressed) records.Write(plain[..RecordBatchHeader.Size]);
        int kept = 0;
        var reader = new RecordReader(plain);
        int start = reader.Position;
        while (reader.TryRead(out var record, out _))
        {
            int end = reader.Position;
            if (Keep(record, map, dropTombstones))
            {
                records.Write(plain[start..end]);
                kept++;
            }
            else
            {
                removed++;
            }
            start = end;
        }
        if (removed == 0) return batch;

        if (compressed)
        {
            _output.Reset();
            _output.Write(batch[..RecordBatchHeader.Size]);
            if (kept > 0) Codecs.Compress(header.Compression, _filtered.WrittenSpan, _output);
        }
        var result = _output.WrittenSpan;
        if (compressed && kept == 0)
        {
            // The empty shell is uncompressed: an empty compressed body is not a valid stream for every codec.
            short attributes = (short)(header.Attributes & ~RecordBatchHeader.CompressionMask);
            BinaryPrimitives.WriteInt16BigEndian(result[RecordBatchHeader.AttributesOffset..], attributes);
        }
        BinaryPrimitives.WriteInt32BigEndian(result[RecordBatchHeader.BatchLengthOffset..], result.Length - RecordBatchHeader.LogOverhead);
        BinaryPrimitives.WriteInt32BigEndian(result[RecordBatchHeader.RecordsCountOffset..], kept);
        RecordBatchValidator.RewriteCrc(result);
        return result;
    }

    /// <summary>
    /// The uncompressed form of a cleanable batch whose records all parse: the batch itself, or for a compressed
    /// one its header (codec bits cleared, length fixed) and decompressed records in <see cref="_plain"/>.
    /// </summary>
    private bool TryOpen(ReadOnlySpan<byte> batch, in RecordBatchHeader header, out ReadOnlySpan<byte> plain, out bool undecodable)
    {
        plain = default;
        undecodable = false;
        if (!IsCleanable(header)) return false;
        batch = batch[..header.TotalSize];
        if (header.Compression == CompressionCodec.None)
        {
            plain = batch;
        }
        else
        {
            _plain.Reset();
            _plain.Write(batch[..RecordBatchHeader.Size]);
            try
            {
                Codecs.Decompress(header.Compression, batch[RecordBatchHeader.Size..], _plain,
                    Codecs.DefaultMaxUncompressedBytes - RecordBatchHeader.Size);
            }
            catch (CompressionException)
            {
                undecodable = true;
                return false;
            }
            var span = _plain.WrittenSpan;
            short attributes = (short)(header.Attributes & ~RecordBatchHeader.CompressionMask);
            BinaryPrimitives.WriteInt16BigEndian(span[RecordBatchHeader.AttributesOffset..], attributes);
            BinaryPrimitives.WriteInt32BigEndian(span[RecordBatchHeader.BatchLengthOffset..], span.Length - RecordBatchHeader.LogOverhead);
            plain = span;
        }
        return AllRecordsParse(plain, header.RecordsCount);
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

    /// <summary>True when exactly <paramref name="count"/> well-formed records fill the batch (nothing is cut from a
    /// batch the cleaner does not fully understand).</summary>
    private static bool AllRecordsParse(ReadOnlySpan<byte> batch, int count)
    {
        var reader = new RecordReader(batch);
        int read = 0;
        string? error;
        while (reader.TryRead(out _, out error)) read++;
        return error is null && read == count && reader.Position == batch.Length;
    }

    /// <summary>Returns the scratch buffers to the pool (end of a cleaner pass).</summary>
    public void Dispose()
    {
        _plain.Dispose();
        _filtered.Dispose();
        _output.Dispose();
    }
}

using System.Buffers.Binary;
using Broker.Core.Hashing;

namespace Broker.Storage.Producers;

/// <summary>
/// The producer state file of a partition, `producer-state.snapshot` in its directory: the table as of a log offset
/// (everything below it applied), so opening a log only replays the batches after it. Layout, big-endian: magic
/// "PRST", version:i16=1, crc32c:u32 of everything after it, offset:i64, count:i32, then count × (producerId:i64,
/// epoch:i16, lastTimestamp:i64, batchCount:u8 (1..5), batchCount × (firstSeq:i32, lastSeq:i32, firstOffset:i64,
/// lastOffset:i64, maxTimestamp:i64)). Written with <see cref="DurableFile.WriteAtomic"/> (temp, fsync, rename, directory fsync).
/// </summary>
public static class ProducerStateSnapshot
{
    public const string FileName = "producer-state.snapshot";
    private const uint Magic = 0x50525354; // "PRST"
    private const short Version = 1;
    private const int CrcOffset = 6;
    private const int HeaderSize = 22; // magic, version, crc, offset, count
    private const int EntryHeaderSize = 19;
    private const int BatchSize = 32;
    private const int MaxFileBytes = 256 << 20;

    public static string PathIn(string directory) => Path.Combine(directory, FileName);

    /// <summary>Durably writes <paramref name="table"/> as the state at <paramref name="offset"/>.</summary>
    public static void Write(string path, long offset, ProducerStateTable table)
    {
        long size = HeaderSize;
        foreach (var entry in table.Entries) size += EntryHeaderSize + (long)entry.BatchCount * BatchSize;
        if (size > MaxFileBytes) throw new InvalidOperationException($"producer state of {size} bytes is too large to snapshot");
        var data = new byte[size];
        var span = data.AsSpan();
        BinaryPrimitives.WriteUInt32BigEndian(span, Magic);
        BinaryPrimitives.WriteInt16BigEndian(span[4..], Version);
        BinaryPrimitives.WriteInt64BigEndian(span[10..], offset);
        BinaryPrimitives.WriteInt32BigEndian(span[18..], table.Count);
        int pos = HeaderSize;
        foreach (var entry in table.Entries)
        {
            BinaryPrimitives.WriteInt64BigEndian(span[pos..], entry.ProducerId);
            BinaryPrimitives.WriteInt16BigEndian(span[(pos + 8)..], entry.Epoch);
            BinaryPrimitives.WriteInt64BigEndian(span[(pos + 10)..], entry.LastTimestamp);
            span[pos + 18] = (byte)entry.BatchCount;
            pos += EntryHeaderSize;
            for (int i = 0; i < entry.BatchCount; i++)
            {
                var b = entry.Batch(i);
                BinaryPrimitives.WriteInt32BigEndian(span[pos..], b.FirstSequence);
                BinaryPrimitives.WriteInt32BigEndian(span[(pos + 4)..], b.LastSequence);
                BinaryPrimitives.WriteInt64BigEndian(span[(pos + 8)..], b.FirstOffset);
                BinaryPrimitives.WriteInt64BigEndian(span[(pos + 16)..], b.LastOffset);
                BinaryPrimitives.WriteInt64BigEndian(span[(pos + 24)..], b.MaxTimestamp);
                pos += BatchSize;
            }
        }
        BinaryPrimitives.WriteUInt32BigEndian(span[CrcOffset..], Crc32C.Compute(span[(CrcOffset + 4)..]));
        DurableFile.WriteAtomic(path, data);
    }

    /// <summary>
    /// Reads the snapshot at <paramref name="path"/> into <paramref name="table"/> (cleared first) and returns its
    /// offset; -1 when there is no file. A damaged or unknown file is an <see cref="InvalidDataException"/> and leaves
    /// the table empty.
    /// </summary>
    public static long Read(string path, ProducerStateTable table)
    {
        table.Clear();
        if (!File.Exists(path)) return -1;
        long length = new FileInfo(path).Length;
        if (length < HeaderSize || length > MaxFileBytes) throw new InvalidDataException($"{path}: implausible size {length}");
        byte[] data = File.ReadAllBytes(path);
        try
        {
            return Parse(path, data, table);
        }
        catch
        {
            table.Clear();
            throw;
        }
    }

    private static long Parse(string path, ReadOnlySpan<byte> span, ProducerStateTable table)
    {
        if (span.Length < HeaderSize || BinaryPrimitives.ReadUInt32BigEndian(span) != Magic)
            throw new InvalidDataException($"{path}: not a producer state snapshot");
        short version = BinaryPrimitives.ReadInt16BigEndian(span[4..]);
        if (version != Version) throw new InvalidDataException($"{path}: unsupported version {version}");
        if (Crc32C.Compute(span[(CrcOffset + 4)..]) != BinaryPrimitives.ReadUInt32BigEndian(span[CrcOffset..]))
            throw new InvalidDataException($"{path}: checksum mismatch");
        long offset = BinaryPrimitives.ReadInt64BigEndian(span[10..]);
        int count = BinaryPrimitives.ReadInt32BigEndian(span[18..]);
        if (offset < 0 || count < 0) throw new InvalidDataException($"{path}: bad offset {offset} or count {count}");
        Span<ProducerBatch> batches = stackalloc ProducerBatch[ProducerEntry.MaxBatches];
        int pos = HeaderSize;
        for (int i = 0; i < count; i++)
        {
            if (span.Length - pos < EntryHeaderSize) throw new InvalidDataException($"{path}: truncated at producer {i}");
            long producerId = BinaryPrimitives.ReadInt64BigEndian(span[pos..]);
            short epoch = BinaryPrimitives.ReadInt16BigEndian(span[(pos + 8)..]);
            long lastTimestamp = BinaryPrimitives.ReadInt64BigEndian(span[(pos + 10)..]);
            int batchCount = span[pos + 18];
            pos += EntryHeaderSize;
            if (producerId < 0 || batchCount is < 1 or > ProducerEntry.MaxBatches || span.Length - pos < batchCount * BatchSize)
                throw new InvalidDataException($"{path}: bad producer entry {i}");
            for (int b = 0; b < batchCount; b++)
            {
                batches[b] = new ProducerBatch(
                    BinaryPrimitives.ReadInt32BigEndian(span[pos..]),
                    BinaryPrimitives.ReadInt32BigEndian(span[(pos + 4)..]),
                    BinaryPrimitives.ReadInt64BigEndian(span[(pos + 8)..]),
                    BinaryPrimitives.ReadInt64BigEndian(span[(pos + 16)..]),
                    BinaryPrimitives.ReadInt64BigEndian(span[(pos + 24)..]));
                if (batches[b].LastOffset < batches[b].FirstOffset || batches[b].LastOffset >= offset)
                    throw new InvalidDataException($"{path}: producer {producerId} has a batch outside the snapshot");
                pos += BatchSize;
            }
            table.Restore(producerId, epoch, lastTimestamp, batches[..batchCount]);
        }
        if (pos != span.Length) throw new InvalidDataException($"{path}: {span.Length - pos} trailing bytes");
        return offset;
    }
}

using Broker.Compression;

namespace Broker.Storage.Compaction;

/// <summary>
/// Writes the cleaned copy of one sealed segment: every batch of the old file, rewritten by the
/// <see cref="BatchCompactor"/>, into a temporary log file (fsynced), plus its sparse offset index into a temporary
/// index file, built on the way with the same spacing rule the segment uses when appending. The time index needs no
/// copy: it maps timestamps to batch base offsets, and compaction changes neither. With both files ready, the swap
/// under the log's lock is a few renames and a cheap open, never a scan of the segment.
/// </summary>
internal static class CleanedCopy
{
    public readonly record struct Outcome(long Bytes, long Removed, long NextOffset);

    /// <summary>Writes the copy of <paramref name="data"/> (a sealed segment's batches) to <paramref name="logPath"/>
    /// and its offset index to <paramref name="indexPath"/>.</summary>
    public static Outcome Write(ReadOnlySpan<byte> data, long baseOffset, BatchCompactor compactor, KeyOffsetMap map,
        bool dropTombstones, int indexInterval, string logPath, string indexPath)
    {
        using var index = new PooledBufferWriter(4096);
        long removed = 0, nextOffset = baseOffset;
        int position = 0, bytesSinceEntry = 0, pos = 0;
        using (var stream = new FileStream(logPath, FileMode.Create, FileAccess.Write, FileShare.None, 64 * 1024))
        {
            while (BatchScan.TryReadHeader(data, pos, data.Length, out var header))
            {
                var cleaned = compactor.Rewrite(data[pos..], header, map, dropTombstones, out int gone);
                if (bytesSinceEntry > indexInterval)
                {
                    new OffsetEntry(checked((int)(header.BaseOffset - baseOffset)), position).Write(index.GetSpan(OffsetEntry.Size));
                    index.Advance(OffsetEntry.Size);
                    bytesSinceEntry = 0;
                }
                stream.Write(cleaned);
                position = checked(position + cleaned.Length);
                bytesSinceEntry += cleaned.Length;
                removed += gone;
                nextOffset = header.LastOffset + 1;
                pos += header.TotalSize;
            }
            stream.Flush(flushToDisk: true);
        }
        using (var stream = new FileStream(indexPath, FileMode.Create, FileAccess.Write, FileShare.None, 4096))
        {
            stream.Write(index.WrittenSpan);
        }
        return new Outcome(position, removed, nextOffset);
    }
}

using System.Buffers.Binary;

namespace Broker.Storage;

/// <summary>One `.index` entry: a batch's base offset relative to the segment and the batch's file position.</summary>
internal readonly record struct OffsetEntry(int RelativeOffset, int Position) : IIndexEntry<OffsetEntry>
{
    public static int Size => 8;

    public static OffsetEntry Read(ReadOnlySpan<byte> source) =>
        new(BinaryPrimitives.ReadInt32BigEndian(source), BinaryPrimitives.ReadInt32BigEndian(source[4..]));

    public void Write(Span<byte> destination)
    {
        BinaryPrimitives.WriteInt32BigEndian(destination, RelativeOffset);
        BinaryPrimitives.WriteInt32BigEndian(destination[4..], Position);
    }

    public bool IsZero => RelativeOffset == 0 && Position == 0;
}

/// <summary>
/// Sparse offset index of one segment (`.index`): maps batch base offsets to file positions, one entry per
/// index.interval.bytes of log. A lookup gives a position at or before the batch holding an offset; the reader
/// scans batch headers forward from there.
/// </summary>
internal sealed class OffsetIndex(IndexFile<OffsetEntry> file, long baseOffset) : IDisposable
{
    public IndexFile<OffsetEntry> File { get; } = file;
    public long BaseOffset { get; } = baseOffset;

    public int Count => File.Count;

    public void Append(long offset, int position) =>
        File.Append(new OffsetEntry(checked((int)(offset - BaseOffset)), position));

    /// <summary>Position of the last indexed batch whose base offset is at or below <paramref name="offset"/> (0 if none).</summary>
    public int Lookup(long offset)
    {
        var entries = File.Snapshot();
        long relative = offset - BaseOffset;
        int lo = 0, hi = entries.Length - 1, found = -1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            if (entries[mid].RelativeOffset <= relative) { found = mid; lo = mid + 1; }
            else hi = mid - 1;
        }
        return found < 0 ? 0 : entries[found].Position;
    }

    /// <summary>The last entry, if any (used to resume scanning near the end of a segment).</summary>
    public OffsetEntry? Last
    {
        get
        {
            var entries = File.Snapshot();
            return entries.Length == 0 ? null : entries[^1];
        }
    }

    /// <summary>
    /// Structural checks on a loaded index: strictly increasing offsets and positions, every position inside the
    /// segment and past the first batch. False means the index must be rebuilt from the log.
    /// </summary>
    public bool IsStructurallyValid(long segmentSize)
    {
        var entries = File.Snapshot();
        int prevOffset = 0, prevPosition = 0;
        foreach (var e in entries)
        {
            if (e.RelativeOffset <= prevOffset || e.Position <= prevPosition || e.Position >= segmentSize) return false;
            prevOffset = e.RelativeOffset;
            prevPosition = e.Position;
        }
        return true;
    }

    public void Dispose() => File.Dispose();
}

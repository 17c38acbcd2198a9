using System.Buffers.Binary;

namespace Broker.Storage;

/// <summary>One `.timeindex` entry: a max timestamp so far and the relative offset of the batch that first reached it.</summary>
internal readonly record struct TimeEntry(long Timestamp, int RelativeOffset) : IIndexEntry<TimeEntry>
{
    public static int Size => 12;

    public static TimeEntry Read(ReadOnlySpan<byte> source) =>
        new(BinaryPrimitives.ReadInt64BigEndian(source), BinaryPrimitives.ReadInt32BigEndian(source[8..]));

    public void Write(Span<byte> destination)
    {
        BinaryPrimitives.WriteInt64BigEndian(destination, Timestamp);
        BinaryPrimitives.WriteInt32BigEndian(destination[8..], RelativeOffset);
    }

    public bool IsZero => Timestamp == 0 && RelativeOffset == 0;
}

/// <summary>
/// Sparse time index of one segment (`.timeindex`). Entries have strictly increasing timestamps; each names the
/// first batch whose max timestamp reached that value, so every batch before it is older. The last entry is the
/// segment's largest timestamp (a final entry is added when the segment is sealed).
/// </summary>
internal sealed class TimeIndex(IndexFile<TimeEntry> file, long baseOffset) : IDisposable
{
    public IndexFile<TimeEntry> File { get; } = file;
    public long BaseOffset { get; } = baseOffset;

    public int Count => File.Count;

    public TimeEntry? Last
    {
        get
        {
            var entries = File.Snapshot();
            return entries.Length == 0 ? null : entries[^1];
        }
    }

    /// <summary>Adds an entry when <paramref name="timestamp"/> is newer than the last one.</summary>
    public void MaybeAppend(long timestamp, long offset)
    {
        var last = Last;
        if (last is { } l && timestamp <= l.Timestamp) return;
        if (last is null && timestamp < 0) return;
        File.Append(new TimeEntry(timestamp, checked((int)(offset - BaseOffset))));
    }

    /// <summary>
    /// An offset from which a forward scan finds the first batch with max timestamp &gt;= <paramref name="timestamp"/>:
    /// the offset of the last entry whose timestamp is at or below it, else the segment base.
    /// </summary>
    public long LookupStartOffset(long timestamp)
    {
        var entries = File.Snapshot();
        int lo = 0, hi = entries.Length - 1, found = -1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            if (entries[mid].Timestamp <= timestamp) { found = mid; lo = mid + 1; }
            else hi = mid - 1;
        }
        return found < 0 ? BaseOffset : BaseOffset + entries[found].RelativeOffset;
    }

    /// <summary>Strictly increasing timestamps and offsets, offsets inside [base, nextOffset).</summary>
    public bool IsStructurallyValid(long nextOffset)
    {
        var entries = File.Snapshot();
        long prevTs = long.MinValue;
        int prevOffset = -1;
        foreach (var e in entries)
        {
            if (e.Timestamp <= prevTs || e.RelativeOffset <= prevOffset || BaseOffset + e.RelativeOffset >= nextOffset)
                return false;
            prevTs = e.Timestamp;
            prevOffset = e.RelativeOffset;
        }
        return true;
    }

    public void Dispose() => File.Dispose();
}

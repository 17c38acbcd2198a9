using System.Buffers.Binary;
using Broker.Core.Records;

namespace Broker.Storage;

/// <summary>Header-level walking of stored batches (no CRC): the read path and index rebuilds use it.</summary>
internal static class BatchScan
{
    private const int MinBatchLength = RecordBatchHeader.Size - RecordBatchHeader.LogOverhead;

    /// <summary>
    /// Reads the header of the batch starting at <paramref name="position"/> when it looks sane: magic 2, a length
    /// at least a header's, and the whole batch inside <paramref name="end"/>.
    /// </summary>
    public static bool TryReadHeader(ReadOnlySpan<byte> data, int position, int end, out RecordBatchHeader header)
    {
        header = default;
        if (position < 0 || end - position < RecordBatchHeader.Size) return false;
        var span = data[position..end];
        int length = BinaryPrimitives.ReadInt32BigEndian(span[RecordBatchHeader.BatchLengthOffset..]);
        if (length < MinBatchLength || span[RecordBatchHeader.MagicOffset] != 2) return false;
        if ((long)length + RecordBatchHeader.LogOverhead > span.Length) return false;
        return RecordBatchHeader.TryRead(span, out header) && header.LastOffsetDelta >= 0;
    }

    /// <summary>
    /// From a position at or before the batch holding <paramref name="offset"/>, walks forward to that batch.
    /// Returns its position, or -1 when the data ends (or stops making sense) first.
    /// </summary>
    public static int FindBatch(ReadOnlySpan<byte> data, int position, int end, long offset, out RecordBatchHeader header)
    {
        while (TryReadHeader(data, position, end, out header))
        {
            if (header.LastOffset >= offset) return position;
            position += header.TotalSize;
        }
        header = default;
        return -1;
    }
}

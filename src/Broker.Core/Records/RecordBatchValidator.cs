using System.Buffers.Binary;
using Broker.Core.Hashing;

namespace Broker.Core.Records;

/// <summary>Why a run of bytes is not a sequence of valid v2 record batches.</summary>
public enum BatchError
{
    None = 0,
    /// <summary>Fewer bytes than the header or than batchLength says: a torn write or a partial fetch tail.</summary>
    Truncated,
    /// <summary>batchLength smaller than the fixed header or larger than allowed.</summary>
    BadLength,
    /// <summary>magic is not 2.</summary>
    UnsupportedMagic,
    /// <summary>CRC-32C over attributes..end does not match.</summary>
    CrcMismatch,
    /// <summary>recordsCount or lastOffsetDelta are inconsistent.</summary>
    BadRecordCount,
}

/// <summary>
/// Walks and validates a run of record batches: header, length bounds, magic 2 and CRC-32C.
/// Used by Produce (before appending) and by storage recovery (to find a torn or corrupt tail).
/// </summary>
public static class RecordBatchValidator
{
    /// <summary>Validates the batch at the start of <paramref name="bytes"/> and returns its total size.</summary>
    public static BatchError ValidateOne(ReadOnlySpan<byte> bytes, int maxBatchBytes, out RecordBatchHeader header)
    {
        if (!RecordBatchHeader.TryRead(bytes, out header))
            return bytes.Length > RecordBatchHeader.MagicOffset && bytes[RecordBatchHeader.MagicOffset] != 2
                ? BatchError.UnsupportedMagic : BatchError.Truncated;
        if (header.BatchLength < RecordBatchHeader.Size - RecordBatchHeader.LogOverhead) return BatchError.BadLength;
        if (header.Magic != 2) return BatchError.UnsupportedMagic;
        long totalSize = (long)header.BatchLength + RecordBatchHeader.LogOverhead; // batchLength may be near int.MaxValue
        if (totalSize > maxBatchBytes) return BatchError.BadLength;
        if (bytes.Length < totalSize) return BatchError.Truncated;
        if (header.RecordsCount < 0 || header.LastOffsetDelta < 0) return BatchError.BadRecordCount;
        uint crc = Crc32C.Compute(bytes.Slice(RecordBatchHeader.AttributesOffset, header.TotalSize - RecordBatchHeader.AttributesOffset));
        return crc == header.Crc ? BatchError.None : BatchError.CrcMismatch;
    }

    /// <summary>
    /// Validates every batch in <paramref name="bytes"/>. Returns the number of valid bytes from the start
    /// (a whole number of batches) and the error that stopped the walk (None if all bytes were valid batches).
    /// </summary>
    public static int ValidatePrefix(ReadOnlySpan<byte> bytes, int maxBatchBytes, out BatchError error, out int batchCount)
    {
        int pos = 0;
        batchCount = 0;
        error = BatchError.None;
        while (pos < bytes.Length)
        {
            error = ValidateOne(bytes[pos..], maxBatchBytes, out var h);
            if (error != BatchError.None) return pos;
            pos += h.TotalSize;
            batchCount++;
        }
        return pos;
    }

    /// <summary>Recomputes and stores the CRC of a batch whose covered bytes were changed (e.g. LogAppendTime).</summary>
    public static void RewriteCrc(Span<byte> batch)
    {
        int length = BinaryPrimitives.ReadInt32BigEndian(batch[RecordBatchHeader.BatchLengthOffset..]) + RecordBatchHeader.LogOverhead;
        uint crc = Crc32C.Compute(batch.Slice(RecordBatchHeader.AttributesOffset, length - RecordBatchHeader.AttributesOffset));
        BinaryPrimitives.WriteUInt32BigEndian(batch[RecordBatchHeader.CrcOffset..], crc);
    }
}

using System.Buffers;
using System.Buffers.Binary;
using Broker.Compression;
using Broker.Core.Hashing;
using Broker.Core.Model;
using Broker.Core.Records;

namespace Broker.Server.Partitions;

/// <summary>
/// The topic's compression.type applied on append (Kafka's LogValidator recompression): when the partition's target
/// codec is set (not "producer") and differs from the produced batch's codec, the records are decompressed, checked
/// and compressed again with the target codec, and the batch is rebuilt around them: baseOffset, partitionLeaderEpoch,
/// lastOffsetDelta, timestamps, producer id/epoch/base sequence and record count are kept, and so are the attribute
/// bits other than the codec (timestamp type, transactional, control); batch length and CRC-32C are recomputed.
/// Control batches are never recompressed. Errors: a corrupt compressed payload, or decompressed records that do not
/// match the header (count, offset deltas, framing) → CORRUPT_MESSAGE; a rebuilt batch above max.message.bytes →
/// MESSAGE_TOO_LARGE; a codec whose system library is missing → UNSUPPORTED_COMPRESSION_TYPE.
/// The rebuilt batch lives in an <see cref="ArrayPool{T}"/> array that <see cref="RecompressedBatch.Dispose"/>
/// returns (after the append). Nothing is allocated per record.
/// </summary>
public static class ProduceRecompression
{
    /// <summary>
    /// Rebuilds <paramref name="batch"/> (one batch, already checked by <see cref="ProduceBatchCheck"/>) with the
    /// <paramref name="target"/> codec when that differs from its own. Returns an empty
    /// <see cref="RecompressedBatch"/> (<see cref="RecompressedBatch.IsRecompressed"/> false) when the batch is to be
    /// stored as produced or when <paramref name="error"/> is not NONE (then <paramref name="message"/> says why).
    /// </summary>
    /// <param name="target">The partition's <c>LogOptions.TargetCompression</c>; null keeps the producer's codec.</param>
    /// <param name="maxMessageBytes">max.message.bytes: the largest rebuilt batch accepted.</param>
    public static RecompressedBatch Apply(ReadOnlySpan<byte> batch, CompressionCodec? target, int maxMessageBytes,
        out ErrorCode error, out string? message)
    {
        error = ErrorCode.None;
        message = null;
        if (target is not { } to) return default;
        if (!RecordBatchHeader.TryRead(batch, out var header) || header.TotalSize < RecordBatchHeader.Size || header.TotalSize > batch.Length)
            return Fail(ErrorCode.CorruptMessage, "record batch is truncated or has an invalid length", out error, out message);
        var from = header.Compression;
        if (from == to || header.IsControl) return default;
        if (from > CompressionCodec.Zstd)
            return Fail(ErrorCode.InvalidRecord, $"unknown compression codec {(int)from}", out error, out message);
        if (to > CompressionCodec.Zstd)
            return Fail(ErrorCode.UnsupportedCompressionType, $"unknown target compression codec {(int)to}", out error, out message);
        if (!Codecs.IsAvailable(from, out string? reason) || !Codecs.IsAvailable(to, out reason))
            return Fail(ErrorCode.UnsupportedCompressionType, $"cannot recompress {Codecs.Name(from)} to {Codecs.Name(to)}: {reason}", out error, out message);

        var whole = batch[..header.TotalSize];
        var section = whole[RecordBatchHeader.Size..];
        PooledBufferWriter? plain = null;
        var output = new PooledBufferWriter(EstimateOutput(section.Length, from, to));
        try
        {
            ReadOnlySpan<byte> records;
            if (from == CompressionCodec.None)
            {
                records = section; // ProduceBatchCheck walked and validated these records already
            }
            else
            {
                // Decompress behind a copy of the header so the records can be walked and checked; when the target is
                // "uncompressed" that copy already is the output.
                var into = to == CompressionCodec.None ? output : (plain = new PooledBufferWriter(EstimateUncompressed(section.Length)));
                if (!TryDecompress(whole, header, from, maxMessageBytes, into, out error, out message)) return default;
                records = into.WrittenSpan[RecordBatchHeader.Size..];
            }
            if (to != CompressionCodec.None)
            {
                output.Write(whole[..RecordBatchHeader.Size]);
                try
                {
                    Codecs.Compress(to, records, output);
                }
                catch (CompressionException ex)
                {
                    return Fail(ErrorCode.UnknownServerError, $"recompression to {Codecs.Name(to)} failed: {ex.Message}", out error, out message);
                }
            }
            var rebuilt = output.WrittenSpan;
            if (rebuilt.Length > maxMessageBytes)
                return Fail(ErrorCode.MessageTooLarge,
                    $"record batch recompressed to {Codecs.Name(to)} is {rebuilt.Length} bytes, larger than max.message.bytes={maxMessageBytes}",
                    out error, out message);
            Seal(output.WrittenSpan, (short)((header.Attributes & ~RecordBatchHeader.CompressionMask) | (byte)to));
            return new RecompressedBatch(output.Detach(out int length), length);
        }
        finally
        {
            plain?.Dispose();
            output.Dispose();
        }
    }

    /// <summary>
    /// Writes the header and the decompressed records of <paramref name="whole"/> to <paramref name="into"/>, marks the
    /// copy uncompressed and checks its records against the header (Kafka's inner-record checks).
    /// </summary>
    private static bool TryDecompress(ReadOnlySpan<byte> whole, in RecordBatchHeader header, CompressionCodec from,
        int maxMessageBytes, PooledBufferWriter into, out ErrorCode error, out string? message)
    {
        error = ErrorCode.None;
        message = null;
        into.Write(whole[..RecordBatchHeader.Size]);
        int limit = Math.Max(Codecs.DefaultMaxUncompressedBytes, maxMessageBytes);
        try
        {
            Codecs.Decompress(from, whole[RecordBatchHeader.Size..], into, limit);
        }
        catch (CompressionException ex)
        {
            Fail(ErrorCode.CorruptMessage, $"{Codecs.Name(from)} records of the batch cannot be decompressed: {ex.Message}", out error, out message);
            return false;
        }
        var plain = into.WrittenSpan;
        Seal(plain, (short)(header.Attributes & ~RecordBatchHeader.CompressionMask), crc: false);
        if (!RecordReader.Validate(plain, out string? reason))
        {
            Fail(ErrorCode.CorruptMessage,
                $"decompressed {Codecs.Name(from)} records do not match the batch header ({header.RecordsCount} records declared): {reason}",
                out error, out message);
            return false;
        }
        return true;
    }

    /// <summary>Rewrites attributes, batch length and (unless told otherwise) the CRC-32C of an assembled batch.</summary>
    private static void Seal(Span<byte> batch, short attributes, bool crc = true)
    {
        BinaryPrimitives.WriteInt16BigEndian(batch[RecordBatchHeader.AttributesOffset..], attributes);
        BinaryPrimitives.WriteInt32BigEndian(batch[RecordBatchHeader.BatchLengthOffset..], batch.Length - RecordBatchHeader.LogOverhead);
        if (crc)
            BinaryPrimitives.WriteUInt32BigEndian(batch[RecordBatchHeader.CrcOffset..], Crc32C.Compute(batch[RecordBatchHeader.AttributesOffset..]));
    }

    /// <summary>First guess of the rebuilt batch's size (the writer grows when it is wrong).</summary>
    private static int EstimateOutput(int sectionLength, CompressionCodec from, CompressionCodec to) =>
        RecordBatchHeader.Size + (to == CompressionCodec.None ? EstimateUncompressed(sectionLength)
            : from == CompressionCodec.None ? sectionLength / 2 + 256 : sectionLength + 256);

    private static int EstimateUncompressed(int compressedLength) => (int)Math.Min((long)compressedLength * 4 + 256, 16 << 20);

    private static RecompressedBatch Fail(ErrorCode code, string text, out ErrorCode error, out string? message)
    {
        error = code;
        message = text;
        return default;
    }

}

/// <summary>
/// A batch rebuilt by <see cref="ProduceRecompression.Apply"/> in a pooled array, or nothing (default). Dispose
/// returns the array to the pool: dispose once, after the append, and do not use <see cref="Span"/> afterwards.
/// </summary>
public struct RecompressedBatch : IDisposable
{
    private byte[]? _array;
    private readonly int _length;

    internal RecompressedBatch(byte[] array, int length)
    {
        _array = array;
        _length = length;
    }

    /// <summary>True when a rebuilt batch is held (store it instead of the produced one).</summary>
    public readonly bool IsRecompressed => _array is not null;

    /// <summary>The rebuilt batch; empty when <see cref="IsRecompressed"/> is false.</summary>
    public readonly ReadOnlySpan<byte> Span => _array is null ? default : _array.AsSpan(0, _length);

    public void Dispose()
    {
        byte[]? array = _array;
        _array = null;
        if (array is not null) ArrayPool<byte>.Shared.Return(array);
    }
}

using System.Buffers.Binary;
using Broker.Core.Hashing;
using Broker.Core.Records;

namespace Broker.Compression;

// CONTRACT (lead): the codec helper implements these; signatures are used by Broker.Client, Broker.Http and Broker.Cli.
/// <summary>Compresses and decompresses whole record batches (magic 2): the records section is (de)compressed,
/// the attributes' codec bits, the batch length and the CRC-32C are rewritten.</summary>
public static partial class RecordBatchCompression
{
    private const int CodecMask = RecordBatchHeader.CompressionMask;

    /// <summary>The codec named by a batch's attributes.</summary>
    /// <exception cref="CompressionException">Fewer than 23 bytes, magic other than 2, or codec bits 5–7.</exception>
    public static CompressionCodec CodecOf(ReadOnlySpan<byte> batch)
    {
        if (batch.Length < RecordBatchHeader.AttributesOffset + 2)
            throw new CompressionException($"record batch of {batch.Length} bytes is too short to hold its attributes");
        CheckMagic(batch);
        var codec = (CompressionCodec)(BinaryPrimitives.ReadInt16BigEndian(batch[RecordBatchHeader.AttributesOffset..]) & CodecMask);
        return codec <= CompressionCodec.Zstd ? codec : throw Codecs.UnknownCodec(codec);
    }

    /// <summary>
    /// The batch with its records section decompressed (codec bits cleared, length and CRC recomputed), or a copy of
    /// the batch when it is not compressed. Throws <see cref="CompressionException"/> on corrupt data, an unknown codec,
    /// a missing system library, or output above <paramref name="maxUncompressedBytes"/>.
    /// </summary>
    /// <remarks>The limit applies to the whole decompressed batch, header included. Bytes after the batch's own length
    /// are ignored; a CRC-32C mismatch is corrupt data.</remarks>
    public static byte[] Decompress(ReadOnlySpan<byte> batch, int maxUncompressedBytes = 64 * 1024 * 1024)
    {
        var whole = Slice(batch, out var header);
        var codec = CodecOf(whole);
        if (codec == CompressionCodec.None) return whole.ToArray();
        uint crc = Crc32C.Compute(whole[RecordBatchHeader.AttributesOffset..]);
        if (crc != header.Crc)
            throw new CompressionException($"record batch at offset {header.BaseOffset}: CRC-32C mismatch (stored {header.Crc:x8}, computed {crc:x8}): corrupt batch");
        if (maxUncompressedBytes < RecordBatchHeader.Size)
            throw new CompressionException($"limit of {maxUncompressedBytes} bytes is below the {RecordBatchHeader.Size}-byte batch header");
        var records = whole[RecordBatchHeader.Size..];
        using var writer = new PooledBufferWriter(RecordBatchHeader.Size + Codecs.EstimateUncompressed(records.Length, maxUncompressedBytes));
        writer.Write(whole[..RecordBatchHeader.Size]);
        try
        {
            Codecs.Decompress(codec, records, writer, maxUncompressedBytes - RecordBatchHeader.Size);
        }
        catch (CompressionException ex)
        {
            throw new CompressionException($"record batch at offset {header.BaseOffset}: {ex.Message}", ex);
        }
        return Finish(writer.WrittenSpan, (short)(header.Attributes & ~CodecMask));
    }

    /// <summary>The uncompressed <paramref name="batch"/> with its records section compressed by <paramref name="codec"/>.</summary>
    /// <remarks>Other attribute bits, offsets, timestamps and producer fields are kept; the CRC is recomputed (the input's
    /// CRC is not checked). <see cref="CompressionCodec.None"/> returns a copy.</remarks>
    /// <exception cref="CompressionException">A short, truncated, non-magic-2 or already compressed batch, an unknown
    /// codec, or a missing system library.</exception>
    public static byte[] Compress(ReadOnlySpan<byte> batch, CompressionCodec codec)
    {
        var whole = Slice(batch, out var header);
        var current = CodecOf(whole);
        if (current != CompressionCodec.None)
            throw new CompressionException($"record batch at offset {header.BaseOffset} is already compressed ({Codecs.Name(current)})");
        if (codec == CompressionCodec.None) return whole.ToArray();
        if (codec > CompressionCodec.Zstd) throw Codecs.UnknownCodec(codec);
        var records = whole[RecordBatchHeader.Size..];
        using var writer = new PooledBufferWriter(RecordBatchHeader.Size + records.Length / 2 + 256);
        writer.Write(whole[..RecordBatchHeader.Size]);
        Codecs.Compress(codec, records, writer);
        return Finish(writer.WrittenSpan, (short)((header.Attributes & ~CodecMask) | (byte)codec));
    }

    /// <summary>The batch's own bytes (its length field says how many), after checking the header.</summary>
    private static ReadOnlySpan<byte> Slice(ReadOnlySpan<byte> batch, out RecordBatchHeader header)
    {
        if (!RecordBatchHeader.TryRead(batch, out header))
            throw new CompressionException($"record batch of {batch.Length} bytes is shorter than its {RecordBatchHeader.Size}-byte header");
        CheckMagic(batch);
        long total = (long)header.BatchLength + RecordBatchHeader.LogOverhead;
        if (total < RecordBatchHeader.Size)
            throw new CompressionException($"record batch at offset {header.BaseOffset}: length {header.BatchLength} is shorter than its header");
        if (total > batch.Length)
            throw new CompressionException($"record batch at offset {header.BaseOffset} truncated: {total} bytes declared, {batch.Length} present");
        return batch[..(int)total];
    }

    private static void CheckMagic(ReadOnlySpan<byte> batch)
    {
        if (batch.Length > RecordBatchHeader.MagicOffset && batch[RecordBatchHeader.MagicOffset] != 2)
            throw new CompressionException($"record batch magic {(sbyte)batch[RecordBatchHeader.MagicOffset]} is not supported (only magic 2)");
    }

    /// <summary>Copies the assembled batch out and rewrites attributes, batch length and CRC-32C.</summary>
    private static byte[] Finish(ReadOnlySpan<byte> assembled, short attributes)
    {
        byte[] result = assembled.ToArray();
        var span = result.AsSpan();
        BinaryPrimitives.WriteInt16BigEndian(span[RecordBatchHeader.AttributesOffset..], attributes);
        BinaryPrimitives.WriteInt32BigEndian(span[RecordBatchHeader.BatchLengthOffset..], result.Length - RecordBatchHeader.LogOverhead);
        BinaryPrimitives.WriteUInt32BigEndian(span[RecordBatchHeader.CrcOffset..], Crc32C.Compute(span[RecordBatchHeader.AttributesOffset..]));
        return result;
    }
}

/// <summary>Corrupt compressed data, an unknown codec, a codec whose system library is missing, or an output limit hit.</summary>
public sealed class CompressionException(string message, Exception? inner = null) : Exception(message, inner);

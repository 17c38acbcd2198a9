namespace Broker.Compression;

// CONTRACT (lead): the codec helper implements these; signatures are used by Broker.Client, Broker.Http and Broker.Cli.
/// <summary>Compresses and decompresses whole record batches (magic 2): the records section is (de)compressed,
/// the attributes' codec bits, the batch length and the CRC-32C are rewritten.</summary>
public static partial class RecordBatchCompression
{
    /// <summary>The codec named by a batch's attributes.</summary>
    public static CompressionCodec CodecOf(ReadOnlySpan<byte> batch) => throw new NotImplementedException();

    /// <summary>
    /// The batch with its records section decompressed (codec bits cleared, length and CRC recomputed), or a copy of
    /// the batch when it is not compressed. Throws <see cref="CompressionException"/> on corrupt data, an unknown codec,
    /// a missing system library, or output above <paramref name="maxUncompressedBytes"/>.
    /// </summary>
    public static byte[] Decompress(ReadOnlySpan<byte> batch, int maxUncompressedBytes = 64 * 1024 * 1024) => throw new NotImplementedException();

    /// <summary>The uncompressed <paramref name="batch"/> with its records section compressed by <paramref name="codec"/>.</summary>
    public static byte[] Compress(ReadOnlySpan<byte> batch, CompressionCodec codec) => throw new NotImplementedException();
}

/// <summary>Corrupt compressed data, an unknown codec, a codec whose system library is missing, or an output limit hit.</summary>
public sealed class CompressionException(string message, Exception? inner = null) : Exception(message, inner);

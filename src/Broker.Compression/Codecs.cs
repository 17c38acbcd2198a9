using Broker.Core.Records;
using System.Buffers;
using Broker.Compression.Native;

namespace Broker.Compression;

/// <summary>
/// The raw codecs, without any record-batch framing: Kafka's gzip, snappy (xerial framing out; xerial or raw in),
/// lz4 (frame format) and zstd. gzip uses the BCL; the others call the Debian system libraries, loaded on first use.
/// All methods are thread-safe.
/// </summary>
public static class Codecs
{
    /// <summary>The default ceiling on decompressed output.</summary>
    public const int DefaultMaxUncompressedBytes = 64 * 1024 * 1024;

    /// <summary>Appends <paramref name="source"/> compressed by <paramref name="codec"/> to <paramref name="destination"/>.</summary>
    /// <exception cref="CompressionException">Unknown codec or missing system library.</exception>
    public static void Compress(CompressionCodec codec, ReadOnlySpan<byte> source, IBufferWriter<byte> destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        switch (codec)
        {
            case CompressionCodec.None:
                source.CopyTo(destination.GetSpan(source.Length));
                destination.Advance(source.Length);
                break;
            case CompressionCodec.Gzip: GzipCodec.Compress(source, destination); break;
            case CompressionCodec.Snappy: SnappyCodec.Compress(source, destination); break;
            case CompressionCodec.Lz4: Lz4Codec.Compress(source, destination); break;
            case CompressionCodec.Zstd: ZstdCodec.Compress(source, destination); break;
            default: throw UnknownCodec(codec);
        }
    }

    /// <summary>
    /// Appends the decompressed <paramref name="source"/> to <paramref name="destination"/> and returns the number of
    /// bytes appended. Throws <see cref="CompressionException"/> on corrupt or truncated data, an unknown codec, a missing
    /// system library, or output above <paramref name="maxUncompressedBytes"/> (then some output may have been appended).
    /// </summary>
    public static int Decompress(CompressionCodec codec, ReadOnlySpan<byte> source, IBufferWriter<byte> destination,
        int maxUncompressedBytes = DefaultMaxUncompressedBytes)
    {
        ArgumentNullException.ThrowIfNull(destination);
        ArgumentOutOfRangeException.ThrowIfNegative(maxUncompressedBytes);
        switch (codec)
        {
            case CompressionCodec.None:
                if (source.Length > maxUncompressedBytes)
                    throw new CompressionException($"data of {source.Length} bytes exceeds the limit of {maxUncompressedBytes} bytes");
                source.CopyTo(destination.GetSpan(source.Length));
                destination.Advance(source.Length);
                return source.Length;
            case CompressionCodec.Gzip: return GzipCodec.Decompress(source, destination, maxUncompressedBytes);
            case CompressionCodec.Snappy: return SnappyCodec.Decompress(source, destination, maxUncompressedBytes);
            case CompressionCodec.Lz4: return Lz4Codec.Decompress(source, destination, maxUncompressedBytes);
            case CompressionCodec.Zstd: return ZstdCodec.Decompress(source, destination, maxUncompressedBytes);
            default: throw UnknownCodec(codec);
        }
    }

    /// <summary>Convenience: the decompressed data as a new array (same errors as the streaming overload).</summary>
    public static byte[] Decompress(CompressionCodec codec, ReadOnlySpan<byte> source, int maxUncompressedBytes = DefaultMaxUncompressedBytes)
    {
        using var writer = new PooledBufferWriter(EstimateUncompressed(source.Length, maxUncompressedBytes));
        Decompress(codec, source, writer, maxUncompressedBytes);
        return writer.WrittenSpan.ToArray();
    }

    /// <summary>Convenience: the compressed data as a new array.</summary>
    public static byte[] Compress(CompressionCodec codec, ReadOnlySpan<byte> source)
    {
        using var writer = new PooledBufferWriter(source.Length / 2 + 64);
        Compress(codec, source, writer);
        return writer.WrittenSpan.ToArray();
    }

    /// <summary>One raw snappy block without xerial framing (what librdkafka writes); for tests and tools.</summary>
    public static void CompressSnappyRaw(ReadOnlySpan<byte> source, IBufferWriter<byte> destination) =>
        SnappyCodec.CompressRaw(source, destination);

    /// <summary>Whether <paramref name="codec"/> can be used here; <paramref name="reason"/> says why not (e.g. which
    /// Debian package to install). Loads the codec's system library if it was not loaded yet.</summary>
    public static bool IsAvailable(CompressionCodec codec, out string? reason)
    {
        reason = codec switch
        {
            CompressionCodec.None or CompressionCodec.Gzip => null,
            CompressionCodec.Snappy => SnappyNative.Probe.Error,
            CompressionCodec.Lz4 => Lz4Native.Probe.Error,
            CompressionCodec.Zstd => ZstdNative.Probe.Error,
            _ => $"unknown compression codec {(int)codec}",
        };
        return reason is null;
    }

    /// <summary>The lower-case name Kafka configs use (none, gzip, snappy, lz4, zstd).</summary>
    public static string Name(CompressionCodec codec) => codec switch
    {
        CompressionCodec.None => "none",
        CompressionCodec.Gzip => "gzip",
        CompressionCodec.Snappy => "snappy",
        CompressionCodec.Lz4 => "lz4",
        CompressionCodec.Zstd => "zstd",
        _ => $"codec-{(int)codec}",
    };

    /// <summary>Parses a Kafka compression.type value (none, gzip, snappy, lz4, zstd; case-insensitive).</summary>
    public static bool TryParse(string? name, out CompressionCodec codec)
    {
        codec = CompressionCodec.None;
        if (name is null) return false;
        for (var c = CompressionCodec.None; c <= CompressionCodec.Zstd; c++)
        {
            if (string.Equals(name.Trim(), Name(c), StringComparison.OrdinalIgnoreCase))
            {
                codec = c;
                return true;
            }
        }
        return false;
    }

    internal static int EstimateUncompressed(int compressedLength, int maxUncompressedBytes) =>
        (int)Math.Min((long)compressedLength * 4 + 256, Math.Max(maxUncompressedBytes, 256));

    internal static CompressionException UnknownCodec(CompressionCodec codec) =>
        new($"unknown compression codec {(int)codec} (Kafka knows 0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd)");
}

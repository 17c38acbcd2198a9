using System.Buffers;
using System.Buffers.Binary;
using Broker.Compression.Native;

namespace Broker.Compression;

/// <summary>
/// Snappy as Kafka clients write it: the Java client's xerial framing (8-byte magic 0x82 "SNAPPY" 0, int32 version,
/// int32 compatible version, then blocks of [int32 big-endian length][raw snappy]) or, from librdkafka, one raw snappy
/// block. Decompression reads both; compression writes xerial framing with 32 KiB blocks, as the Java client does.
/// </summary>
internal static unsafe class SnappyCodec
{
    public const int XerialHeaderSize = 16;
    /// <summary>The uncompressed size of each xerial block we write (xerial's default).</summary>
    public const int XerialBlockSize = 32 * 1024;

    private static ReadOnlySpan<byte> XerialMagic => [0x82, (byte)'S', (byte)'N', (byte)'A', (byte)'P', (byte)'P', (byte)'Y', 0];

    /// <summary>True when <paramref name="data"/> starts with a complete xerial header.</summary>
    public static bool IsXerial(ReadOnlySpan<byte> data) =>
        data.Length >= XerialHeaderSize && data[..XerialMagic.Length].SequenceEqual(XerialMagic);

    public static void Compress(ReadOnlySpan<byte> source, IBufferWriter<byte> destination)
    {
        SnappyNative.Probe.Ensure();
        var header = destination.GetSpan(XerialHeaderSize);
        XerialMagic.CopyTo(header);
        BinaryPrimitives.WriteInt32BigEndian(header[8..], 1);  // version
        BinaryPrimitives.WriteInt32BigEndian(header[12..], 1); // compatible version
        destination.Advance(XerialHeaderSize);
        int position = 0;
        // At least one block, even for empty input: kafka-python only recognises xerial data longer than the header.
        do
        {
            int length = Math.Min(XerialBlockSize, source.Length - position);
            position += CompressRaw(source.Slice(position, length), destination, lengthPrefix: true);
        }
        while (position < source.Length);
    }

    /// <summary>One raw snappy block (no framing), as librdkafka writes it.</summary>
    public static void CompressRaw(ReadOnlySpan<byte> source, IBufferWriter<byte> destination)
    {
        SnappyNative.Probe.Ensure();
        CompressRaw(source, destination, lengthPrefix: false);
    }

    public static int Decompress(ReadOnlySpan<byte> source, IBufferWriter<byte> destination, int maxBytes)
    {
        SnappyNative.Probe.Ensure();
        var limit = new OutputLimit("snappy", maxBytes);
        if (!IsXerial(source))
        {
            DecompressBlock(source, destination, ref limit);
            return limit.Total;
        }
        int position = XerialHeaderSize;
        while (position < source.Length)
        {
            if (source.Length - position < 4)
                throw new CompressionException($"snappy: xerial block length truncated at byte {position} of {source.Length}");
            int length = BinaryPrimitives.ReadInt32BigEndian(source[position..]);
            position += 4;
            if (length < 0 || length > source.Length - position)
                throw new CompressionException($"snappy: xerial block of {length} bytes at byte {position - 4} overruns the {source.Length}-byte data (truncated or corrupt)");
            DecompressBlock(source.Slice(position, length), destination, ref limit);
            position += length;
        }
        return limit.Total;
    }

    private static int CompressRaw(ReadOnlySpan<byte> source, IBufferWriter<byte> destination, bool lengthPrefix)
    {
        int prefix = lengthPrefix ? 4 : 0;
        nuint bound = SnappyNative.MaxCompressedLength((nuint)source.Length);
        if (bound > (nuint)(Array.MaxLength - prefix)) throw new CompressionException($"snappy: {source.Length} bytes are too many to compress in one block");
        var span = destination.GetSpan(prefix + (int)bound);
        nuint written = bound;
        int status;
        fixed (byte* input = source)
        fixed (byte* output = span)
        {
            status = SnappyNative.Compress(input, (nuint)source.Length, output + prefix, &written);
        }
        if (status != SnappyNative.Ok) throw new CompressionException($"snappy: compression failed (status {status})");
        if (lengthPrefix) BinaryPrimitives.WriteInt32BigEndian(span, (int)written);
        destination.Advance(prefix + (int)written);
        return source.Length;
    }

    private static void DecompressBlock(ReadOnlySpan<byte> block, IBufferWriter<byte> destination, ref OutputLimit limit)
    {
        if (block.IsEmpty) throw new CompressionException("snappy: empty block (truncated data)");
        fixed (byte* input = block)
        {
            nuint length;
            int status = SnappyNative.UncompressedLength(input, (nuint)block.Length, &length);
            if (status != SnappyNative.Ok) throw new CompressionException("snappy: corrupt block (bad length header)");
            limit.Check(length > (nuint)int.MaxValue ? long.MaxValue : (long)length);
            var span = destination.GetSpan(Math.Max(1, (int)length));
            nuint written = length;
            fixed (byte* output = span)
            {
                status = SnappyNative.Uncompress(input, (nuint)block.Length, output, &written);
            }
            if (status != SnappyNative.Ok || written != length)
                throw new CompressionException($"snappy: corrupt block of {block.Length} bytes (status {status})");
            limit.Commit(destination, (int)written);
        }
    }
}

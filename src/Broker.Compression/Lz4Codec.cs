using System.Buffers;
using Broker.Compression.Native;

namespace Broker.Compression;

/// <summary>
/// LZ4 frame format (magic 0x184D2204), the lz4 of record-batch magic 2. Compression writes what Kafka's Java
/// producer writes: 64 KiB independent blocks, no checksums, no content size. Decompression streams block by block
/// under the output limit and accepts any valid frame (checksums, content size, concatenated frames).
/// </summary>
internal static unsafe class Lz4Codec
{
    private static readonly NativeHandlePool DecompressionContexts = new(Environment.ProcessorCount * 2,
        static () => Lz4Native.CreateDecompressionContext(), static h => Lz4Native.FreeDecompressionContext(h));

    public static void Compress(ReadOnlySpan<byte> source, IBufferWriter<byte> destination)
    {
        Lz4Native.Probe.Ensure();
        var preferences = new Lz4Native.Preferences
        {
            FrameInfo = new Lz4Native.FrameInfo { BlockSizeId = Lz4Native.BlockSize64K, BlockMode = Lz4Native.BlockIndependent },
        };
        nuint bound = Lz4Native.CompressFrameBound((nuint)source.Length, &preferences);
        if (Lz4Native.IsError(bound) != 0 || bound > (nuint)Array.MaxLength)
            throw new CompressionException($"lz4: {source.Length} bytes are too many to compress in one frame");
        var span = destination.GetSpan((int)bound);
        nuint written;
        fixed (byte* input = source)
        fixed (byte* output = span)
        {
            written = Lz4Native.CompressFrame(output, (nuint)span.Length, input, (nuint)source.Length, &preferences);
        }
        if (Lz4Native.IsError(written) != 0) throw new CompressionException($"lz4: compression failed ({Lz4Native.ErrorName(written)})");
        destination.Advance((int)written);
    }

    public static int Decompress(ReadOnlySpan<byte> source, IBufferWriter<byte> destination, int maxBytes)
    {
        Lz4Native.Probe.Ensure();
        var limit = new OutputLimit("lz4", maxBytes);
        nint context = DecompressionContexts.Rent();
        bool completed = false;
        try
        {
            Lz4Native.ResetDecompressionContext(context);
            fixed (byte* input = source)
            {
                int position = 0;
                while (true)
                {
                    var span = limit.NextSpan(destination);
                    nuint produced = (nuint)span.Length;
                    nuint consumed = (nuint)(source.Length - position);
                    nuint hint;
                    fixed (byte* output = span)
                    {
                        hint = Lz4Native.Decompress(context, output, &produced, input + position, &consumed, null);
                    }
                    if (Lz4Native.IsError(hint) != 0) throw new CompressionException($"lz4: corrupt frame ({Lz4Native.ErrorName(hint)})");
                    position += (int)consumed;
                    limit.Commit(destination, (int)produced);
                    if (hint == 0 && position == source.Length) // frame complete, input used up
                    {
                        completed = true;
                        return limit.Total;
                    }
                    if (produced == 0 && consumed == 0)
                        throw new CompressionException(position == source.Length
                            ? $"lz4: frame truncated after {source.Length} bytes"
                            : $"lz4: decoder stalled at byte {position} of {source.Length}");
                }
            }
        }
        finally
        {
            // liblz4 1.9.4's reset keeps the remaining content size of a frame abandoned midway, which then fails the
            // next frame that declares no size (ERROR_frameSize_wrong): only contexts that finished a frame are reused.
            if (completed) DecompressionContexts.Return(context);
            else Lz4Native.FreeDecompressionContext(context);
        }
    }
}

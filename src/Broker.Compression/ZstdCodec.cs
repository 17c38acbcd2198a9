using System.Buffers;
using System.Numerics;
using Broker.Compression.Native;

namespace Broker.Compression;

/// <summary>
/// Zstandard. Decompression streams (ZSTD_decompressStream), so frames without a content size — what Kafka's Java
/// producer writes — decode under the output limit, and the window a frame may demand is capped. Compression is one
/// shot at level 3 (zstd's and Kafka's default), which records the content size in the frame header.
/// </summary>
internal static unsafe class ZstdCodec
{
    public const int DefaultLevel = 3;
    /// <summary>Windows up to 8 MiB are always accepted (every level up to 19 fits); larger ones only up to the output limit.</summary>
    private const int MinWindowLog = 23;
    private const int MaxWindowLog = 27;

    private static readonly NativeHandlePool DecompressionContexts = new(Environment.ProcessorCount * 2,
        static () => ZstdNative.CreateDCtx(), static h => ZstdNative.FreeDCtx(h));
    private static readonly NativeHandlePool CompressionContexts = new(Environment.ProcessorCount * 2,
        static () => ZstdNative.CreateCCtx(), static h => ZstdNative.FreeCCtx(h));

    public static void Compress(ReadOnlySpan<byte> source, IBufferWriter<byte> destination, int level = DefaultLevel)
    {
        ZstdNative.Probe.Ensure();
        nuint bound = ZstdNative.CompressBound((nuint)source.Length);
        if (ZstdNative.IsError(bound) != 0 || bound > (nuint)Array.MaxLength)
            throw new CompressionException($"zstd: {source.Length} bytes are too many to compress in one frame");
        var span = destination.GetSpan((int)bound);
        nint context = CompressionContexts.Rent();
        nuint written;
        try
        {
            fixed (byte* input = source)
            fixed (byte* output = span)
            {
                written = ZstdNative.CompressCCtx(context, output, (nuint)span.Length, input, (nuint)source.Length, level);
            }
        }
        finally
        {
            CompressionContexts.Return(context);
        }
        if (ZstdNative.IsError(written) != 0) throw new CompressionException($"zstd: compression failed ({ZstdNative.ErrorName(written)})");
        destination.Advance((int)written);
    }

    public static int Decompress(ReadOnlySpan<byte> source, IBufferWriter<byte> destination, int maxBytes)
    {
        ZstdNative.Probe.Ensure();
        var limit = new OutputLimit("zstd", maxBytes);
        nint context = DecompressionContexts.Rent();
        try
        {
            Check(ZstdNative.ResetDCtx(context, ZstdNative.ResetSessionAndParameters));
            int windowLog = Math.Clamp(BitOperations.Log2((uint)Math.Max(maxBytes, 1) - 1) + 1, MinWindowLog, MaxWindowLog);
            Check(ZstdNative.SetDCtxParameter(context, ZstdNative.WindowLogMaxParameter, windowLog));
            fixed (byte* input = source)
            {
                var inBuffer = new ZstdNative.InBuffer { Source = input, Size = (nuint)source.Length };
                while (true)
                {
                    var span = limit.NextSpan(destination);
                    nuint consumedBefore = inBuffer.Position;
                    nuint hint;
                    ZstdNative.OutBuffer outBuffer;
                    fixed (byte* output = span)
                    {
                        outBuffer = new ZstdNative.OutBuffer { Destination = output, Size = (nuint)span.Length };
                        hint = ZstdNative.DecompressStream(context, &outBuffer, &inBuffer);
                    }
                    if (ZstdNative.IsError(hint) != 0) throw new CompressionException($"zstd: corrupt data ({ZstdNative.ErrorName(hint)})");
                    limit.Commit(destination, (int)outBuffer.Position);
                    bool inputDone = inBuffer.Position == inBuffer.Size;
                    if (hint == 0 && inputDone) return limit.Total; // frame complete and flushed, input used up
                    if (outBuffer.Position == 0 && inBuffer.Position == consumedBefore)
                        throw new CompressionException(inputDone
                            ? $"zstd: frame truncated after {source.Length} bytes"
                            : $"zstd: decoder stalled at byte {inBuffer.Position} of {source.Length}");
                }
            }
        }
        finally
        {
            DecompressionContexts.Return(context);
        }
    }

    private static void Check(nuint result)
    {
        if (ZstdNative.IsError(result) != 0) throw new CompressionException($"zstd: {ZstdNative.ErrorName(result)}");
    }
}

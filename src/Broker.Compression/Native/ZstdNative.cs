using System.Runtime.InteropServices;

namespace Broker.Compression.Native;

/// <summary>The zstd API of libzstd (Debian libzstd1): one-shot compression and streaming decompression.</summary>
internal static unsafe partial class ZstdNative
{
    private const string Lib = "libzstd.so.1";

    /// <summary>ZSTD_reset_session_and_parameters.</summary>
    public const int ResetSessionAndParameters = 3;
    /// <summary>ZSTD_d_windowLogMax: the largest window a frame may ask the decoder to allocate.</summary>
    public const int WindowLogMaxParameter = 100;

    public static readonly NativeLibraryProbe Probe = new(Lib, "libzstd1", "zstd",
        "ZSTD_createDCtx", "ZSTD_freeDCtx", "ZSTD_DCtx_reset", "ZSTD_DCtx_setParameter", "ZSTD_decompressStream",
        "ZSTD_createCCtx", "ZSTD_freeCCtx", "ZSTD_compressCCtx", "ZSTD_compressBound", "ZSTD_isError", "ZSTD_getErrorName");

    /// <summary>ZSTD_inBuffer.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct InBuffer
    {
        public byte* Source;
        public nuint Size;
        public nuint Position;
    }

    /// <summary>ZSTD_outBuffer.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct OutBuffer
    {
        public byte* Destination;
        public nuint Size;
        public nuint Position;
    }

    [LibraryImport(Lib, EntryPoint = "ZSTD_createDCtx")]
    public static partial nint CreateDCtx();

    [LibraryImport(Lib, EntryPoint = "ZSTD_freeDCtx")]
    public static partial nuint FreeDCtx(nint context);

    [LibraryImport(Lib, EntryPoint = "ZSTD_DCtx_reset")]
    public static partial nuint ResetDCtx(nint context, int directive);

    [LibraryImport(Lib, EntryPoint = "ZSTD_DCtx_setParameter")]
    public static partial nuint SetDCtxParameter(nint context, int parameter, int value);

    [LibraryImport(Lib, EntryPoint = "ZSTD_decompressStream")]
    public static partial nuint DecompressStream(nint context, OutBuffer* output, InBuffer* input);

    [LibraryImport(Lib, EntryPoint = "ZSTD_createCCtx")]
    public static partial nint CreateCCtx();

    [LibraryImport(Lib, EntryPoint = "ZSTD_freeCCtx")]
    public static partial nuint FreeCCtx(nint context);

    [LibraryImport(Lib, EntryPoint = "ZSTD_compressCCtx")]
    public static partial nuint CompressCCtx(nint context, byte* destination, nuint destinationCapacity, byte* source,
        nuint sourceSize, int level);

    [LibraryImport(Lib, EntryPoint = "ZSTD_compressBound")]
    public static partial nuint CompressBound(nuint sourceSize);

    [LibraryImport(Lib, EntryPoint = "ZSTD_isError")]
    public static partial uint IsError(nuint code);

    [LibraryImport(Lib, EntryPoint = "ZSTD_getErrorName")]
    public static partial byte* GetErrorName(nuint code);

    public static string ErrorName(nuint code) => Marshal.PtrToStringUTF8((nint)GetErrorName(code)) ?? $"error {code}";
}

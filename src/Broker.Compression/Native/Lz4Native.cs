using System.Runtime.InteropServices;

namespace Broker.Compression.Native;

/// <summary>The LZ4 frame API of liblz4 (Debian liblz4-1): LZ4F_* as Kafka's magic-2 lz4 uses it.</summary>
internal static unsafe partial class Lz4Native
{
    private const string Lib = "liblz4.so.1";

    /// <summary>LZ4F_VERSION: the API version contexts are created for.</summary>
    public const uint FrameVersion = 100;
    /// <summary>LZ4F_max64KB: the block size Kafka's Java producer writes.</summary>
    public const int BlockSize64K = 4;
    /// <summary>LZ4F_blockIndependent: Kafka's Java reader requires independent blocks.</summary>
    public const int BlockIndependent = 1;

    public static readonly NativeLibraryProbe Probe = new(Lib, "liblz4-1", "lz4",
        "LZ4F_createDecompressionContext", "LZ4F_freeDecompressionContext", "LZ4F_resetDecompressionContext",
        "LZ4F_decompress", "LZ4F_compressFrame", "LZ4F_compressFrameBound", "LZ4F_isError", "LZ4F_getErrorName");

    /// <summary>LZ4F_frameInfo_t (lz4frame.h, v1.8+).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct FrameInfo
    {
        public int BlockSizeId;
        public int BlockMode;
        public int ContentChecksumFlag;
        public int FrameType;
        public ulong ContentSize;
        public uint DictId;
        public int BlockChecksumFlag;
    }

    /// <summary>LZ4F_preferences_t (lz4frame.h, v1.8+).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct Preferences
    {
        public FrameInfo FrameInfo;
        public int CompressionLevel;
        public uint AutoFlush;
        public uint FavorDecSpeed;
        public uint Reserved0;
        public uint Reserved1;
        public uint Reserved2;
    }

    [LibraryImport(Lib, EntryPoint = "LZ4F_createDecompressionContext")]
    public static partial nuint CreateDecompressionContext(nint* context, uint version);

    [LibraryImport(Lib, EntryPoint = "LZ4F_freeDecompressionContext")]
    public static partial nuint FreeDecompressionContext(nint context);

    [LibraryImport(Lib, EntryPoint = "LZ4F_resetDecompressionContext")]
    public static partial void ResetDecompressionContext(nint context);

    [LibraryImport(Lib, EntryPoint = "LZ4F_decompress")]
    public static partial nuint Decompress(nint context, byte* destination, nuint* destinationSize, byte* source,
        nuint* sourceSize, void* options);

    [LibraryImport(Lib, EntryPoint = "LZ4F_compressFrameBound")]
    public static partial nuint CompressFrameBound(nuint sourceSize, Preferences* preferences);

    [LibraryImport(Lib, EntryPoint = "LZ4F_compressFrame")]
    public static partial nuint CompressFrame(byte* destination, nuint destinationCapacity, byte* source, nuint sourceSize,
        Preferences* preferences);

    [LibraryImport(Lib, EntryPoint = "LZ4F_isError")]
    public static partial uint IsError(nuint code);

    [LibraryImport(Lib, EntryPoint = "LZ4F_getErrorName")]
    public static partial byte* GetErrorName(nuint code);

    public static string ErrorName(nuint code) => Marshal.PtrToStringUTF8((nint)GetErrorName(code)) ?? $"error {code}";

    public static nint CreateDecompressionContext()
    {
        nint context = 0;
        nuint result = CreateDecompressionContext(&context, FrameVersion);
        if (IsError(result) != 0)
        {
            if (context != 0) FreeDecompressionContext(context);
            return 0;
        }
        return context;
    }
}

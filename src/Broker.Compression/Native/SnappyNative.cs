using System.Runtime.InteropServices;

namespace Broker.Compression.Native;

/// <summary>The C API of libsnappy (Debian libsnappy1v5): raw snappy blocks.</summary>
internal static unsafe partial class SnappyNative
{
    private const string Lib = "libsnappy.so.1";

    public const int Ok = 0;
    public const int InvalidInput = 1;
    public const int BufferTooSmall = 2;

    public static readonly NativeLibraryProbe Probe = new(Lib, "libsnappy1v5", "snappy",
        "snappy_compress", "snappy_uncompress", "snappy_uncompressed_length", "snappy_max_compressed_length");

    [LibraryImport(Lib, EntryPoint = "snappy_compress")]
    public static partial int Compress(byte* input, nuint inputLength, byte* compressed, nuint* compressedLength);

    [LibraryImport(Lib, EntryPoint = "snappy_uncompress")]
    public static partial int Uncompress(byte* compressed, nuint compressedLength, byte* uncompressed, nuint* uncompressedLength);

    [LibraryImport(Lib, EntryPoint = "snappy_uncompressed_length")]
    public static partial int UncompressedLength(byte* compressed, nuint compressedLength, nuint* result);

    [LibraryImport(Lib, EntryPoint = "snappy_max_compressed_length")]
    public static partial nuint MaxCompressedLength(nuint sourceLength);
}

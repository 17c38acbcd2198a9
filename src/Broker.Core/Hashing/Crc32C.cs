using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace Broker.Core.Hashing;

/// <summary>
/// CRC-32C (Castagnoli), the checksum of Kafka record batch v2. Uses SSE4.2 / ARMv8 CRC instructions when present
/// (on x64 three independent streams at once for longer inputs, see Crc32C.Interleaved.cs), otherwise a
/// slicing-by-8 table. All paths are checked against the same known vectors in the tests.
/// </summary>
public static partial class Crc32C
{
    private const uint Polynomial = 0x82F63B78u; // reflected 0x1EDC6F41
    private static readonly uint[] Table = BuildTable();

    /// <summary>CRC-32C of <paramref name="data"/> (initial value and final xor applied).</summary>
    public static uint Compute(ReadOnlySpan<byte> data) => ~Update(0xFFFFFFFFu, data);

    /// <summary>Raw running update: feed the previous raw state; the caller applies the initial/final xor.</summary>
    public static uint Update(uint state, ReadOnlySpan<byte> data)
    {
        if (Sse42.X64.IsSupported) return UpdateSse42(state, data);
        if (Crc32.Arm64.IsSupported) return UpdateArm(state, data);
        return UpdateSoftware(state, data);
    }

    /// <summary>The table-driven path, exposed so tests can compare it with the hardware path.</summary>
    public static uint ComputeSoftware(ReadOnlySpan<byte> data) => ~UpdateSoftware(0xFFFFFFFFu, data);

    /// <summary>The hardware path with one stream only (x64), exposed for tests and the benchmarks.</summary>
    public static uint ComputeSingleStream(ReadOnlySpan<byte> data)
    {
        if (!Sse42.X64.IsSupported) return Compute(data);
        return ~UpdateSse42Single(0xFFFFFFFFu, ref MemoryMarshal.GetReference(data), data.Length, 0);
    }

    private static uint UpdateSse42(uint crc, ReadOnlySpan<byte> data)
    {
        ref byte p = ref MemoryMarshal.GetReference(data);
        int i = 0, n = data.Length;
        if (n >= 3 * ShortStripe) crc = UpdateSse42Interleaved(crc, ref p, n, ref i);
        return UpdateSse42Single(crc, ref p, n, i);
    }

    /// <summary>One crc32 dependency chain over bytes [i, n): the tail after the stripes, and short inputs.</summary>
    private static uint UpdateSse42Single(uint crc, ref byte p, int n, int i)
    {
        ulong c = crc;
        for (; i + 8 <= n; i += 8)
            c = Sse42.X64.Crc32(c, Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref p, i)));
        uint r = (uint)c;
        for (; i < n; i++) r = Sse42.Crc32(r, Unsafe.Add(ref p, i));
        return r;
    }

    private static uint UpdateArm(uint crc, ReadOnlySpan<byte> data)
    {
        ref byte p = ref MemoryMarshal.GetReference(data);
        int i = 0, n = data.Length;
        for (; i + 8 <= n; i += 8)
            crc = Crc32.Arm64.ComputeCrc32C(crc, Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref p, i)));
        for (; i < n; i++) crc = Crc32.ComputeCrc32C(crc, Unsafe.Add(ref p, i));
        return crc;
    }

    private static uint UpdateSoftware(uint crc, ReadOnlySpan<byte> data)
    {
        var t = Table;
        int i = 0;
        for (; i + 8 <= data.Length; i += 8)
        {
            uint lo = crc ^ (uint)(data[i] | data[i + 1] << 8 | data[i + 2] << 16 | data[i + 3] << 24);
            uint hi = (uint)(data[i + 4] | data[i + 5] << 8 | data[i + 6] << 16 | data[i + 7] << 24);
            crc = t[7 * 256 + (lo & 0xFF)] ^ t[6 * 256 + ((lo >> 8) & 0xFF)] ^ t[5 * 256 + ((lo >> 16) & 0xFF)] ^
                  t[4 * 256 + (lo >> 24)] ^ t[3 * 256 + (hi & 0xFF)] ^ t[2 * 256 + ((hi >> 8) & 0xFF)] ^
                  t[1 * 256 + ((hi >> 16) & 0xFF)] ^ t[hi >> 24];
        }
        for (; i < data.Length; i++) crc = t[(crc ^ data[i]) & 0xFF] ^ (crc >> 8);
        return crc;
    }

    private static uint[] BuildTable()
    {
        var t = new uint[8 * 256];
        for (uint i = 0; i < 256; i++)
        {
            uint c = i;
            for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? (c >> 1) ^ Polynomial : c >> 1;
            t[i] = c;
        }
        for (int s = 1; s < 8; s++)
            for (int i = 0; i < 256; i++)
                t[s * 256 + i] = (t[(s - 1) * 256 + i] >> 8) ^ t[t[(s - 1) * 256 + i] & 0xFF];
        return t;
    }
}

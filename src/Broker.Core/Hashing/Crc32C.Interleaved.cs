using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace Broker.Core.Hashing;

/// <summary>
/// Three-stream CRC-32C on x64. One crc32 instruction has a latency of about three cycles but the CPU can start one
/// per cycle, so a single dependent chain uses a third of the unit. Here a stripe of 3×L bytes is hashed as three
/// independent chains (the first continues the running state, the other two start from zero), and the chains are
/// joined with the linearity of the CRC register: feeding bytes D to state s gives Z_len(D)(s) xor F(D), where F(D) is
/// the state D gives from zero and Z_n (feeding n zero bytes) is a linear map of the 32-bit state. Z_L is applied as
/// four 256-entry tables (one per state byte), built once from the map's 32 columns.
/// </summary>
public static partial class Crc32C
{
    /// <summary>Stripe lengths (bytes per chain): long inputs use the long one, the rest of 3×short or more the short.</summary>
    private const int LongStripe = 4096, ShortStripe = 256;

    private static readonly uint[] LongShift = Sse42.X64.IsSupported ? BuildShiftTable(LongStripe) : [];
    private static readonly uint[] ShortShift = Sse42.X64.IsSupported ? BuildShiftTable(ShortStripe) : [];

    /// <summary>Hashes whole 3-chain stripes from <paramref name="i"/> on; returns the state and advances i.</summary>
    private static uint UpdateSse42Interleaved(uint crc, ref byte p, int n, ref int i)
    {
        while (n - i >= 3 * LongStripe)
        {
            crc = Stripe(crc, ref Unsafe.Add(ref p, i), LongStripe, LongShift);
            i += 3 * LongStripe;
        }
        while (n - i >= 3 * ShortStripe)
        {
            crc = Stripe(crc, ref Unsafe.Add(ref p, i), ShortStripe, ShortShift);
            i += 3 * ShortStripe;
        }
        return crc;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint Stripe(uint crc, ref byte p, int length, uint[] shift)
    {
        ulong a = crc, b = 0, c = 0;
        ref byte second = ref Unsafe.Add(ref p, length);
        ref byte third = ref Unsafe.Add(ref p, 2 * length);
        for (int j = 0; j < length; j += 8)
        {
            a = Sse42.X64.Crc32(a, Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref p, j)));
            b = Sse42.X64.Crc32(b, Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref second, j)));
            c = Sse42.X64.Crc32(c, Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref third, j)));
        }
        uint joined = Shift(shift, (uint)a) ^ (uint)b;
        return Shift(shift, joined) ^ (uint)c;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint Shift(uint[] table, uint state) =>
        table[state & 0xFF] ^ table[256 + ((state >> 8) & 0xFF)] ^ table[512 + ((state >> 16) & 0xFF)] ^ table[768 + (state >> 24)];

    /// <summary>Tables of Z_length: entry [k*256 + v] is the state that state (v &lt;&lt; 8k) becomes after length zero bytes.</summary>
    private static uint[] BuildShiftTable(int length)
    {
        Span<uint> columns = stackalloc uint[32];
        for (int bit = 0; bit < 32; bit++)
        {
            ulong s = 1u << bit;
            for (int j = 0; j < length; j += 8) s = Sse42.X64.Crc32(s, 0UL);
            columns[bit] = (uint)s;
        }
        var table = new uint[4 * 256];
        for (int k = 0; k < 4; k++)
            for (int v = 0; v < 256; v++)
            {
                uint value = 0;
                for (int bit = 0; bit < 8; bit++)
                    if ((v & (1 << bit)) != 0) value ^= columns[k * 8 + bit];
                table[k * 256 + v] = value;
            }
        return table;
    }
}

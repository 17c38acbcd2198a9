namespace Broker.Core.Encoding;

/// <summary>
/// Variable-length integers. Unsigned LEB128 (flexible-version lengths and tag headers) and zigzag
/// (record fields inside a batch). All methods return the number of bytes consumed or written;
/// a read returns 0 when the input is truncated and -1 when the encoding is too long.
/// </summary>
public static class Varint
{
    public static int ReadUnsigned(ReadOnlySpan<byte> src, out uint value)
    {
        uint result = 0;
        for (int i = 0, shift = 0; i < 5; i++, shift += 7)
        {
            if (i >= src.Length) { value = 0; return 0; }
            byte b = src[i];
            result |= (uint)(b & 0x7F) << shift;
            if ((b & 0x80) == 0) { value = result; return i + 1; }
        }
        value = 0;
        return -1;
    }

    public static int ReadUnsignedLong(ReadOnlySpan<byte> src, out ulong value)
    {
        ulong result = 0;
        for (int i = 0, shift = 0; i < 10; i++, shift += 7)
        {
            if (i >= src.Length) { value = 0; return 0; }
            byte b = src[i];
            result |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0) { value = result; return i + 1; }
        }
        value = 0;
        return -1;
    }

    public static int ReadZigZag32(ReadOnlySpan<byte> src, out int value)
    {
        int n = ReadUnsigned(src, out uint raw);
        value = (int)(raw >> 1) ^ -(int)(raw & 1);
        return n;
    }

    public static int ReadZigZag64(ReadOnlySpan<byte> src, out long value)
    {
        int n = ReadUnsignedLong(src, out ulong raw);
        value = (long)(raw >> 1) ^ -(long)(raw & 1);
        return n;
    }

    public static int SizeOfUnsigned(uint value)
    {
        int n = 1;
        while (value >= 0x80) { value >>= 7; n++; }
        return n;
    }

    public static int SizeOfUnsignedLong(ulong value)
    {
        int n = 1;
        while (value >= 0x80) { value >>= 7; n++; }
        return n;
    }

    public static int SizeOfZigZag32(int value) => SizeOfUnsigned((uint)((value << 1) ^ (value >> 31)));
    public static int SizeOfZigZag64(long value) => SizeOfUnsignedLong((ulong)((value << 1) ^ (value >> 63)));

    public static int WriteUnsigned(Span<byte> dst, uint value)
    {
        int i = 0;
        while (value >= 0x80) { dst[i++] = (byte)(value | 0x80); value >>= 7; }
        dst[i++] = (byte)value;
        return i;
    }

    public static int WriteUnsignedLong(Span<byte> dst, ulong value)
    {
        int i = 0;
        while (value >= 0x80) { dst[i++] = (byte)(value | 0x80); value >>= 7; }
        dst[i++] = (byte)value;
        return i;
    }

    public static int WriteZigZag32(Span<byte> dst, int value) => WriteUnsigned(dst, (uint)((value << 1) ^ (value >> 31)));
    public static int WriteZigZag64(Span<byte> dst, long value) => WriteUnsignedLong(dst, (ulong)((value << 1) ^ (value >> 63)));
}

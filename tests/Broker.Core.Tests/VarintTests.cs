using Broker.Core.Encoding;
using Xunit;

namespace Broker.Core.Tests;

public class VarintTests
{
    [Theory]
    [InlineData(0, new byte[] { 0x00 })]
    [InlineData(1, new byte[] { 0x02 })]
    [InlineData(-1, new byte[] { 0x01 })]
    [InlineData(63, new byte[] { 0x7E })]
    [InlineData(-64, new byte[] { 0x7F })]
    [InlineData(64, new byte[] { 0x80, 0x01 })]
    [InlineData(int.MaxValue, new byte[] { 0xFE, 0xFF, 0xFF, 0xFF, 0x0F })]
    [InlineData(int.MinValue, new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 0x0F })]
    public void ZigZag32GoldenBytes(int value, byte[] expected)
    {
        Span<byte> buf = stackalloc byte[5];
        int n = Varint.WriteZigZag32(buf, value);
        Assert.Equal(expected, buf[..n].ToArray());
        Assert.Equal(n, Varint.SizeOfZigZag32(value));
        Assert.Equal(n, Varint.ReadZigZag32(expected, out int back));
        Assert.Equal(value, back);
    }

    [Theory]
    [InlineData(0u, new byte[] { 0x00 })]
    [InlineData(127u, new byte[] { 0x7F })]
    [InlineData(128u, new byte[] { 0x80, 0x01 })]
    [InlineData(300u, new byte[] { 0xAC, 0x02 })]
    [InlineData(uint.MaxValue, new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 0x0F })]
    public void UnsignedGoldenBytes(uint value, byte[] expected)
    {
        Span<byte> buf = stackalloc byte[5];
        int n = Varint.WriteUnsigned(buf, value);
        Assert.Equal(expected, buf[..n].ToArray());
        Assert.Equal(n, Varint.ReadUnsigned(expected, out uint back));
        Assert.Equal(value, back);
    }

    [Fact]
    public void ZigZag64RoundTripsExtremes()
    {
        Span<byte> buf = stackalloc byte[10];
        foreach (long v in new[] { 0L, -1L, 1L, long.MaxValue, long.MinValue, 1234567890123L, -987654321L })
        {
            int n = Varint.WriteZigZag64(buf, v);
            Assert.Equal(n, Varint.SizeOfZigZag64(v));
            Assert.Equal(n, Varint.ReadZigZag64(buf[..n], out long back));
            Assert.Equal(v, back);
        }
    }

    [Fact]
    public void TruncatedInputReturnsZeroAndOverlongReturnsMinusOne()
    {
        Assert.Equal(0, Varint.ReadUnsigned(new byte[] { 0x80, 0x80 }, out _));
        Assert.Equal(0, Varint.ReadUnsigned(ReadOnlySpan<byte>.Empty, out _));
        Assert.Equal(-1, Varint.ReadUnsigned(new byte[] { 0x80, 0x80, 0x80, 0x80, 0x80, 0x01 }, out _));
        Assert.Equal(-1, Varint.ReadUnsignedLong(Enumerable.Repeat((byte)0x80, 11).ToArray(), out _));
    }
}

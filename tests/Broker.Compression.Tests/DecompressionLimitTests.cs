using Broker.Core.Records;
using System.Buffers;
using Xunit;

namespace Broker.Compression.Tests;

/// <summary>Decompression bombs: the output ceiling holds for every codec, and declared sizes are checked up front.</summary>
public sealed class DecompressionLimitTests
{
    private const int Size = 8 << 20;

    public static TheoryData<CompressionCodec> RealCodecs => TestData.Codecs();

    [Theory]
    [MemberData(nameof(RealCodecs))]
    public void OutputAboveTheLimitIsRefused(CompressionCodec codec)
    {
        byte[] bomb = Codecs.Compress(codec, new byte[Size]);
        // snappy's longest copy is 64 bytes (about 21:1); the others go far beyond 100:1.
        Assert.True(bomb.Length < Size / (codec == CompressionCodec.Snappy ? 20 : 100), $"{codec}: {Size} zero bytes compressed to {bomb.Length}");

        var output = new ArrayBufferWriter<byte>();
        var ex = Assert.Throws<CompressionException>(() => Codecs.Decompress(codec, bomb, output, maxUncompressedBytes: 1 << 20));
        Assert.Contains("exceeds the limit of 1048576 bytes", ex.Message);
        Assert.True(output.WrittenCount <= 1 << 20, $"{codec}: {output.WrittenCount} bytes committed past the limit");

        Assert.Throws<CompressionException>(() => Codecs.Decompress(codec, bomb, maxUncompressedBytes: Size - 1));
        Assert.Equal(Size, Codecs.Decompress(codec, bomb, maxUncompressedBytes: Size).Length);
    }

    [Fact]
    public void SnappyDeclaredLengthIsCheckedBeforeAllocating()
    {
        // A raw block whose varint header claims 2^31-1 bytes, followed by junk.
        byte[] claim = [0xFF, 0xFF, 0xFF, 0xFF, 0x07, 0x00, 0x01, 0x02];
        var ex = Assert.Throws<CompressionException>(() => Codecs.Decompress(CompressionCodec.Snappy, claim));
        Assert.Contains("exceeds the limit", ex.Message);
        // The same inside xerial framing.
        byte[] xerial = [0x82, (byte)'S', (byte)'N', (byte)'A', (byte)'P', (byte)'P', (byte)'Y', 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 8, .. claim];
        Assert.Contains("exceeds the limit", Assert.Throws<CompressionException>(() => Codecs.Decompress(CompressionCodec.Snappy, xerial)).Message);
    }

    [Fact]
    public void ZstdFramesDemandingAHugeWindowAreRefused()
    {
        // magic, frame header descriptor 0 (window descriptor follows, no content size), window descriptor, then one
        // empty raw last block. Window log = 10 + (descriptor >> 3).
        byte[] Frame(byte windowDescriptor) => [0x28, 0xB5, 0x2F, 0xFD, 0x00, windowDescriptor, 0x01, 0x00, 0x00];
        Assert.Empty(Codecs.Decompress(CompressionCodec.Zstd, Frame(13 << 3)));          // 8 MiB window: always fine
        var ex = Assert.Throws<CompressionException>(() => Codecs.Decompress(CompressionCodec.Zstd, Frame(20 << 3))); // 1 GiB
        Assert.Contains("memory", ex.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void NoneHonoursTheLimitToo()
    {
        Assert.Throws<CompressionException>(() => Codecs.Decompress(CompressionCodec.None, new byte[100], maxUncompressedBytes: 99));
        Assert.Throws<ArgumentOutOfRangeException>(() => Codecs.Decompress(CompressionCodec.Gzip, new byte[100], maxUncompressedBytes: -1));
    }
}

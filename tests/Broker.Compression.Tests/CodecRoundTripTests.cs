using Broker.Core.Records;
using System.Buffers;
using System.Buffers.Binary;
using Xunit;

namespace Broker.Compression.Tests;

/// <summary>Round trips of every codec over empty, tiny, incompressible and large inputs, and the framing each writes.</summary>
public sealed class CodecRoundTripTests
{
    public static TheoryData<CompressionCodec> AllCodecs => TestData.Codecs();

    [Theory]
    [MemberData(nameof(AllCodecs))]
    public void RoundTrips_EveryShapeOfInput(CompressionCodec codec)
    {
        byte[][] inputs =
        [
            [],
            [42],
            TestData.PlainText(),
            TestData.Random(100_000),
            TestData.Compressible(1 << 20),
            TestData.Compressible(SnappyCodec.XerialBlockSize * 3 + 17, seed: 5), // several xerial blocks, a short last one
            new byte[SnappyCodec.XerialBlockSize * 2],                               // exactly two xerial blocks of zeros
        ];
        foreach (byte[] input in inputs)
        {
            byte[] compressed = Codecs.Compress(codec, input);
            var output = new ArrayBufferWriter<byte>();
            int n = Codecs.Decompress(codec, compressed, output);
            Assert.Equal(input.Length, n);
            Assert.True(input.AsSpan().SequenceEqual(output.WrittenSpan), $"{codec}: {input.Length}-byte input did not round-trip");
        }
    }

    [Theory]
    [MemberData(nameof(AllCodecs))]
    public void CompressesCompressibleData(CompressionCodec codec)
    {
        byte[] input = TestData.Compressible(1 << 20);
        byte[] compressed = Codecs.Compress(codec, input);
        Assert.True(compressed.Length < input.Length / 2, $"{codec}: 1 MiB of text compressed to {compressed.Length} bytes");
    }

    [Fact]
    public void WritesTheFramingKafkaClientsExpect()
    {
        byte[] input = TestData.Compressible(100_000);
        byte[] gzip = Codecs.Compress(CompressionCodec.Gzip, input);
        Assert.Equal(new byte[] { 0x1F, 0x8B, 8 }, gzip[..3]);

        // Snappy: xerial header (version 1, compatible 1), then 32 KiB blocks each with a big-endian length.
        byte[] snappy = Codecs.Compress(CompressionCodec.Snappy, input);
        Assert.Equal(new byte[] { 0x82, (byte)'S', (byte)'N', (byte)'A', (byte)'P', (byte)'P', (byte)'Y', 0, 0, 0, 0, 1, 0, 0, 0, 1 }, snappy[..16]);
        int blocks = 0;
        for (int p = 16; p < snappy.Length; blocks++) p += 4 + BinaryPrimitives.ReadInt32BigEndian(snappy.AsSpan(p));
        Assert.Equal((input.Length + SnappyCodec.XerialBlockSize - 1) / SnappyCodec.XerialBlockSize, blocks);

        // LZ4 frame: magic, FLG = version 01 + independent blocks, no checksums, no content size; BD = 64 KiB blocks.
        byte[] lz4 = Codecs.Compress(CompressionCodec.Lz4, input);
        Assert.Equal(new byte[] { 0x04, 0x22, 0x4D, 0x18, 0x60, 0x40 }, lz4[..6]);

        byte[] zstd = Codecs.Compress(CompressionCodec.Zstd, input);
        Assert.Equal(new byte[] { 0x28, 0xB5, 0x2F, 0xFD }, zstd[..4]);
    }

    [Fact]
    public void EmptyInputStillWritesAnXerialBlock()
    {
        // kafka-python only takes data longer than the 16-byte header for xerial framing.
        byte[] snappy = Codecs.Compress(CompressionCodec.Snappy, ReadOnlySpan<byte>.Empty);
        Assert.True(snappy.Length > 16, $"{snappy.Length} bytes");
        Assert.Empty(Codecs.Decompress(CompressionCodec.Snappy, snappy));
    }

    [Fact]
    public void RawSnappyBlocksAreReadToo()
    {
        byte[] input = TestData.Compressible(200_000);
        var raw = new ArrayBufferWriter<byte>();
        Codecs.CompressSnappyRaw(input, raw);
        Assert.NotEqual(0x82, raw.WrittenSpan[0]);
        Assert.Equal(input, Codecs.Decompress(CompressionCodec.Snappy, raw.WrittenSpan));
    }

    [Fact]
    public void NoneCopiesAndUnknownCodecsAreRefused()
    {
        byte[] input = TestData.PlainText();
        Assert.Equal(input, Codecs.Compress(CompressionCodec.None, input));
        Assert.Equal(input, Codecs.Decompress(CompressionCodec.None, input));
        var ex = Assert.Throws<CompressionException>(() => Codecs.Compress((CompressionCodec)5, input));
        Assert.Contains("unknown compression codec 5", ex.Message);
        Assert.Throws<CompressionException>(() => Codecs.Decompress((CompressionCodec)7, input));
    }

    [Fact]
    public void ParallelUseSharesTheNativeContextsSafely()
    {
        var inputs = Enumerable.Range(0, 8).Select(i => TestData.Compressible(50_000 + i * 7919, seed: i)).ToArray();
        var errors = new System.Collections.Concurrent.ConcurrentBag<string>();
        Parallel.For(0, 64, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i =>
        {
            var codec = TestData.RealCodecs[i % 4];
            byte[] input = inputs[i % inputs.Length];
            byte[] back = Codecs.Decompress(codec, Codecs.Compress(codec, input));
            if (!back.AsSpan().SequenceEqual(input)) errors.Add($"{codec} #{i}");
        });
        Assert.Empty(errors);
    }

    [Fact]
    public void NamesAndParsing()
    {
        foreach (var codec in TestData.RealCodecs.Append(CompressionCodec.None))
        {
            Assert.True(Codecs.TryParse(Codecs.Name(codec).ToUpperInvariant(), out var parsed));
            Assert.Equal(codec, parsed);
        }
        Assert.False(Codecs.TryParse("brotli", out _));
        Assert.False(Codecs.TryParse(null, out _));
    }
}

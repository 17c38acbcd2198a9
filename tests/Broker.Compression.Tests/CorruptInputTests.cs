using Broker.Core.Records;
using System.Buffers;
using System.Buffers.Binary;
using Xunit;

namespace Broker.Compression.Tests;

/// <summary>Truncated, bit-flipped and random input: always a <see cref="CompressionException"/>, never a crash.</summary>
public sealed class CorruptInputTests
{
    public static TheoryData<string, CompressionCodec> Vectors => CodecVectorTests.Vectors;

    [Theory]
    [MemberData(nameof(Vectors))]
    public void EveryTruncationIsRefused(string file, CompressionCodec codec)
    {
        byte[] full = TestData.Vector(file);
        // Xerial framing has no end marker, and gzip members may be concatenated: a cut exactly between blocks or
        // members is a valid, shorter stream.
        var validCuts = codec == CompressionCodec.Snappy && SnappyCodec.IsXerial(full) ? XerialBlockEnds(full)
            : file == "plain.txt.gz-2members" ? new HashSet<int> { GzipFirstMemberLength } : [];
        for (int cut = 0; cut < full.Length; cut++)
        {
            if (validCuts.Contains(cut)) continue;
            var ex = Record.Exception(() => Codecs.Decompress(codec, full.AsSpan(0, cut)));
            Assert.True(ex is CompressionException, $"{file} cut to {cut} of {full.Length} bytes: {(ex is null ? "decoded without error" : ex.ToString())}");
        }
    }

    [Theory]
    [MemberData(nameof(Vectors))]
    public void BitFlipsNeverCrash(string file, CompressionCodec codec)
    {
        byte[] original = TestData.Vector(file);
        var random = new Random(file.GetHashCode(StringComparison.Ordinal) ^ 77);
        int refused = 0;
        for (int i = 0; i < 1500; i++)
        {
            byte[] mutated = (byte[])original.Clone();
            int flips = 1 + random.Next(3);
            for (int f = 0; f < flips; f++) mutated[random.Next(mutated.Length)] ^= (byte)(1 << random.Next(8));
            try
            {
                Codecs.Decompress(codec, mutated, maxUncompressedBytes: 1 << 20);
            }
            catch (CompressionException)
            {
                refused++;
            }
        }
        Assert.True(refused > 0, $"{file}: no bit flip was detected at all");
    }

    [Theory]
    [MemberData(nameof(Vectors))]
    public void ChecksummedFormatsDetectEveryFlipInTheData(string file, CompressionCodec codec)
    {
        // gzip (CRC-32 trailer), the lz4 vectors (content checksum) and the zstd CLI vector (checksum) must refuse any flip
        // in their compressed payload; headers are skipped (e.g. gzip's mtime field is not covered).
        if (file is "plain.txt.snappy-raw" or "plain.txt.snappy-xerial" or "plain.txt.zst-nosize" or "plain.txt.gz-2members") return;
        byte[] original = TestData.Vector(file);
        int headerSize = codec switch { CompressionCodec.Gzip => 10, CompressionCodec.Lz4 => 15, _ => 8 };
        byte[] plain = TestData.PlainText();
        for (int position = headerSize; position < original.Length; position += 7)
        {
            byte[] mutated = (byte[])original.Clone();
            mutated[position] ^= 0x10;
            byte[] output;
            try
            {
                output = Codecs.Decompress(codec, mutated);
            }
            catch (CompressionException)
            {
                continue;
            }
            // Decoding without an error is only acceptable when the flip did not change the data.
            Assert.True(output.AsSpan().SequenceEqual(plain), $"{file}: flip at byte {position} decoded to different data without an error");
        }
    }

    [Theory]
    [MemberData(nameof(RealCodecs))]
    public void RandomBytesAreRefused(CompressionCodec codec)
    {
        var random = new Random(123);
        for (int i = 0; i < 300; i++)
        {
            byte[] garbage = new byte[random.Next(16, 4096)];
            random.NextBytes(garbage);
            var ex = Record.Exception(() => Codecs.Decompress(codec, garbage, maxUncompressedBytes: 1 << 20));
            // Random bytes are essentially never a valid stream; anything but CompressionException is a defect.
            Assert.True(ex is CompressionException, $"{codec}, {garbage.Length} random bytes: {(ex is null ? "decoded" : ex.ToString())}");
        }
    }

    [Theory]
    [MemberData(nameof(RealCodecs))]
    public void EmptyInputIsRefused(CompressionCodec codec) =>
        Assert.Throws<CompressionException>(() => Codecs.Decompress(codec, ReadOnlySpan<byte>.Empty));

    [Fact]
    public void XerialBlockLengthsAreChecked()
    {
        byte[] xerial = Codecs.Compress(CompressionCodec.Snappy, TestData.PlainText());
        byte[] overrun = (byte[])xerial.Clone();
        BinaryPrimitives.WriteInt32BigEndian(overrun.AsSpan(16), xerial.Length);
        Assert.Contains("overruns", Assert.Throws<CompressionException>(() => Codecs.Decompress(CompressionCodec.Snappy, overrun)).Message);
        byte[] negative = (byte[])xerial.Clone();
        BinaryPrimitives.WriteInt32BigEndian(negative.AsSpan(16), -5);
        Assert.Throws<CompressionException>(() => Codecs.Decompress(CompressionCodec.Snappy, negative));
        byte[] halfLength = [.. xerial, 0, 0];
        Assert.Contains("truncated", Assert.Throws<CompressionException>(() => Codecs.Decompress(CompressionCodec.Snappy, halfLength)).Message);
        byte[] emptyBlock = [.. xerial, 0, 0, 0, 0];
        Assert.Throws<CompressionException>(() => Codecs.Decompress(CompressionCodec.Snappy, emptyBlock));
    }

    [Fact]
    public void AnAbandonedLz4FrameDoesNotPoisonTheNextOne()
    {
        // Regression: a pooled liblz4 context reset after a truncated frame that declared its content size failed the
        // next frame without one (ERROR_frameSize_wrong).
        byte[] withSize = TestData.Vector("plain.txt.lz4-checksums");
        byte[] withoutSize = Codecs.Compress(CompressionCodec.Lz4, TestData.PlainText());
        for (int i = 0; i < 20; i++)
        {
            Assert.Throws<CompressionException>(() => Codecs.Decompress(CompressionCodec.Lz4, withSize.AsSpan(0, withSize.Length / 2)));
            Assert.Equal(TestData.PlainText(), Codecs.Decompress(CompressionCodec.Lz4, withoutSize));
        }
    }

    [Fact]
    public void GzipTrailingGarbageIsRefused()
    {
        byte[] gzip = TestData.Vector("plain.txt.gz");
        Assert.Throws<CompressionException>(() => Codecs.Decompress(CompressionCodec.Gzip, [.. gzip, 1, 2, 3]));
        Assert.Throws<CompressionException>(() => Codecs.Decompress(CompressionCodec.Gzip, [.. gzip, .. gzip[..30]]));
    }

    [Fact]
    public void TrailingGarbageAfterLz4AndZstdFramesIsRefused()
    {
        byte[] lz4 = TestData.Vector("plain.txt.lz4");
        Assert.Throws<CompressionException>(() => Codecs.Decompress(CompressionCodec.Lz4, [.. lz4, 1, 2, 3, 4, 5, 6, 7, 8]));
        byte[] zstd = TestData.Vector("plain.txt.zst");
        Assert.Throws<CompressionException>(() => Codecs.Decompress(CompressionCodec.Zstd, [.. zstd, 1, 2, 3, 4, 5, 6, 7, 8]));
        // Whole frames back to back are a valid stream for both.
        byte[] plain = TestData.PlainText();
        Assert.Equal([.. plain, .. plain], Codecs.Decompress(CompressionCodec.Lz4, [.. lz4, .. lz4]));
        Assert.Equal([.. plain, .. plain], Codecs.Decompress(CompressionCodec.Zstd, [.. zstd, .. zstd]));
    }

    public static TheoryData<CompressionCodec> RealCodecs => TestData.Codecs();

    /// <summary>Size of the first member of plain.txt.gz-2members (python gzip.compress of the first 5000 bytes).</summary>
    private const int GzipFirstMemberLength = 500;

    private static HashSet<int> XerialBlockEnds(byte[] xerial)
    {
        var ends = new HashSet<int> { SnappyCodec.XerialHeaderSize };
        for (int p = SnappyCodec.XerialHeaderSize; p < xerial.Length;)
        {
            p += 4 + BinaryPrimitives.ReadInt32BigEndian(xerial.AsSpan(p));
            ends.Add(p);
        }
        return ends;
    }
}

using Broker.Core.Records;
using System.Diagnostics;
using Xunit;

namespace Broker.Compression.Tests;

/// <summary>
/// Known answers: frames written by the Debian gzip/lz4/zstd tools and the Python snappy/lz4/zstandard modules
/// (Vectors/generate.sh) decode to the plain text; and what we write, those tools decode.
/// </summary>
public sealed class CodecVectorTests
{
    public static TheoryData<string, CompressionCodec> Vectors => new()
    {
        { "plain.txt.gz", CompressionCodec.Gzip },               // gzip -9 -n
        { "plain.txt.gz-2members", CompressionCodec.Gzip },      // two concatenated members
        { "plain.txt.snappy-raw", CompressionCodec.Snappy },     // one raw block (librdkafka style)
        { "plain.txt.snappy-xerial", CompressionCodec.Snappy },  // xerial framing, 4 KiB blocks (Java style)
        { "plain.txt.lz4", CompressionCodec.Lz4 },               // lz4 CLI: 4 MiB blocks, content checksum
        { "plain.txt.lz4-checksums", CompressionCodec.Lz4 },     // linked blocks, block+content checksums, content size
        { "plain.txt.zst", CompressionCodec.Zstd },              // zstd CLI: content size, checksum
        { "plain.txt.zst-nosize", CompressionCodec.Zstd },       // streamed: no content size in the header
    };

    [Fact]
    public void PlainTextMatchesTheGeneratedFile() =>
        Assert.Equal(TestData.Vector("plain.txt"), TestData.PlainText());

    [Theory]
    [MemberData(nameof(Vectors))]
    public void DecodesFramesWrittenByOtherImplementations(string file, CompressionCodec codec)
    {
        byte[] compressed = TestData.Vector(file);
        Assert.Equal(TestData.PlainText(), Codecs.Decompress(codec, compressed));
    }

    [Fact]
    public void XerialVectorHasSeveralBlocks()
    {
        byte[] xerial = TestData.Vector("plain.txt.snappy-xerial");
        Assert.True(SnappyCodec.IsXerial(xerial));
        Assert.True(xerial.Length > TestData.Vector("plain.txt.snappy-raw").Length + 4 * 4, "expected at least five blocks");
    }

    [Theory]
    [InlineData(CompressionCodec.Gzip, "gzip", "-dc")]
    [InlineData(CompressionCodec.Lz4, "lz4", "-dc")]
    [InlineData(CompressionCodec.Zstd, "zstd", "-dc")]
    public void CommandLineToolsDecodeWhatWeWrite(CompressionCodec codec, string tool, string args)
    {
        string path = Path.Combine(Path.GetTempPath(), $"codec-{Guid.NewGuid():N}.bin");
        try
        {
            foreach (byte[] input in new[] { TestData.Compressible(300_000, seed: 9), [] })
            {
                File.WriteAllBytes(path, Codecs.Compress(codec, input));
                Assert.Equal(input, Run("/usr/bin/" + tool, args, path));
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void PythonSnappyDecodesEachXerialBlockWeWrite()
    {
        byte[] input = TestData.Compressible(100_000, seed: 3);
        string path = Path.Combine(Path.GetTempPath(), $"codec-{Guid.NewGuid():N}.snappy");
        const string script = """
            import sys, struct, snappy
            data = open(sys.argv[1], 'rb').read()
            assert data[:16] == b'\x82SNAPPY\x00' + struct.pack('>ii', 1, 1), data[:16]
            p, out = 16, bytearray()
            while p < len(data):
                (n,) = struct.unpack('>i', data[p:p + 4])
                out += snappy.uncompress(data[p + 4:p + 4 + n])
                p += 4 + n
            sys.stdout.buffer.write(out)
            """;
        try
        {
            File.WriteAllBytes(path, Codecs.Compress(CompressionCodec.Snappy, input));
            Assert.Equal(input, Run("/usr/bin/python3", "-c", script, path));
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static byte[] Run(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in args) psi.ArgumentList.Add(a);
        using var process = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {file}");
        using var stdout = new MemoryStream();
        var copy = process.StandardOutput.BaseStream.CopyToAsync(stdout);
        string stderr = process.StandardError.ReadToEnd();
        Assert.True(process.WaitForExit(30_000), $"{file} did not finish");
        copy.Wait(TimeSpan.FromSeconds(10));
        Assert.True(process.ExitCode == 0, $"{file} {string.Join(' ', args)} exited {process.ExitCode}: {stderr}");
        return stdout.ToArray();
    }
}

using Broker.Core.Records;
using Broker.Compression.Native;
using Xunit;

namespace Broker.Compression.Tests;

/// <summary>The lazy library probe: a missing library or symbol is a clear <see cref="CompressionException"/>.</summary>
public sealed class NativeLibraryTests
{
    [Fact]
    public void MissingLibraryNamesTheDebianPackage()
    {
        var probe = new NativeLibraryProbe("libbroker-no-such-codec.so.7", "libnosuchcodec7", "nosuch", "f");
        var ex = Assert.Throws<CompressionException>(probe.Ensure);
        Assert.Contains("libbroker-no-such-codec.so.7", ex.Message);
        Assert.Contains("install the Debian package libnosuchcodec7", ex.Message);
        Assert.Same(probe.Error, probe.Error); // checked once
    }

    [Fact]
    public void MissingExportIsNamed()
    {
        var probe = new NativeLibraryProbe("libzstd.so.1", "libzstd1", "zstd", "ZSTD_isError", "ZSTD_noSuchFunction");
        var ex = Assert.Throws<CompressionException>(probe.Ensure);
        Assert.Contains("does not export ZSTD_noSuchFunction", ex.Message);
    }

    [Theory]
    [InlineData(CompressionCodec.None)]
    [InlineData(CompressionCodec.Gzip)]
    [InlineData(CompressionCodec.Snappy)]
    [InlineData(CompressionCodec.Lz4)]
    [InlineData(CompressionCodec.Zstd)]
    public void EveryCodecIsAvailableOnThisMachine(CompressionCodec codec)
    {
        bool available = Codecs.IsAvailable(codec, out string? reason);
        Assert.True(available, reason);
        Assert.Null(reason);
    }

    [Fact]
    public void UnknownCodecIsNotAvailable()
    {
        Assert.False(Codecs.IsAvailable((CompressionCodec)6, out string? reason));
        Assert.Contains("unknown", reason);
    }
}

using Broker.Core.Records;
using Broker.Cli.Arguments;
using Broker.Compression;
using Xunit;

namespace Broker.Cli.Tests;

public class ValueParsersTests
{
    [Theory]
    [InlineData("500ms", 500)]
    [InlineData("10s", 10_000)]
    [InlineData("1.5s", 1_500)]
    [InlineData("2m", 120_000)]
    [InlineData("1h", 3_600_000)]
    [InlineData("7", 7_000)]
    public void Durations(string text, double ms) =>
        Assert.Equal(TimeSpan.FromMilliseconds(ms), ValueParsers.ParseDuration(text, "--timeout"));

    [Theory]
    [InlineData("abc")]
    [InlineData("0")]
    [InlineData("-5s")]
    [InlineData("10x")]
    [InlineData("")]
    [InlineData("2d")]
    public void BadDurations(string text)
    {
        var ex = Assert.Throws<UsageException>(() => ValueParsers.ParseDuration(text, "--timeout"));
        Assert.StartsWith("--timeout", ex.Message);
    }

    [Theory]
    [InlineData("0", 0L)]
    [InlineData("1700000000000", 1_700_000_000_000L)]
    [InlineData("2024-05-01T12:00:00Z", 1_714_564_800_000L)]
    [InlineData("2024-05-01T14:00:00+02:00", 1_714_564_800_000L)]
    [InlineData("2024-05-01T12:00:00", 1_714_564_800_000L)] // no offset: UTC
    [InlineData("2024-05-01", 1_714_521_600_000L)]
    [InlineData("2024-05-01T12:00:00.250Z", 1_714_564_800_250L)]
    public void Timestamps(string text, long expected) =>
        Assert.Equal(expected, ValueParsers.ParseTimestamp(text, "--timestamp"));

    [Theory]
    [InlineData("yesterday")]
    [InlineData("-5")]
    [InlineData("12:00")]
    [InlineData("2024-13-01")]
    [InlineData("1969-12-31T00:00:00Z")]
    public void BadTimestamps(string text)
    {
        var ex = Assert.Throws<UsageException>(() => ValueParsers.ParseTimestamp(text, "--timestamp"));
        Assert.StartsWith("--timestamp", ex.Message);
    }

    [Fact]
    public void KeyValues()
    {
        Assert.Equal(new KeyValuePair<string, string>("a", "b=c"), ValueParsers.ParseKeyValue("a=b=c", "-c"));
        Assert.Equal(new KeyValuePair<string, string>("retention.ms", ""), ValueParsers.ParseKeyValue("retention.ms=", "-c"));
        Assert.Equal("-c expects key=value, got 'novalue'", Assert.Throws<UsageException>(() => ValueParsers.ParseKeyValue("novalue", "-c")).Message);
        Assert.Throws<UsageException>(() => ValueParsers.ParseKeyValue("=v", "-c"));
        Assert.Throws<UsageException>(() => ValueParsers.ParseKeyValue(" =v", "-c"));
    }

    [Fact]
    public void BootstrapLists()
    {
        Assert.Equal("a:1,b:2", ValueParsers.ParseBootstrap(" a:1 , b:2,", "-b"));
        Assert.Equal("[::1]:9092", ValueParsers.ParseBootstrap("[::1]:9092", "-b"));
        foreach (string bad in new[] { "localhost", "host:", ":9092", "h:0", "h:70000", "h:x", "," })
            Assert.Throws<UsageException>(() => ValueParsers.ParseBootstrap(bad, "-b"));
    }

    [Fact]
    public void AdminUrls()
    {
        Assert.Equal(new[] { "http://a:9644", "https://b:1" }, ValueParsers.ParseUrls("http://a:9644/,https://b:1", "--admin-url"));
        Assert.Equal(new[] { "http://localhost:9644" }, ValueParsers.ParseUrls("localhost:9644", "--admin-url"));
        Assert.Throws<UsageException>(() => ValueParsers.ParseUrls("ftp://x", "--admin-url"));
        Assert.Throws<UsageException>(() => ValueParsers.ParseUrls("", "--admin-url"));
    }

    [Fact]
    public void CodecsAndAcks()
    {
        Assert.Equal(CompressionCodec.Zstd, ValueParsers.ParseCompression("ZSTD", "-z"));
        Assert.Equal(CompressionCodec.None, ValueParsers.ParseCompression("none", "-z"));
        Assert.Contains("none, gzip, snappy, lz4, zstd", Assert.Throws<UsageException>(() => ValueParsers.ParseCompression("brotli", "-z")).Message);
        Assert.Equal((short)-1, ValueParsers.ParseAcks("all", "--acks"));
        Assert.Equal((short)-1, ValueParsers.ParseAcks("-1", "--acks"));
        Assert.Equal((short)0, ValueParsers.ParseAcks("0", "--acks"));
        Assert.Equal((short)1, ValueParsers.ParseAcks("1", "--acks"));
        Assert.Throws<UsageException>(() => ValueParsers.ParseAcks("2", "--acks"));
    }

    [Theory]
    [InlineData(@"\t", "\t")]
    [InlineData(@"a\nb", "a\nb")]
    [InlineData(@"\\t", @"\t")]
    [InlineData(@"\q", @"\q")]
    [InlineData(@"end\", @"end\")]
    [InlineData("plain", "plain")]
    public void Escapes(string text, string expected) => Assert.Equal(expected, ValueParsers.Unescape(text));
}

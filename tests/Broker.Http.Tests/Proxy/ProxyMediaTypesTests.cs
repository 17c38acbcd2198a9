using Broker.Http.Proxy;
using Xunit;

namespace Broker.Http.Tests.Proxy;

/// <summary>The negotiation rules themselves: first supported token wins, "" and */* only where "none" is allowed.</summary>
public sealed class ProxyMediaTypesTests
{
    private static readonly ProxyFormat[] Control = [ProxyFormat.V2];
    private static readonly ProxyFormat[] Records = [ProxyFormat.Binary, ProxyFormat.Json];

    [Theory]
    [InlineData(null, "V2")]
    [InlineData("", "V2")]
    [InlineData("*/*", "V2")]
    [InlineData("application/json, text/plain, */*", "V2")] // axios' default (Morio)
    [InlineData("application/vnd.kafka.v2+json", "V2")]
    [InlineData("application/vnd.kafka.v2+json; charset=utf-8", "V2")]
    [InlineData("APPLICATION/VND.KAFKA.V2+JSON", "V2")]
    [InlineData("application/json", "Unsupported")]
    [InlineData("text/html", "Unsupported")]
    [InlineData("application/vnd.kafka.binary.v2+json", "Unsupported")]
    public void ControlEndpoints(string? header, string expected) =>
        Assert.Equal(Enum.Parse<ProxyFormat>(expected), ProxyMediaTypes.Select(header, Control, allowNone: true));

    [Theory]
    [InlineData(null, "Unsupported")]
    [InlineData("", "Unsupported")]
    [InlineData("*/*", "Unsupported")]
    [InlineData("application/vnd.kafka.binary.v2+json", "Binary")]
    [InlineData("application/vnd.kafka.json.v2+json", "Json")]
    [InlineData("text/plain, application/vnd.kafka.json.v2+json", "Json")]
    [InlineData("application/vnd.kafka.json.v2+json, application/vnd.kafka.binary.v2+json", "Json")]
    [InlineData("application/vnd.kafka.v2+json", "Unsupported")]
    [InlineData("application/vnd.kafka.avro.v2+json", "Unsupported")]
    public void RecordEndpoints(string? header, string expected) =>
        Assert.Equal(Enum.Parse<ProxyFormat>(expected), ProxyMediaTypes.Select(header, Records, allowNone: false));

    [Fact]
    public void NoneSelectsTheFirstSupportedFormat() =>
        Assert.Equal(ProxyFormat.Binary, ProxyMediaTypes.Select("*/*", Records, allowNone: true));

    [Fact]
    public void NamesRoundTrip()
    {
        foreach (var format in new[] { ProxyFormat.V2, ProxyFormat.Json, ProxyFormat.Binary })
            Assert.Equal(format, ProxyMediaTypes.Select(ProxyMediaTypes.Name(format), [format], allowNone: false));
    }
}

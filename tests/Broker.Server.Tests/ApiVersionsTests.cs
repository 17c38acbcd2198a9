using Broker.Core.Model;
using Broker.Protocol.Codec;
using Broker.Protocol.Messages;
using Broker.Server.Handlers;
using Broker.Server.Pipeline;
using Broker.Server.Tests.Harness;
using Xunit;

namespace Broker.Server.Tests;

public class ApiVersionsTests
{
    private static (HandlerHarness, HandlerTable) Create()
    {
        var table = new HandlerTable();
        table.Register(new ApiVersionsHandler(table));
        return (new HandlerHarness(new KafkaRequestDispatcher(table)), table);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task ListsEveryRegisteredHandler(short version)
    {
        var (harness, _) = Create();
        var response = await harness.CallAsync(18, version, new ApiVersionsRequest { ClientSoftwareName = "x", ClientSoftwareVersion = "1" }, ApiVersionsResponse.Read);
        Assert.Equal((short)ErrorCode.None, response.ErrorCode);
        var entry = Assert.Single(response.ApiKeys);
        Assert.Equal(18, entry.ApiKey);
        Assert.Equal(0, entry.MinVersion);
        Assert.Equal(3, entry.MaxVersion);
    }

    [Fact]
    public async Task UnknownNewerVersionGetsV0ErrorWithTheList()
    {
        var (harness, _) = Create();
        // A v4 request: header v2 (flexible), body we do not parse.
        using var output = new Broker.Core.Buffers.ChunkedBufferWriter();
        var writer = new KafkaWriter(output);
        new RequestHeader(18, 4, 77, "future-client").Write(ref writer);
        writer.WriteString("name", flexible: true);
        writer.WriteString("1.0", flexible: true);
        writer.WriteEmptyTaggedFields();
        var raw = await harness.SendRawAsync(output.ToArray()[4..]);
        var reader = new KafkaReader(raw!);
        Assert.Equal(77, reader.ReadInt32()); // v0 response header: no tagged fields
        var body = ApiVersionsResponse.Read(ref reader, 0);
        Assert.Equal((short)ErrorCode.UnsupportedVersion, body.ErrorCode);
        Assert.Contains(body.ApiKeys, k => k.ApiKey == 18 && k.MaxVersion == 3);
        Assert.True(reader.IsAtEnd);
    }

    [Fact]
    public async Task ResponseHeaderOfV3HasNoTaggedFieldsByte()
    {
        var (harness, _) = Create();
        var frame = HandlerHarness.EncodeRequest(18, 3, new ApiVersionsRequest(), 5);
        var raw = await harness.SendRawAsync(frame);
        // correlation id (4) then directly the v3 body: error code int16 = 0, then compact array length.
        Assert.Equal(new byte[] { 0, 0, 0, 5, 0, 0 }, raw![..6]);
    }

    [Fact]
    public async Task UnknownApiKeyClosesTheConnection()
    {
        var (harness, _) = Create();
        var frame = HandlerHarness.EncodeRequest(18, 0, new ApiVersionsRequest(), 1);
        frame[1] = 99; // api key 99
        await Assert.ThrowsAsync<Broker.Network.ProtocolViolationException>(() => harness.SendRawAsync(frame));
    }

    [Fact]
    public async Task TruncatedHeaderClosesTheConnection()
    {
        var (harness, _) = Create();
        await Assert.ThrowsAsync<Broker.Network.ProtocolViolationException>(() => harness.SendRawAsync(new byte[] { 0, 18, 0 }));
    }
}

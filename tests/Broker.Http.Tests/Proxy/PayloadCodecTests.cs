using System.Buffers;
using System.Text;
using System.Text.Json;
using Broker.Client;
using Broker.Core.Records;
using Broker.Http.Proxy;
using Xunit;

namespace Broker.Http.Tests.Proxy;

/// <summary>Produce-body parsing and record rendering in both embedded formats.</summary>
public sealed class PayloadCodecTests
{
    private static List<ProxyRecord> Parse(string json, ProxyFormat format) =>
        ProduceRequestParser.Parse(Encoding.UTF8.GetBytes(json), format);

    [Fact]
    public void Binary_DecodesBase64_KeepsNullsAndPartitions()
    {
        var records = Parse("""{"records":[{"value":"dmVjdG9yaXplZA==","partition":0},{"key":"AAE=","value":null,"partition":3},{}]}""",
            ProxyFormat.Binary);
        Assert.Equal(3, records.Count);
        Assert.Equal("vectorized", Encoding.UTF8.GetString(records[0].Value!));
        Assert.Null(records[0].Key);
        Assert.Equal(0, records[0].Partition);
        Assert.Equal(new byte[] { 0, 1 }, records[1].Key);
        Assert.Null(records[1].Value);
        Assert.Equal(3, records[1].Partition);
        Assert.Null(records[2].Partition);
    }

    [Fact]
    public void Json_StoresCompactSerialization()
    {
        var records = Parse("""
            {"records":[{"value":42},{"key":"json_test","value":{"integer": -5, "string":"str", "array":["élément"]}}]}
            """, ProxyFormat.Json);
        Assert.Equal("42", Encoding.UTF8.GetString(records[0].Value!));
        Assert.Equal("\"json_test\"", Encoding.UTF8.GetString(records[1].Key!));
        Assert.Equal("""{"integer":-5,"string":"str","array":["élément"]}""", Encoding.UTF8.GetString(records[1].Value!));
    }

    [Theory]
    [InlineData("")]
    [InlineData("not json")]
    [InlineData("[]")]
    [InlineData("{}")]
    [InlineData("""{"records":{}}""")]
    [InlineData("""{"values":[{"value":"AA=="}]}""")]
    [InlineData("""{"records":[{"value":"AA==","id":0}]}""")]
    [InlineData("""{"records":[{"value":"AA==","partition":"42"}]}""")]
    [InlineData("""{"records":[{"value":"AA==","partition":-1}]}""")]
    [InlineData("""{"records":[{"value":"AA==","partition":1.5}]}""")]
    [InlineData("""{"partition":42,"records":[]}""")]
    [InlineData("""{"records":["x"]}""")]
    [InlineData("""{"records":[{"value":"%%% not base64"}]}""")]
    [InlineData("""{"records":[{"value":12}]}""")]
    [InlineData("""{"records":[{"value":"AA=="}]""")]
    public void Binary_BadBodies_Are422(string body)
    {
        var ex = Assert.Throws<ProxyException>(() => Parse(body, ProxyFormat.Binary));
        Assert.Equal(422, ex.ErrorCode);
    }

    [Theory]
    [InlineData("""{"records":[{"value":invalid}]}""")]
    [InlineData("""{"records":[{"value":{"a":}}]}""")]
    public void Json_BadBodies_Are422(string body)
    {
        var ex = Assert.Throws<ProxyException>(() => Parse(body, ProxyFormat.Json));
        Assert.Equal(422, ex.ErrorCode);
    }

    private static ConsumedRecord Record(long offset, byte[]? key, byte[]? value) =>
        new("t", 2, offset, 0, key, value, Array.Empty<RecordHeader>());

    private static JsonElement Render(IReadOnlyList<ConsumedRecord> records, ProxyFormat format, long from = long.MinValue)
    {
        var buffer = new ArrayBufferWriter<byte>();
        RecordJsonWriter.Write(buffer, records, format, from);
        return JsonDocument.Parse(buffer.WrittenMemory).RootElement.Clone();
    }

    [Fact]
    public void Binary_Render_Base64_NullForAbsentOrEmpty_SkipsBeforeOffset()
    {
        var json = Render([Record(4, [1], [2]), Record(5, null, Encoding.UTF8.GetBytes("hi")), Record(6, [], null)],
            ProxyFormat.Binary, from: 5);
        Assert.Equal(2, json.GetArrayLength());
        var first = json[0];
        Assert.Equal("t", first.GetProperty("topic").GetString());
        Assert.Equal(JsonValueKind.Null, first.GetProperty("key").ValueKind);
        Assert.Equal("aGk=", first.GetProperty("value").GetString());
        Assert.Equal(2, first.GetProperty("partition").GetInt32());
        Assert.Equal(5, first.GetProperty("offset").GetInt64());
        Assert.Equal(JsonValueKind.Null, json[1].GetProperty("key").ValueKind);
        Assert.Equal(JsonValueKind.Null, json[1].GetProperty("value").ValueKind);
        // Field order is the documented one.
        Assert.Equal(["topic", "key", "value", "partition", "offset"], first.EnumerateObject().Select(p => p.Name).ToArray());
    }

    [Fact]
    public void Json_Render_EmbedsValues()
    {
        var json = Render([Record(0, Encoding.UTF8.GetBytes("\"k\""), Encoding.UTF8.GetBytes(" {\"a\": [1, true]} "))], ProxyFormat.Json);
        Assert.Equal("k", json[0].GetProperty("key").GetString());
        Assert.True(json[0].GetProperty("value").GetProperty("a")[1].GetBoolean());
    }

    [Theory]
    [InlineData("plain text")]
    [InlineData("{\"a\":1} {\"b\":2}")]
    [InlineData("{\"a\":")]
    public void Json_Render_NonJsonBytes_Are40801(string value)
    {
        var ex = Assert.Throws<ProxyException>(() => Render([Record(7, null, Encoding.UTF8.GetBytes(value))], ProxyFormat.Json));
        Assert.Equal(40801, ex.ErrorCode);
        Assert.Equal(408, ex.HttpStatus);
        Assert.Contains("offset 7", ex.Message);
    }

    [Fact]
    public void ErrorCodesMapToHttpStatus()
    {
        Assert.Equal(404, ProxyErrorCodes.HttpStatus(40403));
        Assert.Equal(422, ProxyErrorCodes.HttpStatus(422));
        Assert.Equal(503, ProxyErrorCodes.HttpStatus(50302));
        Assert.Equal(40402, ProxyErrorCodes.FromKafka(Core.Model.ErrorCode.UnknownTopicOrPartition));
        Assert.Equal(40002, ProxyErrorCodes.FromKafka(Core.Model.ErrorCode.OffsetOutOfRange));
        Assert.Equal(50302, ProxyErrorCodes.FromKafka(Core.Model.ErrorCode.LeaderNotAvailable));
        Assert.Equal(50003, ProxyErrorCodes.FromKafka(Core.Model.ErrorCode.RequestTimedOut));
    }
}

using System.Buffers;
using System.Text;
using System.Text.Json;
using Broker.Http.Admin;
using Xunit;

namespace Broker.Http.Tests.Admin;

/// <summary>The cluster_config JSON: typed values out, patches in (and every way a patch can be wrong).</summary>
public sealed class ClusterConfigJsonTests
{
    [Fact]
    public void Write_TypesCanonicalNumbersAndBooleans_KeepsTheRestAsStrings()
    {
        var config = new Dictionary<string, string?>
        {
            ["a.int"] = "604800000", ["b.neg"] = "-1", ["c.bool"] = "true", ["d.ratio"] = "0.5", ["e.null"] = null,
            ["f.list"] = "delete,compact", ["g.padded"] = "007", ["h.plus"] = "+5", ["i.huge"] = "99999999999999999999",
            ["j.exp"] = "1e5", ["k.text"] = "producer", ["l.True"] = "True",
        };
        var buffer = new ArrayBufferWriter<byte>();
        ClusterConfigJson.Write(buffer, config);
        using var doc = JsonDocument.Parse(buffer.WrittenMemory);
        var root = doc.RootElement;
        Assert.Equal(config.Keys.Order(StringComparer.Ordinal), root.EnumerateObject().Select(p => p.Name)); // sorted
        Assert.Equal(604800000, root.GetProperty("a.int").GetInt64());
        Assert.Equal(-1, root.GetProperty("b.neg").GetInt64());
        Assert.Equal(JsonValueKind.True, root.GetProperty("c.bool").ValueKind);
        Assert.Equal(0.5, root.GetProperty("d.ratio").GetDouble());
        Assert.Equal(JsonValueKind.Null, root.GetProperty("e.null").ValueKind);
        foreach (string key in new[] { "f.list", "g.padded", "h.plus", "i.huge", "j.exp", "k.text", "l.True" })
            Assert.Equal(config[key], root.GetProperty(key).GetString());
    }

    [Fact]
    public void ParsePatch_ConvertsValues_NullMeansRemove()
    {
        var patch = Parse("""{"upsert":{"s":"x","n":12,"d":0.25,"b":false,"l":["delete","compact"],"z":null},"remove":["r"]}""");
        Assert.Equal("x", patch.Upsert["s"]);
        Assert.Equal("12", patch.Upsert["n"]);
        Assert.Equal("0.25", patch.Upsert["d"]);
        Assert.Equal("false", patch.Upsert["b"]);
        Assert.Equal("delete,compact", patch.Upsert["l"]);
        Assert.False(patch.Upsert.ContainsKey("z"));
        Assert.Equal(["z", "r"], patch.Remove);
    }

    [Theory]
    [InlineData("[]", "must be a JSON object")]
    [InlineData("""{"upsert":[1]}""", "'upsert' must be an object")]
    [InlineData("""{"remove":"a"}""", "'remove' must be an array")]
    [InlineData("""{"remove":[1]}""", "must hold property names")]
    [InlineData("""{"upsert":{"a":{"b":1}}}""", "value of 'a' must be")]
    [InlineData("""{"upsert":{"a":[[1]]}}""", "list value of 'a'")]
    [InlineData("""{"upsert":{"a":1},"remove":["a"]}""", "both upserted and removed")]
    [InlineData("""{"upsert":{},"remove":[]}""", "nothing to change")]
    [InlineData("""{"set":{"a":1}}""", "unknown field 'set'")]
    [InlineData("""{"upsert":{"":1}}""", "must not be empty")]
    public void ParsePatch_RefusesBadShapes_WithAMessage(string json, string expected)
    {
        var ex = Assert.Throws<ClusterConfigJson.PatchException>(() => Parse(json));
        Assert.Contains(expected, ex.Message);
    }

    private static ClusterConfigJson.Patch Parse(string json)
    {
        using var doc = JsonDocument.Parse(json);
        return ClusterConfigJson.ParsePatch(doc.RootElement);
    }
}

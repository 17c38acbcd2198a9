using Broker.Protocol.Generator;
using Xunit;

namespace Broker.Protocol.Tests;

public class GeneratedCodeTests
{
    [Fact]
    public void CheckedInGeneratedFilesMatchTheDefinitions()
    {
        string messages = Path.Combine(RepoPaths.Root, "src", "Broker.Protocol", "Messages");
        string generated = Path.Combine(RepoPaths.Root, "src", "Broker.Protocol", "Generated");
        var expected = Broker.Protocol.Generator.Generator.GenerateAll(messages);
        var stale = new List<string>();
        foreach (var (name, text) in expected)
        {
            string path = Path.Combine(generated, name);
            if (!File.Exists(path) || File.ReadAllText(path) != text) stale.Add(name);
        }
        foreach (var path in Directory.GetFiles(generated, "*.g.cs"))
            if (!expected.ContainsKey(Path.GetFileName(path))) stale.Add(Path.GetFileName(path) + " (no definition)");
        Assert.True(stale.Count == 0,
            "regenerate with `dotnet run --project tools/Broker.Protocol.Generator -- src/Broker.Protocol/Messages src/Broker.Protocol/Generated`: " +
            string.Join(", ", stale));
    }

    [Fact]
    public void ParserRejectsBadDefinitionsWithFileAndLine()
    {
        var ex = Assert.Throws<DefinitionException>(() => DefinitionParser.Parse("request X key=1 versions=0-2 flexible=none\n  A int32 zero\n", "x.msg"));
        Assert.Contains("x.msg:2", ex.Message);
        ex = Assert.Throws<DefinitionException>(() => DefinitionParser.Parse("request X versions=0-2 flexible=none\n", "y.msg"));
        Assert.Contains("key=", ex.Message);
        ex = Assert.Throws<DefinitionException>(() => DefinitionParser.Parse("request X key=1 versions=0-2 flexible=none\n   A int32 0+\n", "z.msg"));
        Assert.Contains("two spaces", ex.Message);
        ex = Assert.Throws<DefinitionException>(() => DefinitionParser.Parse("request X key=1 versions=0-2 flexible=none\n  A []Thing 0+\n  B int8 0+\n", "w.msg"));
        Assert.Contains("no fields", ex.Message);
    }
}

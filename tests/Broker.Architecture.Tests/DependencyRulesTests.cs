using System.Runtime.CompilerServices;
using System.Xml.Linq;
using Xunit;

namespace Broker.Architecture.Tests;

/// <summary>
/// The layering rules, checked from the project files: each src project may reference only the projects listed
/// here, so dependencies stay one-way (transport, codec, storage, consensus, metadata, Kafka server, host).
/// </summary>
public class DependencyRulesTests
{
    private static readonly Dictionary<string, string[]> Allowed = new()
    {
        ["Broker.Core"] = [],
        ["Broker.Protocol"] = ["Broker.Core"],
        ["Broker.Storage"] = ["Broker.Core", "Broker.Compression"],
        ["Broker.Raft"] = ["Broker.Core"],
        ["Broker.Consensus"] = ["Broker.Core", "Broker.Storage", "Broker.Raft"],
        ["Broker.Cluster"] = ["Broker.Core", "Broker.Protocol", "Broker.Network", "Broker.Raft", "Broker.Consensus"],
        ["Broker.Metadata"] = ["Broker.Core", "Broker.Storage", "Broker.Consensus"],
        ["Broker.Groups"] = ["Broker.Core", "Broker.Storage", "Broker.Consensus"],
        ["Broker.Network"] = ["Broker.Core"],
        ["Broker.Config"] = ["Broker.Core"],
        ["Broker.Server"] = ["Broker.Core", "Broker.Protocol", "Broker.Storage", "Broker.Raft", "Broker.Consensus", "Broker.Metadata", "Broker.Network", "Broker.Config", "Broker.Cluster", "Broker.Groups", "Broker.Compression"],
        ["Broker.Compression"] = ["Broker.Core"],
        ["Broker.Client"] = ["Broker.Core", "Broker.Protocol", "Broker.Compression"],
        ["Broker.Http"] = ["Broker.Core", "Broker.Compression", "Broker.Client"],
        ["Broker.Cli"] = ["Broker.Core", "Broker.Protocol", "Broker.Compression", "Broker.Client"],
        ["Broker.Host"] = ["*"],
    };

    private static string Root([CallerFilePath] string path = "") => Path.GetFullPath(Path.Combine(Path.GetDirectoryName(path)!, "..", ".."));

    public static IEnumerable<object[]> Projects() =>
        Directory.GetDirectories(Path.Combine(Root(), "src")).Select(d => new object[] { Path.GetFileName(d) })
            .Where(p => File.Exists(Path.Combine(Root(), "src", (string)p[0], (string)p[0] + ".csproj")));

    [Theory]
    [MemberData(nameof(Projects))]
    public void ProjectReferencesFollowTheLayering(string project)
    {
        Assert.True(Allowed.ContainsKey(project), $"{project} has no layering rule: add it to {nameof(DependencyRulesTests)}");
        var allowed = Allowed[project];
        var csproj = XDocument.Load(Path.Combine(Root(), "src", project, project + ".csproj"));
        foreach (var reference in csproj.Descendants("ProjectReference"))
        {
            string target = Path.GetFileNameWithoutExtension(reference.Attribute("Include")!.Value.Replace('\\', '/'));
            Assert.True(allowed.Contains("*") || allowed.Contains(target), $"{project} must not reference {target}");
        }
    }

    [Fact]
    public void StorageNeverSeesWireTypes()
    {
        foreach (var file in Directory.GetFiles(Path.Combine(Root(), "src", "Broker.Storage"), "*.cs", SearchOption.AllDirectories))
            Assert.DoesNotContain("Broker.Protocol", File.ReadAllText(file));
    }

    [Fact]
    public void LibrariesAreMarkedAotCompatible()
    {
        var props = XDocument.Load(Path.Combine(Root(), "src", "Directory.Build.props"));
        Assert.Equal("true", props.Descendants("IsAotCompatible").Single().Value);
        Assert.Equal("true", props.Descendants("TreatWarningsAsErrors").Single().Value);
    }
}

using Broker.Config;
using Xunit;

namespace Broker.Config.Tests;

/// <summary>Self-consistency of the known-key table and of the template rendered from it.</summary>
public class KnownKeyTableTests
{
    [Fact]
    public void Names_are_unique_and_sections_known()
    {
        var names = ConfigKeys.All.Select(k => k.Name).ToList();
        Assert.Equal(names.Count, names.Distinct().Count());
        foreach (var k in ConfigKeys.All)
        {
            Assert.Contains(k.Section, ConfigKeys.Sections);
            Assert.False(string.IsNullOrWhiteSpace(k.Doc), k.Name);
            Assert.False(ConfigKeys.IsKafkaSettingNotUsed(k.Name), $"{k.Name} is both known and 'not used'");
        }
    }

    [Fact]
    public void Aliases_point_at_known_canonical_keys()
    {
        foreach (var k in ConfigKeys.All.Where(k => k.AliasOf is not null))
        {
            var target = ConfigKeys.Find(k.AliasOf!);
            Assert.NotNull(target);
            Assert.Null(target.AliasOf);
        }
    }

    [Fact]
    public void Every_default_passes_its_own_validation()
    {
        foreach (var k in ConfigKeys.All.Where(k => k.Default is not null))
            Assert.True(k.Check(k.Default!) is null, $"{k.Name}: default '{k.Default}' fails: {k.Check(k.Default!)}");
    }

    [Fact]
    public void Range_descriptions()
    {
        Assert.Equal("a positive integer", ConfigKeys.Find("num.partitions")!.DescribeRange());
        Assert.Equal("a non-negative integer", ConfigKeys.Find("node.id")!.DescribeRange());
        Assert.Equal("an integer >= 14", ConfigKeys.Find("log.segment.bytes")!.DescribeRange());
        Assert.Equal("an integer >= -1 (-1 = unlimited)", ConfigKeys.Find("log.retention.bytes")!.DescribeRange());
        Assert.Equal("a number between 0 and 1", ConfigKeys.Find("log.cleaner.min.cleanable.ratio")!.DescribeRange());
    }

    [Fact]
    public void Template_documents_every_key_once_and_sets_the_single_node_values()
    {
        string text = ServerPropertiesTemplate.RenderSingleNode("/var/lib/broker");
        var lines = text.Split('\n');
        foreach (var k in ConfigKeys.All)
        {
            int n = lines.Count(l => l.StartsWith(k.Name + "=", StringComparison.Ordinal) || l.StartsWith("#" + k.Name + "=", StringComparison.Ordinal));
            Assert.True(n == 1, $"{k.Name} appears {n} times as a setting");
        }
        Assert.Contains("\nlog.dirs=/var/lib/broker\n", text);
        Assert.Contains("\n#num.partitions=1\n", text);
        Assert.All(lines.Where(l => l.StartsWith('#')), l => Assert.True(l.Length <= 100, $"comment line too long: {l}"));
    }

    [Fact]
    public void Template_is_a_valid_configuration_without_warnings()
    {
        using var dir = new TempDir();
        string path = dir.Write("server.properties", ServerPropertiesTemplate.RenderSingleNode(Path.Combine(dir.Path, "d")));
        var (config, warnings) = BrokerConfig.Load(path);
        Assert.Empty(warnings);
        Assert.Equal(ProcessRoles.Combined, config.Roles);
        Assert.Equal([Path.Combine(dir.Path, "d")], config.LogDirs);
        // Same effective values as the built-in single node.
        var builtIn = BrokerConfig.Default(Path.Combine(dir.Path, "d"));
        foreach (var e in builtIn.Effective) Assert.Equal(e.Value, config.GetEffective(e.Key));
    }

    [Fact]
    public void Render_rejects_unknown_active_keys()
    {
        Assert.Throws<ArgumentException>(() => ServerPropertiesTemplate.Render([new("no.such.key", "1")]));
    }
}

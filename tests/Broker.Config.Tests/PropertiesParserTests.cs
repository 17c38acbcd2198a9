using Broker.Config;
using Xunit;

namespace Broker.Config.Tests;

public class PropertiesParserTests
{
    private static Dictionary<string, PropertyEntry> Parse(string text) =>
        PropertiesParser.Parse(text).ByKey.ToDictionary(kv => kv.Key, kv => kv.Value);

    [Theory]
    [InlineData("a=b")]
    [InlineData("a = b")]
    [InlineData("a: b")]
    [InlineData("a :b")]
    [InlineData("a b")]
    [InlineData("a\tb")]
    [InlineData("   a   =   b   ")]
    [InlineData("a\f=\fb")]
    public void Separators_and_surrounding_whitespace(string line)
    {
        var e = Parse(line)["a"];
        Assert.Equal("b", e.Value);
        Assert.Equal(1, e.LineNumber);
    }

    [Fact]
    public void Only_the_first_separator_splits()
    {
        var d = Parse("a=b=c\nx:y:z\nk v w\nm =:n");
        Assert.Equal("b=c", d["a"].Value);
        Assert.Equal("y:z", d["x"].Value);
        Assert.Equal("v w", d["k"].Value);
        Assert.Equal(":n", d["m"].Value);
    }

    [Fact]
    public void Key_without_value_is_empty()
    {
        var d = Parse("lonely\nempty=\nspaced =   \n");
        Assert.Equal("", d["lonely"].Value);
        Assert.Equal("", d["empty"].Value);
        Assert.Equal("", d["spaced"].Value);
    }

    [Fact]
    public void Comments_and_blank_lines_are_skipped_and_lines_counted()
    {
        string text = "# comment\n! bang comment\n\n   \n  # indented comment\na=1\r\nb=2\rc=3\n";
        var d = Parse(text);
        Assert.Equal(3, d.Count);
        Assert.Equal(6, d["a"].LineNumber);
        Assert.Equal(7, d["b"].LineNumber);   // \r\n is one line break
        Assert.Equal(8, d["c"].LineNumber);   // a lone \r is a line break too
    }

    [Fact]
    public void Hash_inside_a_value_is_not_a_comment()
    {
        Assert.Equal("x#y # z", Parse("a=x#y # z")["a"].Value);
    }

    [Fact]
    public void Continuation_joins_lines_and_drops_leading_whitespace()
    {
        string text = "first=1\nlisteners=PLAINTEXT://:9092,\\\n    CONTROLLER://:9093\nafter=2\n";
        var d = Parse(text);
        Assert.Equal("PLAINTEXT://:9092,CONTROLLER://:9093", d["listeners"].Value);
        Assert.Equal(2, d["listeners"].LineNumber);    // the line the entry starts on
        Assert.Equal(4, d["after"].LineNumber);        // following lines keep their numbers
    }

    [Fact]
    public void Continuation_over_several_lines_and_comment_like_continuation_text()
    {
        var d = Parse("a=1\\\n  2\\\n  # not a comment\nb=3");
        Assert.Equal("12# not a comment", d["a"].Value);
        Assert.Equal(4, d["b"].LineNumber);
    }

    [Fact]
    public void Even_number_of_trailing_backslashes_does_not_continue()
    {
        var d = Parse("a=x\\\\\nb=y");
        Assert.Equal("x\\", d["a"].Value);
        Assert.Equal("y", d["b"].Value);
    }

    [Fact]
    public void Continuation_at_end_of_file_is_harmless()
    {
        Assert.Equal("x", Parse("a=x\\")["a"].Value);
    }

    [Fact]
    public void A_comment_line_ending_in_backslash_does_not_continue()
    {
        var d = Parse("# comment \\\na=1");
        Assert.Equal("1", d["a"].Value);
        Assert.Equal(2, d["a"].LineNumber);
    }

    [Fact]
    public void Escapes_in_values()
    {
        var d = Parse(@"a=tab\there\nnl\\back\=eq\:colon\ space\u0041\u00e9\#hash\r\f");
        Assert.Equal("tab\there\nnl\\back=eq:colon spaceAé#hash\r\f", d["a"].Value);
    }

    [Fact]
    public void Escapes_in_keys_allow_separators_inside_keys()
    {
        var d = Parse(@"my\=key=1" + "\n" + @"my\ key\:x 2");
        Assert.Equal("1", d["my=key"].Value);
        Assert.Equal("2", d["my key:x"].Value);
    }

    [Fact]
    public void Escaped_trailing_space_is_kept_unescaped_is_trimmed()
    {
        Assert.Equal("v ", Parse("a=v\\ \n")["a"].Value);
        Assert.Equal("v", Parse("a=v   \t\n")["a"].Value);
    }

    [Fact]
    public void Malformed_unicode_escape_reports_the_line()
    {
        var ex = Assert.Throws<ConfigException>(() => PropertiesParser.Parse("a=1\nb=\\u12G4\n", "s.properties"));
        Assert.Equal(2, ex.LineNumber);
        Assert.StartsWith("s.properties:2: ", ex.Message);
        Assert.Contains("\\uXXXX", ex.Message);
    }

    [Fact]
    public void Empty_key_is_an_error_with_line()
    {
        var ex = Assert.Throws<ConfigException>(() => PropertiesParser.Parse("a=1\n\n=value\n", "f"));
        Assert.Equal(3, ex.LineNumber);
    }

    [Fact]
    public void Duplicate_keys_last_wins_and_warning_names_both_lines()
    {
        var doc = PropertiesParser.Parse("a=1\nb=2\na=3\n", "x.properties");
        Assert.Equal("3", doc.ByKey["a"].Value);
        Assert.Equal(3, doc.ByKey["a"].LineNumber);
        Assert.Equal(2, doc.Entries.Count);
        var w = Assert.Single(doc.Warnings);
        Assert.Equal(ConfigWarningKind.DuplicateKey, w.Kind);
        Assert.Equal("a", w.Key);
        Assert.Contains("lines 1 and 3", w.Message);
    }

    [Fact]
    public void Utf8_bom_is_skipped()
    {
        Assert.Equal("1", Parse("\uFEFFa=1")["a"].Value);
    }

    [Fact]
    public void ParseFile_missing_file_is_a_config_error_not_a_crash()
    {
        string path = Path.Combine(Path.GetTempPath(), "does-not-exist-" + Guid.NewGuid().ToString("N"), "server.properties");
        var ex = Assert.Throws<ConfigException>(() => PropertiesParser.ParseFile(path));
        Assert.Contains("file not found", ex.Message);
        Assert.StartsWith(path + ": ", ex.Message);
    }

    [Fact]
    public void ParseFile_directory_is_a_config_error()
    {
        using var dir = new TempDir();
        var ex = Assert.Throws<ConfigException>(() => PropertiesParser.ParseFile(dir.Path));
        Assert.Contains("cannot read configuration file", ex.Message);
    }

    [Fact]
    public void ParseFile_invalid_utf8_is_a_config_error()
    {
        using var dir = new TempDir();
        string p = Path.Combine(dir.Path, "bad.properties");
        File.WriteAllBytes(p, [(byte)'a', (byte)'=', 0xC3, 0x28]);
        var ex = Assert.Throws<ConfigException>(() => PropertiesParser.ParseFile(p));
        Assert.Contains("UTF-8", ex.Message);
    }

    [Fact]
    public void Escaped_values_round_trip_through_EscapeValue()
    {
        foreach (string v in new[] { "plain", " leading", "trailing  ", "back\\slash", "tab\tnew\nline", "a=b:c#d", "" })
        {
            string text = "k=" + ServerPropertiesTemplate.EscapeValue(v) + "\n";
            Assert.Equal(v, Parse(text)["k"].Value);
        }
    }
}

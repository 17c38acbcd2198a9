using Broker.Cli.Arguments;
using Xunit;

namespace Broker.Cli.Tests;

public class ArgParserTests
{
    private static readonly OptionSpec[] s_options =
    [
        OptionSpec.Value("-p|--partitions", "N", "partitions"),
        OptionSpec.Repeated("-c|--config", "K=V", "configs"),
        OptionSpec.Flag("--dry-run", "dry"),
        OptionSpec.Value("--offset", "N", "offset"),
    ];

    private static ParsedArgs? Parse(params string[] args) =>
        ArgParser.Parse(args, 0, "topic create", s_options, 1, 2, "topic name");

    [Fact]
    public void ShortLongAndInlineForms()
    {
        var a = Parse("t1", "-p", "3", "--config=a=b", "-c", "x=y", "--dry-run")!;
        Assert.Equal(new[] { "t1" }, a.Positionals);
        Assert.Equal("3", a.Get("partitions"));
        Assert.Equal(new[] { "a=b", "x=y" }, a.GetAll("config"));
        Assert.True(a.Has("dry-run"));
        Assert.False(a.Has("offset"));
        Assert.Null(a.Get("offset"));
        Assert.Empty(a.GetAll("offset"));
    }

    [Fact]
    public void ValueOptionTakesNextArgumentEvenWhenItLooksLikeAnOption()
    {
        var a = Parse("t", "--offset", "-2")!;
        Assert.Equal("-2", a.Get("offset"));
    }

    [Fact]
    public void DoubleDashEndsOptions_LoneDashIsPositional()
    {
        var a = Parse("--", "-weird-topic", "-")!;
        Assert.Equal(new[] { "-weird-topic", "-" }, a.Positionals);
    }

    [Fact]
    public void HelpAnywhereReturnsNull()
    {
        Assert.Null(Parse("t", "--help"));
        Assert.Null(Parse("-h"));
    }

    [Theory]
    [InlineData("unknown option '--nope' for 'topic create'", "t", "--nope")]
    [InlineData("option -p needs a value (N)", "t", "-p")]
    [InlineData("option --partitions given more than once", "t", "-p", "1", "--partitions", "2")]
    [InlineData("option --dry-run takes no value", "t", "--dry-run=yes")]
    [InlineData("missing topic name", "--dry-run")]
    [InlineData("unexpected argument 'c'", "a", "b", "c")]
    [InlineData("did you mean --partitions?", "t", "--partition", "1")]
    public void Errors(string expected, params string[] args)
    {
        var ex = Assert.Throws<UsageException>(() => Parse(args));
        Assert.Contains(expected, ex.Message);
        Assert.Equal("topic create", ex.CommandPath);
    }

    [Fact]
    public void TypedAccessorsNameTheOption()
    {
        var a = Parse("t", "-p", "x")!;
        var ex = Assert.Throws<UsageException>(() => a.GetInt("partitions", -1, 1, 100));
        Assert.Equal("--partitions expects a whole number, got 'x'", ex.Message);
        a = Parse("t", "-p", "0")!;
        ex = Assert.Throws<UsageException>(() => a.GetInt("partitions", -1, 1, 100));
        Assert.Equal("--partitions must be between 1 and 100, got 0", ex.Message);
        a = Parse("t")!;
        Assert.Equal(-1, a.GetInt("partitions", -1, 1, 100));
    }
}

using System.Text;
using Broker.Cli.Commands;
using Xunit;

namespace Broker.Cli.Tests;

public class ProduceInputTests
{
    [Fact]
    public void LinesSplitAtTheFirstSeparator()
    {
        var r = ProduceCommand.ToRecord("k1\tv1\tmore", "\t", null);
        Assert.Equal("k1", Encoding.UTF8.GetString(r.Key!));
        Assert.Equal("v1\tmore", Encoding.UTF8.GetString(r.Value!));

        r = ProduceCommand.ToRecord("key::value", "::", null);
        Assert.Equal("key", Encoding.UTF8.GetString(r.Key!));
        Assert.Equal("value", Encoding.UTF8.GetString(r.Value!));

        r = ProduceCommand.ToRecord("\tv", "\t", null);
        Assert.Equal("", Encoding.UTF8.GetString(r.Key!));
    }

    [Fact]
    public void LinesWithoutSeparatorHaveANullKey()
    {
        var r = ProduceCommand.ToRecord("no separator here", "\t", null);
        Assert.Null(r.Key);
        Assert.Equal("no separator here", Encoding.UTF8.GetString(r.Value!));
        r = ProduceCommand.ToRecord("plain ünïcode", null, null);
        Assert.Null(r.Key);
        Assert.Equal("plain ünïcode", Encoding.UTF8.GetString(r.Value!));
        Assert.Empty(ProduceCommand.ToRecord("", null, null).Value!);
    }

    [Fact]
    public void SyntheticValuesHaveTheSizeAndTheirIndex()
    {
        Assert.Equal("42........", Encoding.ASCII.GetString(ProduceCommand.SyntheticValue(42, 10)));
        Assert.Equal("12", Encoding.ASCII.GetString(ProduceCommand.SyntheticValue(12345, 2)));
        Assert.Empty(ProduceCommand.SyntheticValue(1, 0));
    }
}

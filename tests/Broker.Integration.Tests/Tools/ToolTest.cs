using Broker.Integration.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace Broker.Integration.Tests.Tools;

/// <summary>Base of the operator tool tests: runs <c>broker &lt;verb&gt; ...</c> against a broker and asserts with
/// the tool's output and the broker's log tail in the message.</summary>
public abstract class ToolTest : IntegrationTest
{
    protected ToolTest(ITestOutputHelper output) : base(output) { }

    protected static readonly TimeSpan ToolTimeout = TimeSpan.FromSeconds(60);

    /// <summary>Runs the tool against <paramref name="broker"/> (its bootstrap added as -b unless args name one).</summary>
    protected ScriptResult Tool(BrokerProcess? broker, params string[] args) => ToolIn(broker, null, args);

    protected ScriptResult ToolIn(BrokerProcess? broker, string? stdin, params string[] args)
    {
        var all = new List<string>(args);
        if (broker is not null && !args.Contains("-b") && !args.Contains("--admin-url") && NeedsBootstrap(args))
            all.AddRange(new[] { "-b", broker.Bootstrap });
        return Log(ToolRunner.Run(all.ToArray(), stdin, ToolTimeout));
    }

    private static bool NeedsBootstrap(string[] args) => !(args.Length >= 2 && args[0] == "cluster" && args[1] == "health");

    protected static void AssertOk(ScriptResult r, BrokerProcess? broker, string what)
    {
        if (!r.Succeeded) Assert.Fail($"{what}: expected exit 0\n{r.Describe()}\n{broker?.DescribeState()}");
    }

    protected static void AssertExit(int code, ScriptResult r, BrokerProcess? broker, string what)
    {
        Assert.False(r.TimedOut, $"{what}: timed out\n{r.Describe()}\n{broker?.DescribeState()}");
        if (r.ExitCode != code) Assert.Fail($"{what}: expected exit {code}, got {r.ExitCode}\n{r.Describe()}\n{broker?.DescribeState()}");
    }

    /// <summary>A broker with immediate group rebalances (no 3 s initial delay).</summary>
    protected BrokerProcess StartToolBroker(string name) =>
        StartBroker(name, new Dictionary<string, string> { ["group.initial.rebalance.delay.ms"] = "0" });
}

using System.Text.RegularExpressions;
using Broker.Integration.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace Broker.Integration.Tests;

/// <summary>Command-line behaviour of the published binary: version, help, configuration errors, SIGTERM.</summary>
public sealed class CliTests : IntegrationTest
{
    private static readonly TimeSpan CliTimeout = TimeSpan.FromSeconds(20);

    public CliTests(ITestOutputHelper output) : base(output) { }

    private ScriptResult RunBroker(params string[] args) => Log(ScriptRunner.Run(TestPaths.BrokerBin, args, CliTimeout));

    [Fact]
    public void Version_PrintsAVersion_ExitsZero()
    {
        var r = RunBroker("--version");
        Assert.True(r.Succeeded, r.Describe());
        Assert.Matches(new Regex(@"\d+\.\d+\.\d+"), r.Stdout);
    }

    [Fact]
    public void Help_PrintsUsage_ExitsZero()
    {
        var r = RunBroker("--help");
        Assert.True(r.Succeeded, r.Describe());
        Assert.Contains("start", r.Stdout);
        Assert.Contains("--config", r.Stdout);
    }

    [Fact]
    public void UnknownCommand_ExitsNonZero_WithMessage()
    {
        var r = RunBroker("frobnicate");
        Assert.False(r.TimedOut, r.Describe());
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("frobnicate", r.Stdout + r.Stderr);
    }

    [Fact]
    public void BadConfigValue_ExitsNonZero_NamesKeyAndLine_CreatesNoDataDir()
    {
        var (port, cport) = BrokerProcess.FreePortPair();
        string dataDir = Scratch("never-created");
        string config = Scratch("bad.properties");
        string text = BrokerProcess.ConfigText(port, cport, dataDir);
        // Put the bad value on line 3 (line 1 is the fixture's comment, line 2 process.roles).
        var lines = text.Split('\n').ToList();
        lines.Insert(2, "num.partitions=abc");
        File.WriteAllText(config, string.Join('\n', lines));
        Assert.Equal("num.partitions=abc", File.ReadAllLines(config)[2]);

        var r = RunBroker("start", "--config", config);
        Assert.False(r.TimedOut, "broker kept running with an invalid configuration\n" + r.Describe());
        Assert.NotEqual(0, r.ExitCode);
        string all = r.Stdout + r.Stderr;
        Assert.True(all.Contains("num.partitions"), "the error does not name the key\n" + r.Describe());
        Assert.True(Regex.IsMatch(all, @"(:3\b|line 3\b)"), "the error does not name line 3\n" + r.Describe());
        Assert.False(Directory.Exists(dataDir), $"the data dir {dataDir} was created although the configuration is invalid");
    }

    [Fact]
    public void ControllerNodeNotAmongVoters_ExitsNonZero()
    {
        var (port, cport) = BrokerProcess.FreePortPair();
        string config = Scratch("novoter.properties");
        File.WriteAllText(config, BrokerProcess.ConfigText(port, cport, Scratch("data"),
            new Dictionary<string, string> { ["node.id"] = "2" }));
        var r = RunBroker("start", "--config", config);
        Assert.False(r.TimedOut, "broker started although its node.id is not in controller.quorum.voters\n" + r.Describe());
        Assert.NotEqual(0, r.ExitCode);
        string all = r.Stdout + r.Stderr;
        Assert.True(all.Contains("voters") || all.Contains("node.id"),
            "the error names neither node.id nor controller.quorum.voters\n" + r.Describe());
    }

    [Fact]
    public void Sigterm_ShutsDownWithin5Seconds_ExitCodeZero()
    {
        var broker = StartBroker("sigterm");
        // Give it some state to flush.
        AssertScriptOk(Confluent(broker, "roundtrip", "--topic", "st", "--codecs", "none", "--count", "50", "--partitions", "2"),
            broker, "round trip before SIGTERM");
        var (code, took) = broker.Stop(TimeSpan.FromSeconds(10));
        Assert.Equal(0, code);
        Assert.True(took < TimeSpan.FromSeconds(5), $"shutdown took {took.TotalSeconds:F1} s (limit 5 s)\n{broker.DescribeState()}");
    }
}

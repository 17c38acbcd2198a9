using Broker.Core.Records;
using Broker.Cli.Arguments;
using Broker.Cli.Commands;
using Broker.Client;
using Broker.Compression;
using Xunit;

namespace Broker.Cli.Tests;

/// <summary>From argv to each command's typed options, and the usage errors on the way.</summary>
public class CommandParsingTests
{
    private static ParsedArgs Args(params string[] argv)
    {
        var (def, parsed, help) = BrokerTool.Resolve(argv);
        Assert.NotNull(def);
        Assert.Null(help);
        return parsed!;
    }

    private static UsageException Usage(Action parse) => Assert.Throws<UsageException>(parse);

    [Fact]
    public void TopicCreate()
    {
        var o = TopicCommands.ParseCreate(Args("topic", "create", "a", "b", "-p", "6", "-r", "3", "-c", "retention.ms=1000",
            "--config", "cleanup.policy=compact", "--if-not-exists"));
        Assert.Equal(new[] { "a", "b" }, o.Names);
        Assert.Equal(6, o.Partitions);
        Assert.Equal((short)3, o.ReplicationFactor);
        Assert.Equal("1000", o.Configs["retention.ms"]);
        Assert.Equal("compact", o.Configs["cleanup.policy"]);
        Assert.True(o.IfNotExists);
        Assert.False(o.DryRun);

        var defaults = TopicCommands.ParseCreate(Args("topic", "create", "x", "--replication-factor", "2"));
        Assert.Equal(-1, defaults.Partitions);
        Assert.Equal((short)2, defaults.ReplicationFactor);
        Assert.Empty(defaults.Configs);
    }

    [Fact]
    public void TopicCreateErrors()
    {
        Assert.Equal("missing topic name (at least 1 expected)", Usage(() => Args("topic", "create")).Message);
        Assert.Contains("--partitions must be between 1", Usage(() => TopicCommands.ParseCreate(Args("topic", "create", "t", "-p", "0"))).Message);
        Assert.Contains("--config expects key=value", Usage(() => TopicCommands.ParseCreate(Args("topic", "create", "t", "-c", "x"))).Message);
        Assert.Contains("--config a given more than once", Usage(() => TopicCommands.ParseCreate(Args("topic", "create", "t", "-c", "a=1", "-c", "a=2"))).Message);
        Assert.Contains("named more than once", Usage(() => TopicCommands.ParseCreate(Args("topic", "create", "t", "t"))).Message);
        Assert.Contains("must not be empty", Usage(() => TopicCommands.ParseCreate(Args("topic", "create", ""))).Message);
    }

    [Fact]
    public void TopicAlterConfig()
    {
        var o = TopicCommands.ParseAlter(Args("topic", "alter-config", "t", "--set", "retention.ms=5", "--delete", "cleanup.policy",
            "--append", "l=x", "--subtract", "m=y", "--dry-run"));
        Assert.Equal("t", o.Topic);
        Assert.True(o.DryRun);
        Assert.Equal(new[]
        {
            new ConfigAlteration("retention.ms", ConfigAlterOp.Set, "5"),
            new ConfigAlteration("cleanup.policy", ConfigAlterOp.Delete, null),
            new ConfigAlteration("l", ConfigAlterOp.Append, "x"),
            new ConfigAlteration("m", ConfigAlterOp.Subtract, "y"),
        }, o.Alterations);

        Assert.Contains("nothing to change", Usage(() => TopicCommands.ParseAlter(Args("topic", "alter-config", "t"))).Message);
        Assert.Contains("changed more than once",
            Usage(() => TopicCommands.ParseAlter(Args("topic", "alter-config", "t", "--set", "a=1", "--delete", "a"))).Message);
        Assert.Contains("--delete expects a configuration name",
            Usage(() => TopicCommands.ParseAlter(Args("topic", "alter-config", "t", "--delete", "a=1"))).Message);
        Assert.Equal("unexpected argument 'u'", Usage(() => Args("topic", "alter-config", "t", "u", "--set", "a=1")).Message);
    }

    [Fact]
    public void Produce()
    {
        var o = ProduceCommand.Parse(Args("produce", "t", "--key-separator", @"\t", "--partition", "2", "-z", "lz4", "--acks", "1",
            "-H", "h=v", "--file", "in.txt", "--batch-records", "10", "-q"));
        Assert.Equal("t", o.Topic);
        Assert.Equal("\t", o.KeySeparator);
        Assert.Equal(2, o.Partition);
        Assert.Equal(CompressionCodec.Lz4, o.Compression);
        Assert.Equal((short)1, o.Acks);
        Assert.Equal("in.txt", o.File);
        Assert.False(o.Synthetic);
        Assert.Equal(10, o.BatchRecords);
        Assert.True(o.Quiet);
        Assert.Single(o.Headers);
        Assert.Equal("h", o.Headers[0].Key);

        var d = ProduceCommand.Parse(Args("produce", "t", "--count", "5", "--size", "10"));
        Assert.True(d.Synthetic);
        Assert.Equal(5, d.Count);
        Assert.Equal(10, d.Size);
        Assert.Equal(-1, d.Partition);
        Assert.Equal(CompressionCodec.None, d.Compression);
        Assert.Equal((short)-1, d.Acks);
        Assert.Null(ProduceCommand.Parse(Args("produce", "t", "--file", "-")).File);
    }

    [Theory]
    [InlineData("give either --file or --count", "produce", "t", "--file", "f", "--count", "1")]
    [InlineData("--size applies to synthetic records", "produce", "t", "--size", "10")]
    [InlineData("--key-separator applies to input lines", "produce", "t", "--count", "1", "-k", ",")]
    [InlineData("--acks must be all, -1, 0 or 1", "produce", "t", "--acks", "2")]
    [InlineData("--compression must be one of", "produce", "t", "-z", "brotli")]
    [InlineData("--partition must be at least 0", "produce", "t", "--partition", "-1")]
    [InlineData("--key-separator must not be empty", "produce", "t", "--key-separator", "")]
    public void ProduceErrors(string expected, params string[] argv) =>
        Assert.Contains(expected, Usage(() => ProduceCommand.Parse(Args(argv))).Message);

    [Fact]
    public void Consume()
    {
        var o = ConsumeCommand.Parse(Args("consume", "t", "--from-beginning", "-n", "10", "--timeout-ms", "500", "--print-key", "-p", "1"));
        Assert.Equal(ConsumeCommand.StartKind.Earliest, o.Start);
        Assert.Equal(10, o.Count);
        Assert.Equal(500, o.IdleTimeoutMs);
        Assert.Equal(1, o.Partition);
        Assert.Null(o.Group);
        Assert.Equal(@"%k\t%v\n", o.Format.Text);

        var ts = ConsumeCommand.Parse(Args("consume", "t", "--timestamp", "2024-05-01T12:00:00Z"));
        Assert.Equal(ConsumeCommand.StartKind.Timestamp, ts.Start);
        Assert.Equal(1_714_564_800_000L, ts.StartValue);

        var off = ConsumeCommand.Parse(Args("consume", "t", "--offset", "42", "-F", "%o\n"));
        Assert.Equal(ConsumeCommand.StartKind.Offset, off.Start);
        Assert.Equal(42, off.StartValue);

        Assert.Equal(ConsumeCommand.StartKind.Earliest, ConsumeCommand.Parse(Args("consume", "t", "--offset", "earliest")).Start);
        var latest = ConsumeCommand.Parse(Args("consume", "t"));
        Assert.Equal(ConsumeCommand.StartKind.Latest, latest.Start);
        Assert.Equal(-1, latest.Count);
        Assert.Equal(-1, latest.IdleTimeoutMs);
        Assert.Equal(@"%v\n", latest.Format.Text);

        var g = ConsumeCommand.Parse(Args("consume", "t", "--group", "g", "--from-beginning"));
        Assert.Equal("g", g.Group);
        Assert.Equal(ConsumeCommand.StartKind.Earliest, g.Start);
    }

    [Theory]
    [InlineData("give only one of --from-beginning, --offset and --timestamp", "consume", "t", "--from-beginning", "--offset", "3")]
    [InlineData("--offset and --timestamp cannot be used with --group", "consume", "t", "-g", "g", "--offset", "3")]
    [InlineData("--offset and --timestamp cannot be used with --group", "consume", "t", "-g", "g", "--timestamp", "5")]
    [InlineData("--partition cannot be used with --group", "consume", "t", "-g", "g", "-p", "0")]
    [InlineData("give either --format or --print-key", "consume", "t", "-F", "%v", "--print-key")]
    [InlineData("unknown field %x", "consume", "t", "-F", "%x")]
    [InlineData("--count must be at least 1", "consume", "t", "-n", "0")]
    [InlineData("--timestamp expects milliseconds since the epoch or an ISO-8601 time", "consume", "t", "--timestamp", "soon")]
    [InlineData("--offset expects a whole number", "consume", "t", "--offset", "x")]
    [InlineData("--group must not be empty", "consume", "t", "--group", " ")]
    public void ConsumeErrors(string expected, params string[] argv) =>
        Assert.Contains(expected, Usage(() => ConsumeCommand.Parse(Args(argv))).Message);

    [Fact]
    public void CommonOptionsFromArgumentsEnvironmentAndDefaults()
    {
        var none = new Dictionary<string, string>();
        var env = new Dictionary<string, string>
        {
            [CommonOptions.BootstrapEnv] = "envhost:1234",
            [CommonOptions.AdminUrlEnv] = "http://envadmin:1",
        };
        var a = Args("topic", "list");
        var defaults = CommonOptions.Parse(a, k => none.GetValueOrDefault(k));
        Assert.Equal("localhost:9092", defaults.Bootstrap);
        Assert.Equal(new[] { "http://localhost:9644" }, defaults.AdminUrls);
        Assert.Equal(TimeSpan.FromSeconds(30), defaults.Timeout);
        Assert.Equal("broker-cli", defaults.ClientId);

        var fromEnv = CommonOptions.Parse(a, k => env.GetValueOrDefault(k));
        Assert.Equal("envhost:1234", fromEnv.Bootstrap);
        Assert.Equal(new[] { "http://envadmin:1" }, fromEnv.AdminUrls);

        var explicitArgs = CommonOptions.Parse(Args("topic", "list", "-b", "h1:1,h2:2", "--timeout", "5s", "--client-id", "me", "-v"),
            k => env.GetValueOrDefault(k));
        Assert.Equal("h1:1,h2:2", explicitArgs.Bootstrap);
        Assert.Equal(TimeSpan.FromSeconds(5), explicitArgs.Timeout);
        Assert.Equal("me", explicitArgs.ClientId);
        Assert.True(explicitArgs.Verbose);

        var badEnv = new Dictionary<string, string> { [CommonOptions.BootstrapEnv] = "nohost" };
        var ex = Usage(() => CommonOptions.Parse(a, k => badEnv.GetValueOrDefault(k)));
        Assert.Contains("$BROKER_BOOTSTRAP_SERVERS", ex.Message);
    }

    [Fact]
    public void CommandResolution()
    {
        Assert.Equal("missing topic command (create, list, describe, delete, alter-config)", Usage(() => BrokerTool.Resolve(new[] { "topic" })).Message);
        Assert.Contains("unknown topic command 'frob'", Usage(() => BrokerTool.Resolve(new[] { "topic", "frob" })).Message);
        Assert.Contains("expected a group command", Usage(() => BrokerTool.Resolve(new[] { "group", "--bootstrap-server", "x:1" })).Message);
        Assert.Equal("unknown command 'nope'", Usage(() => BrokerTool.Resolve(new[] { "nope" })).Message);
        Assert.Equal("unknown option '--bogus' for 'cluster health'", Usage(() => BrokerTool.Resolve(new[] { "cluster", "health", "--bogus" })).Message);
        // Kafka options are not accepted by the Admin API command, and vice versa.
        Assert.Contains("unknown option '--admin-url'", Usage(() => BrokerTool.Resolve(new[] { "topic", "list", "--admin-url", "http://x" })).Message);
        Assert.Contains("unknown option '-b'", Usage(() => BrokerTool.Resolve(new[] { "cluster", "health", "-b", "x:1" })).Message);

        var (_, _, help) = BrokerTool.Resolve(new[] { "topic", "--help" });
        Assert.Contains("alter-config", help);
        (_, _, help) = BrokerTool.Resolve(new[] { "consume", "-h" });
        Assert.Contains("--from-beginning", help);
    }

    [Fact]
    public void EveryCommandHasHelpListingItsOptions()
    {
        foreach (string verb in BrokerTool.Verbs)
        {
            string help = BrokerTool.Help(verb)!;
            Assert.StartsWith($"Usage: broker {verb}", help);
        }
        string create = BrokerTool.Help("topic create")!;
        Assert.Contains("-p, --partitions N", create);
        Assert.Contains("-b, --bootstrap-server", create);
        Assert.Contains("-h, --help", create);
        Assert.Contains("--admin-url", BrokerTool.Help("cluster health")!);
        Assert.Null(BrokerTool.Help("topic frob"));
        Assert.Null(BrokerTool.Help("start"));
        Assert.True(BrokerTool.IsToolVerb("produce"));
        Assert.False(BrokerTool.IsToolVerb("start"));
    }
}

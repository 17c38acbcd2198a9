using Broker.Config;
using Broker.Host.Cli;
using Xunit;

namespace Broker.Config.Tests;

public sealed class CommandLineTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        var cmd = CommandLine.Parse(args);
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = CliApp.Run(cmd, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    [Fact]
    public void Start_with_all_options_in_both_spellings()
    {
        var r = CommandLine.Parse(["start", "--config", "/etc/b.properties", "--data-dir=/data",
            "--override", "num.partitions=3", "--override=log.retention.ms=1000", "--override", "a.b= spaced =x"]);
        Assert.Equal(CliVerb.Start, r.Verb);
        Assert.Equal("/etc/b.properties", r.ConfigPath);
        Assert.Equal("/data", r.DataDir);
        Assert.Equal("3", r.Overrides["num.partitions"]);
        Assert.Equal("1000", r.Overrides["log.retention.ms"]);
        Assert.Equal(" spaced =x", r.Overrides["a.b"]);
        Assert.Equal(0, r.ExitCode);
    }

    [Fact]
    public void Start_without_options_is_the_single_node()
    {
        var r = CommandLine.Parse(["start"]);
        Assert.Equal(CliVerb.Start, r.Verb);
        Assert.Null(r.ConfigPath);
        Assert.Null(r.DataDir);
        Assert.Empty(r.Overrides);
    }

    [Fact]
    public void Repeated_override_keeps_the_last_value()
    {
        var r = CommandLine.Parse(["start", "--override", "k=1", "--override", "k=2"]);
        Assert.Equal("2", r.Overrides["k"]);
    }

    [Theory]
    [InlineData("--version")]
    [InlineData("version")]
    [InlineData("-V")]
    public void Version(string arg)
    {
        string[] args = [arg];
        Assert.Equal(CliVerb.Version, CommandLine.Parse(args).Verb);
        var (code, output, _) = Run(args);
        Assert.Equal(0, code);
        Assert.StartsWith("broker ", output);
    }

    [Theory]
    [InlineData(new[] { "--help" }, null)]
    [InlineData(new[] { "-h" }, null)]
    [InlineData(new[] { "help" }, null)]
    [InlineData(new[] { "help", "start" }, CliVerb.Start)]
    [InlineData(new[] { "start", "--help" }, CliVerb.Start)]
    [InlineData(new[] { "start", "--config", "x", "-h" }, CliVerb.Start)]
    [InlineData(new[] { "check-config", "--help" }, CliVerb.CheckConfig)]
    [InlineData(new[] { "help", "default-config" }, CliVerb.DefaultConfig)]
    public void Help(string[] args, CliVerb? topic)
    {
        var r = CommandLine.Parse(args);
        Assert.Equal(CliVerb.Help, r.Verb);
        Assert.Equal(topic, r.Topic);
        var (code, output, _) = Run(args);
        Assert.Equal(0, code);
        Assert.Contains("Usage: broker", output);
        if (topic == CliVerb.Start) Assert.Contains("--override KEY=VALUE", output);
    }

    [Fact]
    public void General_usage_lists_only_the_existing_commands()
    {
        string usage = Usage.General;
        foreach (string verb in new[] { "start", "check-config", "default-config", "version", "help" })
            Assert.Contains("  " + verb, usage);
        Assert.Contains("$BROKER_DATA_DIR", usage);
    }

    [Theory]
    [InlineData(new string[0], "no command given")]
    [InlineData(new[] { "serve" }, "unknown command 'serve'")]
    [InlineData(new[] { "--verbose" }, "unknown option '--verbose'")]
    [InlineData(new[] { "config/server.properties" }, "broker start --config config/server.properties")]
    [InlineData(new[] { "start", "--port", "1" }, "unknown option '--port' for 'start'")]
    [InlineData(new[] { "start", "--config" }, "option --config needs a value")]
    [InlineData(new[] { "start", "--config", "a", "--config", "b" }, "--config given more than once")]
    [InlineData(new[] { "start", "--config=" }, "--config needs a file name")]
    [InlineData(new[] { "start", "--data-dir", " " }, "--data-dir needs a directory")]
    [InlineData(new[] { "start", "--override", "novalue" }, "--override expects key=value, got 'novalue'")]
    [InlineData(new[] { "start", "--override", "=v" }, "--override expects key=value")]
    [InlineData(new[] { "start", "extra" }, "unexpected argument 'extra'")]
    [InlineData(new[] { "default-config", "--config", "x" }, "unknown option '--config' for 'default-config'")]
    [InlineData(new[] { "version", "now" }, "unexpected argument 'now'")]
    [InlineData(new[] { "help", "nothing" }, "unknown command 'nothing'")]
    public void Bad_arguments_give_an_error_usage_and_exit_code_2(string[] args, string error)
    {
        var r = CommandLine.Parse(args);
        Assert.Equal(CliVerb.Invalid, r.Verb);
        Assert.Contains(error, r.Error);
        var (code, output, err) = Run(args);
        Assert.Equal(2, code);
        Assert.Equal("", output);
        Assert.StartsWith("error: ", err);
        Assert.Contains("Usage: broker", err);
    }

    [Fact]
    public void Run_refuses_start()
    {
        Assert.Throws<InvalidOperationException>(() => CliApp.Run(CommandLine.Parse(["start"]), TextWriter.Null, TextWriter.Null));
    }

    [Fact]
    public void Check_config_valid_file_prints_effective_values_and_exits_0()
    {
        string path = _dir.Write("server.properties",
            Configs.Combined(Path.Combine(_dir.Path, "data")) + "num.partitions=3\nmystery.key=1\n");
        var (code, output, err) = Run("check-config", "--config", path, "--override", "min.insync.replicas=1");
        Assert.Equal(0, code);
        Assert.Contains($"# {path}:9\nnum.partitions=3\n", output);
        Assert.Contains("# --override\nmin.insync.replicas=1\n", output);
        Assert.Contains("\nlog.segment.bytes=1073741824\n", output);            // a default, no comment
        Assert.Contains("log.retention.ms=604800000", output);                   // derived from hours
        Assert.Contains("#log.flush.interval.ms=\n", output);                    // unset, commented out
        Assert.Contains("# ignored keys: mystery.key", output);
        Assert.Contains("warning: unknown configuration key 'mystery.key' (line 10) ignored", err);
        Assert.Contains("configuration is valid", err);
        Assert.False(Directory.Exists(Path.Combine(_dir.Path, "data")));
    }

    [Fact]
    public void Check_config_invalid_file_exits_1_with_location()
    {
        string path = _dir.Write("server.properties", Configs.Combined("/d") + "num.partitions=abc\n");
        var (code, output, err) = Run("check-config", "--config", path);
        Assert.Equal(1, code);
        Assert.Equal("", output);
        Assert.Contains($"error: {path}:9: num.partitions: expected a positive integer, got 'abc'", err);
    }

    [Fact]
    public void Check_config_missing_file_exits_1()
    {
        var (code, _, err) = Run("check-config", "--config", Path.Combine(_dir.Path, "nope.properties"));
        Assert.Equal(1, code);
        Assert.Contains("file not found", err);
    }

    [Fact]
    public void Check_config_without_file_checks_the_single_node()
    {
        string dd = Path.Combine(_dir.Path, "dd");
        var (code, output, _) = Run("check-config", "--data-dir", dd);
        Assert.Equal(0, code);
        Assert.Contains("# --data-dir\nlog.dirs=" + dd + "\n", output);
        Assert.Contains("advertised.listeners=PLAINTEXT://localhost:9092", output);
        Assert.False(Directory.Exists(dd));
    }

    [Fact]
    public void Default_config_prints_the_template()
    {
        var (code, output, _) = Run("default-config", "--data-dir", "/srv/x");
        Assert.Equal(0, code);
        Assert.Equal(ServerPropertiesTemplate.RenderSingleNode("/srv/x"), output);
    }

    [Fact]
    public void LoadForStart_returns_null_and_prints_the_error()
    {
        string path = _dir.Write("server.properties", Configs.Combined("/d") + "num.partitions=0\n");
        var err = new StringWriter();
        Assert.Null(ConfigCommand.LoadForStart(CommandLine.Parse(["start", "--config", path]), err));
        Assert.StartsWith($"error: {path}:9: num.partitions:", err.ToString());

        var ok = ConfigCommand.LoadForStart(CommandLine.Parse(["start", "--data-dir", Path.Combine(_dir.Path, "x")]), err);
        Assert.NotNull(ok);
        Assert.Equal(ProcessRoles.Combined, ok.Roles);
    }
}

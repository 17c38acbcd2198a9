using System.Text.Json;
using Xunit;
using Xunit.Abstractions;

namespace Broker.Integration.Tests.Infrastructure;

/// <summary>
/// Base class of the integration tests: owns the brokers and scratch files a test creates, runs the client
/// scenario scripts and turns their results into assertions whose messages carry the script output and the
/// broker log tail.
/// </summary>
public abstract class IntegrationTest : IDisposable
{
    protected static readonly TimeSpan ScriptTimeout = TimeSpan.FromSeconds(150);

    private readonly List<IDisposable> _owned = new();

    protected IntegrationTest(ITestOutputHelper output)
    {
        Output = output;
        ScratchDir = Path.Combine(Path.GetTempPath(), $"broker-it-scratch-{Guid.NewGuid().ToString("N")[..12]}");
        Directory.CreateDirectory(ScratchDir);
    }

    protected ITestOutputHelper Output { get; }

    /// <summary>A per-test temp directory for expected-set files, acked-id files, kcat work dirs.</summary>
    protected string ScratchDir { get; }

    protected BrokerProcess StartBroker(string name, IReadOnlyDictionary<string, string>? overrides = null)
    {
        var broker = BrokerProcess.Start(name, Output, overrides);
        _owned.Add(broker);
        return broker;
    }

    protected string Scratch(string fileName) => Path.Combine(ScratchDir, fileName);

    protected ScriptResult Confluent(BrokerProcess broker, params string[] args) =>
        Log(ScriptRunner.Python(TestPaths.ConfluentScript, WithBootstrap(broker, args), ScriptTimeout));

    protected ScriptResult KafkaPython(BrokerProcess broker, params string[] args) =>
        Log(ScriptRunner.Python(TestPaths.KafkaPythonScript, WithBootstrap(broker, args), ScriptTimeout));

    protected ScriptResult Kcat(BrokerProcess broker, params string[] args) =>
        Log(ScriptRunner.Run("/bin/bash", new[] { TestPaths.KcatScript }.Concat(WithBootstrap(broker, args)), ScriptTimeout));

    protected ScriptResult KafkaJs(BrokerProcess broker, params string[] args)
    {
        string nodeModules = Path.Combine(TestPaths.ClientsDir, "node", "node_modules", "kafkajs");
        Assert.True(Directory.Exists(nodeModules),
            $"kafkajs is not installed ({nodeModules} missing): run 'npm ci' in tests/clients/node (tests/run-all.sh does)");
        return Log(ScriptRunner.Run("node", new[] { TestPaths.KafkaJsScript }.Concat(WithBootstrap(broker, args)), ScriptTimeout));
    }

    protected RunningScript StartConfluent(BrokerProcess broker, params string[] args) =>
        ScriptRunner.Start(TestPaths.Python, new[] { TestPaths.ConfluentScript }.Concat(WithBootstrap(broker, args)));

    /// <summary>Per-phase deadline handed to the scripts unless a test passes its own --timeout.</summary>
    protected const string ScriptPhaseTimeoutSeconds = "30";

    private static IEnumerable<string> WithBootstrap(BrokerProcess broker, string[] args)
    {
        // Scenario first (python scripts take it as the positional argument), then the bootstrap address.
        var all = args.Concat(new[] { "--bootstrap", broker.Bootstrap });
        return args.Contains("--timeout") ? all : all.Concat(new[] { "--timeout", ScriptPhaseTimeoutSeconds });
    }

    protected ScriptResult Log(ScriptResult result)
    {
        Output.WriteLine($"$ {result.CommandLine}\n  -> exit {result.ExitCode}{(result.TimedOut ? " (TIMED OUT)" : "")} in {result.Elapsed.TotalSeconds:F1} s");
        Output.WriteLine("  stdout: " + ScriptResult.Tail(result.Stdout.Trim(), 3000));
        if (!result.Succeeded) Output.WriteLine("  stderr: " + ScriptResult.Tail(result.Stderr, 4000));
        return result;
    }

    /// <summary>Asserts the script exited 0 and its JSON summary says ok; returns the summary.</summary>
    protected static JsonElement AssertScriptOk(ScriptResult result, BrokerProcess? broker, string what)
    {
        var summary = result.Summary;
        bool ok = result.Succeeded && summary is { } s && s.TryGetProperty("ok", out var okProp) && okProp.ValueKind == JsonValueKind.True;
        if (!ok)
        {
            Assert.Fail($"{what} failed.\n{result.Describe()}\n{broker?.DescribeState()}");
        }
        return summary!.Value;
    }

    protected static long GetLong(JsonElement summary, string property) =>
        summary.TryGetProperty(property, out var p) && p.ValueKind == JsonValueKind.Number ? p.GetInt64() : -1;

    public void Dispose()
    {
        for (int i = _owned.Count - 1; i >= 0; i--) _owned[i].Dispose();
        if (Environment.GetEnvironmentVariable("KEEP_BROKER_TEST_DIRS") != "1")
        {
            try { Directory.Delete(ScratchDir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
        GC.SuppressFinalize(this);
    }
}

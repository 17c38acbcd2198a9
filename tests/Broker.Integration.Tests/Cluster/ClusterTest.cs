using System.Diagnostics;
using System.Text.Json;
using Broker.Integration.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace Broker.Integration.Tests.Cluster;

/// <summary>
/// Base class of the cluster tests: owns the clusters and scratch files a test creates, runs the cluster client
/// scripts (tests/clients/python/cluster_*.py, tests/clients/node/cluster_*.js and the existing scenario scripts)
/// and turns their results into assertions carrying the script output and every node's log tail.
/// </summary>
public abstract class ClusterTest : IDisposable
{
    protected static readonly TimeSpan ScriptTimeout = TimeSpan.FromSeconds(60);

    private readonly List<IDisposable> _owned = new();

    protected ClusterTest(ITestOutputHelper output)
    {
        Output = output;
        ScratchDir = Path.Combine(Path.GetTempPath(), $"broker-cluster-scratch-{Guid.NewGuid().ToString("N")[..10]}");
        Directory.CreateDirectory(ScratchDir);
    }

    protected ITestOutputHelper Output { get; }
    protected string ScratchDir { get; }

    protected static string PythonDir => Path.Combine(TestPaths.ClientsDir, "python");
    protected static string NodeDir => Path.Combine(TestPaths.ClientsDir, "node");

    protected string Scratch(string fileName) => Path.Combine(ScratchDir, fileName);

    protected ClusterProcess StartCluster(string name, ClusterLayout layout, IReadOnlyDictionary<string, string>? overrides = null)
    {
        var cluster = ClusterProcess.Start(name, layout, Output, overrides);
        _owned.Add(cluster);
        return cluster;
    }

    /// <summary>Runs a Python script from tests/clients/python with a hard timeout; logs the outcome.</summary>
    protected ScriptResult Python(string script, params string[] args) =>
        Log(ScriptRunner.Python(Path.Combine(PythonDir, script), args, ScriptTimeout));

    /// <summary>confluent_scenario.py against the cluster's full bootstrap list (or <paramref name="bootstrap"/>).</summary>
    protected ScriptResult Confluent(ClusterProcess cluster, string? bootstrap, params string[] args) =>
        Python("confluent_scenario.py", args.Concat(new[] { "--bootstrap", bootstrap ?? cluster.Bootstrap, "--timeout", "30" }).ToArray());

    /// <summary>Starts cluster_producer.py (librdkafka, acks=all) in the background.</summary>
    protected RunningScript StartPythonProducer(ClusterProcess cluster, string topic, string ackedFile, string errorsFile,
        double durationSeconds, int rate = 200, int count = 0, int firstId = 0)
    {
        var args = new List<string>
        {
            Path.Combine(PythonDir, "cluster_producer.py"), "--bootstrap", cluster.Bootstrap, "--topic", topic,
            "--acked-file", ackedFile, "--errors-file", errorsFile, "--duration", durationSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--rate", rate.ToString(),
        };
        if (count > 0) args.AddRange(new[] { "--count", count.ToString() });
        if (firstId > 0) args.AddRange(new[] { "--first-id", firstId.ToString() });
        return ScriptRunner.Start(TestPaths.Python, args);
    }

    /// <summary>Starts cluster_producer.js (kafkajs, acks=-1) in the background.</summary>
    protected RunningScript StartKafkaJsProducer(ClusterProcess cluster, string topic, string ackedFile, string errorsFile,
        double durationSeconds, int rate = 200)
    {
        Assert.True(Directory.Exists(Path.Combine(NodeDir, "node_modules", "kafkajs")),
            "kafkajs is not installed: run 'npm ci' in tests/clients/node (tests/run-all.sh does)");
        return ScriptRunner.Start("node", new[]
        {
            Path.Combine(NodeDir, "cluster_producer.js"), "--bootstrap", cluster.Bootstrap, "--topic", topic,
            "--acked-file", ackedFile, "--errors-file", errorsFile,
            "--duration", durationSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture), "--rate", rate.ToString(),
        });
    }

    /// <summary>Waits (bounded) until the acked file has at least <paramref name="count"/> entries (with times
    /// after <paramref name="afterMs"/> when given); fails with the producer's output if it dies or the time runs out.</summary>
    protected void WaitForAcks(string ackedFile, int count, TimeSpan timeout, RunningScript producer, ClusterProcess cluster, long afterMs = 0)
    {
        var sw = Stopwatch.StartNew();
        int have = 0;
        while (sw.Elapsed < timeout)
        {
            have = FailoverAnalysis.ReadAcked(ackedFile).Count(a => a.TimeMs > afterMs);
            if (have >= count) return;
            if (producer.HasExited) break;
            Thread.Sleep(100);
        }
        producer.Signal(Signals.SIGTERM);
        var result = producer.WaitForExit(TimeSpan.FromSeconds(10));
        Assert.Fail($"only {have} of {count} acknowledgements{(afterMs > 0 ? " after the kill" : "")} within {timeout.TotalSeconds:F0} s " +
                    $"(producer {(producer.HasExited ? "exited" : "running")})\n{result.Describe()}\n{cluster.DescribeState()}");
    }

    /// <summary>SIGTERM the producer and collect its summary (it flushes what is outstanding first).</summary>
    protected ScriptResult StopProducer(RunningScript producer)
    {
        producer.Signal(Signals.SIGTERM);
        return Log(producer.WaitForExit(TimeSpan.FromSeconds(30)));
    }

    /// <summary>cluster_verify.py --expected: every partition of the file's topics read to the high watermark and
    /// compared record by record.</summary>
    protected ScriptResult VerifyExpected(ClusterProcess cluster, string expectedFile) =>
        Python("cluster_verify.py", "--bootstrap", cluster.Bootstrap, "--expected", expectedFile, "--timeout", "30");

    /// <summary>Reads the partition with cluster_verify.py and analyses it against the producer's files.</summary>
    protected FailoverAnalysis VerifyAcked(ClusterProcess cluster, string topic, string ackedFile, string errorsFile, long killTimeMs, string what)
    {
        string ids = Scratch($"{topic}.log-ids");
        var result = Python("cluster_verify.py", "--bootstrap", cluster.Bootstrap, "--topic", topic, "--out", ids, "--timeout", "30");
        AssertScriptOk(result, cluster, $"reading {topic} back ({what})");
        var analysis = FailoverAnalysis.Analyze(FailoverAnalysis.ReadAcked(ackedFile), FailoverAnalysis.ReadLogIds(ids),
            FailoverAnalysis.ReadErrorTimes(errorsFile), killTimeMs);
        Output.WriteLine($"{what}: {analysis}");
        Console.WriteLine($"[cluster-failover] {what}: {analysis}");
        Assert.True(analysis.Acked > 0, $"{what}: nothing was acknowledged, the test proves nothing");
        Assert.True(analysis.Ok, $"{what}: {analysis}\n{cluster.DescribeState()}");
        return analysis;
    }

    /// <summary>Waits (bounded) until Metadata reports <paramref name="nodeId"/> in the ISR of partition 0; false at the deadline.</summary>
    protected static bool WaitForIsr(ClusterProcess cluster, string topic, int nodeId, TimeSpan timeout)
    {
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < timeout)
        {
            var p = cluster.TryMetadata(out _, topic)?.Topic(topic)?.Partitions.FirstOrDefault();
            if (p is not null && p.Isr.Contains(nodeId)) return true;
            Thread.Sleep(200);
        }
        return false;
    }

    protected ScriptResult Log(ScriptResult result)
    {
        Output.WriteLine($"$ {result.CommandLine}\n  -> exit {result.ExitCode}{(result.TimedOut ? " (TIMED OUT)" : "")} in {result.Elapsed.TotalSeconds:F1} s");
        Output.WriteLine("  stdout: " + ScriptResult.Tail(result.Stdout.Trim(), 3000));
        if (!result.Succeeded) Output.WriteLine("  stderr: " + ScriptResult.Tail(result.Stderr, 4000));
        return result;
    }

    /// <summary>Asserts the script exited 0 and its JSON summary says ok; returns the summary.</summary>
    protected static JsonElement AssertScriptOk(ScriptResult result, ClusterProcess? cluster, string what)
    {
        var summary = result.Summary;
        bool ok = result.Succeeded && summary is { } s && s.TryGetProperty("ok", out var okProp) && okProp.ValueKind == JsonValueKind.True;
        if (!ok) Assert.Fail($"{what} failed.\n{result.Describe()}\n{cluster?.DescribeState()}");
        return summary!.Value;
    }

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

using System.Diagnostics;
using System.Text;
using Xunit;
using Xunit.Abstractions;

namespace Broker.Integration.Tests.Infrastructure;

/// <summary>
/// One node process of a <see cref="ClusterProcess"/>: its own directory (server.properties, data/, node.log with
/// stdout+stderr of every start appended), on 127.0.0.&lt;id&gt;. Launch returns at once; readiness (ApiVersions on
/// the Kafka port for a broker, on the controller port for a pure controller) is waited for separately, so a whole
/// quorum can be started before any member is expected to answer.
/// </summary>
public sealed class ClusterNode
{
    private readonly ITestOutputHelper? _output;
    private Process? _process;
    private int _starts;

    internal ClusterNode(int id, ClusterRole role, string clusterDir, ITestOutputHelper? output)
    {
        Id = id;
        Role = role;
        _output = output;
        WorkDir = Path.Combine(clusterDir, $"node-{id}");
        Directory.CreateDirectory(WorkDir);
        DataDir = Path.Combine(WorkDir, "data");
        ConfigPath = Path.Combine(WorkDir, "server.properties");
        LogPath = Path.Combine(WorkDir, "node.log");
    }

    public int Id { get; }
    public ClusterRole Role { get; }
    public string Host => ClusterLayout.Address(Id);
    public int KafkaPort { get; internal set; }
    public int ControllerPort { get; internal set; }
    /// <summary>Admin API port on <see cref="Host"/> (every node).</summary>
    public int AdminPort { get; internal set; }
    /// <summary>HTTP proxy port on <see cref="Host"/> (broker nodes; 0 on controller-only nodes).</summary>
    public int ProxyPort { get; internal set; }
    public string AdminUrl => $"http://{Host}:{AdminPort}";
    public string ProxyUrl => $"http://{Host}:{ProxyPort}";
    public string WorkDir { get; }
    public string DataDir { get; }
    public string ConfigPath { get; }
    public string LogPath { get; }
    public bool IsBroker => Role != ClusterRole.Controller;
    public bool IsController => Role != ClusterRole.Broker;
    public string Endpoint => IsBroker ? $"{Host}:{KafkaPort}" : $"{Host}:{ControllerPort} (controller)";
    public int Pid => _process?.Id ?? -1;
    public bool IsRunning => _process is { HasExited: false };

    /// <summary>Starts the process on the written configuration; does not wait for readiness.</summary>
    public void Launch()
    {
        Assert.False(IsRunning, $"node {Id} is already running (pid {Pid})");
        _process?.Dispose();
        _starts++;
        File.AppendAllText(LogPath, $"\n===== start #{_starts} at {DateTime.UtcNow:O}: {TestPaths.BrokerBin} start --config {ConfigPath} =====\n");
        var psi = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add("exec \"$0\" \"$@\" </dev/null >>\"$BROKER_TEST_LOG\" 2>&1");
        psi.ArgumentList.Add(TestPaths.BrokerBin);
        psi.ArgumentList.Add("start");
        psi.ArgumentList.Add("--config");
        psi.ArgumentList.Add(ConfigPath);
        psi.Environment["BROKER_TEST_LOG"] = LogPath;
        _process = Process.Start(psi) ?? throw new InvalidOperationException("could not start /bin/sh");
        Log($"node {Id} ({Role}) started, pid {_process.Id}, {Endpoint}");
    }

    /// <summary>One readiness probe: null when the node answers ApiVersions, else why not.</summary>
    public string? Probe()
    {
        if (_process is null) return "never started";
        if (_process.HasExited) return $"process exited with code {SafeExitCode(_process)}";
        return ClusterWire.ProbeApiVersions(Host, IsBroker ? KafkaPort : ControllerPort, TimeSpan.FromSeconds(2));
    }

    /// <summary>Waits until <see cref="Probe"/> succeeds; fails the test (with the log tail) at the deadline
    /// or when the process exits.</summary>
    public void WaitReady(TimeSpan timeout)
    {
        var sw = Stopwatch.StartNew();
        string? last = "not probed";
        while (sw.Elapsed < timeout)
        {
            last = Probe();
            if (last is null)
            {
                Log($"node {Id} answers ApiVersions after {sw.ElapsedMilliseconds} ms");
                return;
            }
            if (_process is { HasExited: true }) break;
            Thread.Sleep(100);
        }
        Assert.Fail($"node {Id} not ready within {timeout.TotalSeconds:F0} s: {last}\n{DescribeState()}");
    }

    /// <summary>SIGTERM and wait; asserts exit code 0 unless told not to. Returns how long it took.</summary>
    public TimeSpan Stop(TimeSpan? timeout = null, bool assertCleanExit = true) => Stop(timeout, assertCleanExit, sendSignal: true);

    /// <summary>Like <see cref="Stop(TimeSpan?, bool)"/>; with <paramref name="sendSignal"/> false it only waits
    /// (the caller already sent SIGTERM, e.g. to several nodes at once).</summary>
    public TimeSpan Stop(TimeSpan? timeout, bool assertCleanExit, bool sendSignal)
    {
        var process = _process ?? throw new InvalidOperationException($"node {Id} was never started");
        if (sendSignal)
            Assert.False(process.HasExited, $"node {Id} had already exited (code {SafeExitCode(process)}) before Stop()\n{DescribeState()}");
        var limit = timeout ?? TimeSpan.FromSeconds(15);
        var sw = Stopwatch.StartNew();
        if (sendSignal) Signals.Send(process.Id, Signals.SIGTERM);
        if (!process.WaitForExit(limit))
        {
            KillProcess();
            Assert.Fail($"node {Id} did not exit within {limit.TotalSeconds:F0} s of SIGTERM (killed)\n{DescribeState()}");
        }
        process.WaitForExit();
        Log($"node {Id} stopped by SIGTERM in {sw.ElapsedMilliseconds} ms, exit code {process.ExitCode}");
        if (assertCleanExit)
            Assert.True(process.ExitCode == 0, $"node {Id} exited with code {process.ExitCode} after SIGTERM\n{DescribeState()}");
        return sw.Elapsed;
    }

    /// <summary>SIGKILL; returns the wall-clock time (ms since the epoch) the signal was sent.</summary>
    public long Kill()
    {
        Assert.True(IsRunning, $"node {Id} not running before Kill()\n{DescribeState()}");
        long at = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        KillProcess();
        Log($"node {Id} killed with SIGKILL");
        return at;
    }

    internal void KillProcess() => BrokerProcessControl.KillHard(_process);

    public string ReadLog() => BrokerProcessControl.ReadLog(LogPath);

    public string LogTail(int lines = 40) => BrokerProcessControl.LogTail(LogPath, lines);

    public string DescribeState(int lines = 40)
    {
        var sb = new StringBuilder();
        sb.Append("--- node ").Append(Id).Append(" (").Append(Role).Append(") ").Append(Endpoint).Append(", pid ").Append(Pid).Append(", ")
          .Append(_process is null ? "never started" : _process.HasExited ? $"exited with code {SafeExitCode(_process)}" : "running")
          .Append(", dir ").AppendLine(WorkDir);
        sb.AppendLine(LogTail(lines));
        return sb.ToString();
    }

    internal void DisposeProcess()
    {
        KillProcess();
        _process?.Dispose();
        _process = null;
    }

    private static string SafeExitCode(Process p)
    {
        try { return p.ExitCode.ToString(); } catch (InvalidOperationException) { return "?"; }
    }

    private void Log(string message)
    {
        try { _output?.WriteLine($"[{DateTime.Now:HH:mm:ss.fff}] {message}"); } catch (InvalidOperationException) { }
    }
}

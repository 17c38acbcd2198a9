using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Xunit;
using Xunit.Abstractions;

namespace Broker.Integration.Tests.Infrastructure;

/// <summary>
/// One broker process (the published BROKER_BIN) for one test: free loopback ports, its own temp directory with
/// server.properties and a data dir, stdout+stderr appended to broker.log. Offers graceful Stop (SIGTERM),
/// Kill (SIGKILL) and Restart on the same data dir. Dispose kills it and removes the directory
/// (kept when KEEP_BROKER_TEST_DIRS=1).
/// </summary>
public sealed class BrokerProcess : IDisposable
{
    private static readonly object s_portLock = new();
    private static readonly HashSet<int> s_handedOut = new();

    private readonly ITestOutputHelper? _output;
    private readonly IReadOnlyDictionary<string, string> _overrides;
    private Process? _process;
    private int _starts;

    private BrokerProcess(string name, IReadOnlyDictionary<string, string>? overrides, ITestOutputHelper? output)
    {
        _output = output;
        _overrides = overrides ?? new Dictionary<string, string>();
        BinaryPath = TestPaths.BrokerBin;
        WorkDir = Path.Combine(Path.GetTempPath(), $"broker-it-{name}-{Guid.NewGuid().ToString("N")[..12]}");
        Directory.CreateDirectory(WorkDir);
        DataDir = Path.Combine(WorkDir, "data");
        ConfigPath = Path.Combine(WorkDir, "server.properties");
        LogPath = Path.Combine(WorkDir, "broker.log");
    }

    public string BinaryPath { get; }
    public string WorkDir { get; }
    public string DataDir { get; }
    public string ConfigPath { get; }
    public string LogPath { get; }
    public int Port { get; private set; }
    public int ControllerPort { get; private set; }
    /// <summary>Port of the Admin API (HTTP; /v1/..., /metrics) on 127.0.0.1.</summary>
    public int AdminPort { get; private set; }
    /// <summary>Port of the HTTP proxy (REST v2) on 127.0.0.1.</summary>
    public int ProxyPort { get; private set; }
    public string Bootstrap => $"127.0.0.1:{Port}";
    public string AdminUrl => $"http://127.0.0.1:{AdminPort}";
    public string ProxyUrl => $"http://127.0.0.1:{ProxyPort}";
    public int Pid => _process?.Id ?? -1;
    public bool IsRunning => _process is { HasExited: false };

    /// <summary>Starts a broker and waits until it answers ApiVersions (at most <paramref name="readyTimeout"/>, default 20 s).</summary>
    public static BrokerProcess Start(string name, ITestOutputHelper? output = null,
        IReadOnlyDictionary<string, string>? overrides = null, TimeSpan? readyTimeout = null)
    {
        var broker = new BrokerProcess(name, overrides, output);
        try
        {
            broker.StartWithFreshPorts(readyTimeout ?? TimeSpan.FromSeconds(20));
            return broker;
        }
        catch
        {
            broker.Dispose();
            throw;
        }
    }

    /// <summary>The server.properties text this fixture writes for the given ports and data dir.</summary>
    public static string ConfigText(int port, int controllerPort, string dataDir, IReadOnlyDictionary<string, string>? overrides = null) =>
        ConfigText(port, controllerPort, FreePort(), FreePort(), dataDir, overrides);

    /// <summary>The server.properties text with explicit Admin API and HTTP proxy ports.</summary>
    public static string ConfigText(int port, int controllerPort, int adminPort, int proxyPort, string dataDir,
        IReadOnlyDictionary<string, string>? overrides = null)
    {
        var props = new List<KeyValuePair<string, string>>
        {
            new("process.roles", "broker,controller"),
            new("node.id", "1"),
            new("controller.quorum.voters", $"1@127.0.0.1:{controllerPort}"),
            new("listeners", $"PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controllerPort}"),
            new("advertised.listeners", $"PLAINTEXT://127.0.0.1:{port}"),
            new("controller.listener.names", "CONTROLLER"),
            new("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT"),
            new("log.dirs", dataDir),
            new("admin.listeners", $"http://127.0.0.1:{adminPort}"),
            new("http.proxy.listeners", $"http://127.0.0.1:{proxyPort}"),
        };
        if (overrides is not null)
        {
            foreach (var (k, v) in overrides)
            {
                int i = props.FindIndex(p => p.Key == k);
                if (i >= 0) props[i] = new(k, v);
                else props.Add(new(k, v));
            }
        }
        var sb = new StringBuilder("# written by Broker.Integration.Tests BrokerProcess\n");
        foreach (var (k, v) in props) sb.Append(k).Append('=').Append(v).Append('\n');
        return sb.ToString();
    }

    /// <summary>Reserves two currently free loopback ports not handed out before in this test run.</summary>
    public static (int Port, int ControllerPort) FreePortPair()
    {
        lock (s_portLock)
        {
            return (FreePortLocked(), FreePortLocked());
        }
    }

    /// <summary>A currently free loopback port not handed out before in this test run.</summary>
    public static int FreePort()
    {
        lock (s_portLock) return FreePortLocked();
    }

    private static int FreePortLocked()
    {
        for (int attempt = 0; attempt < 50; attempt++)
        {
            var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            int port = ((IPEndPoint)listener.LocalEndpoint).Port;
            listener.Stop();
            if (s_handedOut.Add(port)) return port;
        }
        throw new InvalidOperationException("no free port found");
    }

    private void StartWithFreshPorts(TimeSpan readyTimeout)
    {
        for (int attempt = 1; ; attempt++)
        {
            (Port, ControllerPort) = FreePortPair();
            (AdminPort, ProxyPort) = FreePortPair();
            File.WriteAllText(ConfigPath, ConfigText(Port, ControllerPort, AdminPort, ProxyPort, DataDir, _overrides));
            string? problem = Launch(readyTimeout);
            if (problem is null) return;
            bool portClash = ReadLog().Contains("in use", StringComparison.OrdinalIgnoreCase);
            if (!portClash || attempt == 3)
                Assert.Fail($"broker did not become ready: {problem}\n{DescribeState()}");
            Log($"port clash on {Port}/{ControllerPort}; retrying with new ports");
        }
    }

    /// <summary>Starts the process; returns null once it answers ApiVersions, else why not (process left killed).</summary>
    private string? Launch(TimeSpan readyTimeout)
    {
        _starts++;
        File.AppendAllText(LogPath, $"\n===== start #{_starts} at {DateTime.UtcNow:O}: {BinaryPath} start --config {ConfigPath} =====\n");
        var psi = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
        // exec: the shell becomes the broker (same pid), so signals and the exit code are the broker's own.
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add("exec \"$0\" \"$@\" </dev/null >>\"$BROKER_TEST_LOG\" 2>&1");
        psi.ArgumentList.Add(BinaryPath);
        psi.ArgumentList.Add("start");
        psi.ArgumentList.Add("--config");
        psi.ArgumentList.Add(ConfigPath);
        psi.Environment["BROKER_TEST_LOG"] = LogPath;
        _process = Process.Start(psi) ?? throw new InvalidOperationException("could not start /bin/sh");
        Log($"started broker pid {_process.Id} on {Bootstrap} (controller {ControllerPort}), dir {WorkDir}");
        var sw = Stopwatch.StartNew();
        string? last = "not probed yet";
        while (sw.Elapsed < readyTimeout)
        {
            if (_process.HasExited)
                return $"process exited with code {_process.ExitCode} before accepting connections";
            last = KafkaWire.ProbeApiVersions(Port, TimeSpan.FromSeconds(2));
            if (last is null)
            {
                Log($"broker ready after {sw.ElapsedMilliseconds} ms");
                return null;
            }
            Thread.Sleep(100);
        }
        KillProcess();
        return $"no ApiVersions answer on {Bootstrap} within {readyTimeout.TotalSeconds:F0} s (last: {last}); process killed";
    }

    /// <summary>Starts the broker again on the same ports, configuration and data dir.</summary>
    public void Restart(TimeSpan? readyTimeout = null)
    {
        Assert.False(IsRunning, "Restart() called while the broker is still running; Stop() or Kill() it first");
        string? problem = Launch(readyTimeout ?? TimeSpan.FromSeconds(20));
        if (problem is not null) Assert.Fail($"broker did not become ready after restart: {problem}\n{DescribeState()}");
    }

    /// <summary>SIGTERM, wait up to <paramref name="timeout"/> (default 10 s); asserts a clean exit (code 0) unless told not to.
    /// Returns the exit code and how long the shutdown took.</summary>
    public (int ExitCode, TimeSpan Took) Stop(TimeSpan? timeout = null, bool assertCleanExit = true)
    {
        var process = _process ?? throw new InvalidOperationException("broker was never started");
        Assert.False(process.HasExited, $"broker (pid {process.Id}) had already exited with code {SafeExitCode(process)} before Stop()\n{DescribeState()}");
        var limit = timeout ?? TimeSpan.FromSeconds(10);
        var sw = Stopwatch.StartNew();
        Signals.Send(process.Id, Signals.SIGTERM);
        bool exited = process.WaitForExit(limit);
        sw.Stop();
        if (!exited)
        {
            KillProcess();
            Assert.Fail($"broker did not exit within {limit.TotalSeconds:F0} s of SIGTERM (killed)\n{DescribeState()}");
        }
        process.WaitForExit(); // flush async state
        Log($"broker stopped by SIGTERM in {sw.ElapsedMilliseconds} ms, exit code {process.ExitCode}");
        if (assertCleanExit)
            Assert.True(process.ExitCode == 0, $"broker exited with code {process.ExitCode} after SIGTERM (expected 0)\n{DescribeState()}");
        return (process.ExitCode, sw.Elapsed);
    }

    /// <summary>SIGKILL (no chance to flush or clean up) and wait for the process to be gone.</summary>
    public void Kill()
    {
        Assert.True(IsRunning, $"broker not running before Kill()\n{DescribeState()}");
        KillProcess();
        Log("broker killed with SIGKILL");
    }

    private void KillProcess() => BrokerProcessControl.KillHard(_process);

    public string ReadLog() => BrokerProcessControl.ReadLog(LogPath);

    /// <summary>The last <paramref name="lines"/> lines of the broker's stdout/stderr.</summary>
    public string LogTail(int lines = 80) => BrokerProcessControl.LogTail(LogPath, lines);

    /// <summary>Process state, config and log tail: appended to failure messages.</summary>
    public string DescribeState()
    {
        var sb = new StringBuilder();
        sb.Append("--- broker: ").Append(Bootstrap).Append(", pid ").Append(Pid).Append(", ")
          .Append(_process is null ? "never started" : _process.HasExited ? $"exited with code {SafeExitCode(_process)}" : "running")
          .Append(", dir ").AppendLine(WorkDir);
        sb.AppendLine("--- broker log (tail) ---").AppendLine(LogTail());
        return sb.ToString();
    }

    private static string SafeExitCode(Process p)
    {
        try { return p.ExitCode.ToString(); } catch (InvalidOperationException) { return "?"; }
    }

    private void Log(string message)
    {
        try { _output?.WriteLine($"[{DateTime.Now:HH:mm:ss.fff}] {message}"); } catch (InvalidOperationException) { }
    }

    public void Dispose()
    {
        KillProcess();
        _process?.Dispose();
        _process = null;
        if (Environment.GetEnvironmentVariable("KEEP_BROKER_TEST_DIRS") == "1")
        {
            Log($"keeping {WorkDir}");
            return;
        }
        try { Directory.Delete(WorkDir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

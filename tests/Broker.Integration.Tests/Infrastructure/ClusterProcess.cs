using System.Diagnostics;
using System.Text;
using Xunit;
using Xunit.Abstractions;

namespace Broker.Integration.Tests.Infrastructure;

/// <summary>
/// A multi-process cluster of the published broker for one test: N nodes on 127.0.0.1..N sharing one Kafka port
/// and one controller port (free on every address), each with its own directory under one temp folder. Start
/// launches every node, waits for each to answer ApiVersions and for Metadata from every broker to list all
/// brokers. Per node: Stop (SIGTERM), Kill (SIGKILL), Restart. Every wait is bounded and fails with the log tails
/// of all nodes. Dispose kills every node and removes the folder (kept when KEEP_BROKER_TEST_DIRS=1).
/// </summary>
public sealed partial class ClusterProcess : IDisposable
{
    private readonly ITestOutputHelper? _output;
    private readonly IReadOnlyDictionary<string, string>? _overrides;
    private readonly Func<int, IReadOnlyDictionary<string, string>?>? _nodeOverrides;

    private ClusterProcess(string name, ClusterLayout layout, IReadOnlyDictionary<string, string>? overrides,
        Func<int, IReadOnlyDictionary<string, string>?>? nodeOverrides, ITestOutputHelper? output)
    {
        _output = output;
        _overrides = overrides;
        _nodeOverrides = nodeOverrides;
        Layout = layout;
        WorkDir = Path.Combine(Path.GetTempPath(), $"broker-cluster-{name}-{Guid.NewGuid().ToString("N")[..10]}");
        Directory.CreateDirectory(WorkDir);
        Nodes = Enumerable.Range(1, layout.NodeCount).Select(id => new ClusterNode(id, layout.Roles[id - 1], WorkDir, output)).ToArray();
    }

    public ClusterLayout Layout { get; }
    public string WorkDir { get; }
    public IReadOnlyList<ClusterNode> Nodes { get; }
    public IEnumerable<ClusterNode> Brokers => Nodes.Where(n => n.IsBroker);
    public IEnumerable<ClusterNode> RunningBrokers => Nodes.Where(n => n.IsBroker && n.IsRunning);
    public ClusterNode Node(int id) => Nodes[id - 1];

    /// <summary>Every broker endpoint, comma-separated (what a client's bootstrap.servers gets).</summary>
    public string Bootstrap => string.Join(',', Brokers.Select(n => $"{n.Host}:{n.KafkaPort}"));

    /// <summary>Starts the cluster and waits until every node answers and Metadata from every broker lists all
    /// brokers (<paramref name="readyTimeout"/>, default 30 s, for the whole start).</summary>
    public static ClusterProcess Start(string name, ClusterLayout layout, ITestOutputHelper? output = null,
        IReadOnlyDictionary<string, string>? overrides = null, Func<int, IReadOnlyDictionary<string, string>?>? nodeOverrides = null,
        TimeSpan? readyTimeout = null)
    {
        var cluster = new ClusterProcess(name, layout, overrides, nodeOverrides, output);
        try
        {
            cluster.StartAll(readyTimeout ?? TimeSpan.FromSeconds(30));
            return cluster;
        }
        catch
        {
            cluster.Dispose();
            throw;
        }
    }

    private void StartAll(TimeSpan readyTimeout)
    {
        for (int attempt = 1; ; attempt++)
        {
            var (kafka, controller) = ClusterPorts.Pick(Layout.NodeCount);
            var (admin, proxy) = ClusterPorts.PickHttp(Layout.NodeCount);
            foreach (var node in Nodes)
            {
                node.KafkaPort = node.IsBroker ? kafka : 0;
                node.ControllerPort = controller;
                node.AdminPort = admin;
                node.ProxyPort = node.IsBroker ? proxy : 0;
                File.WriteAllText(node.ConfigPath, Layout.ConfigText(node.Id, kafka, controller, admin, proxy, node.DataDir, MergedOverrides(node.Id)));
            }
            foreach (var node in Nodes) node.Launch();
            var sw = Stopwatch.StartNew();
            string? problem = WaitAllAnswering(readyTimeout);
            if (problem is null)
            {
                WaitForAllBrokersListed(readyTimeout - sw.Elapsed);
                Log($"cluster ready after {sw.ElapsedMilliseconds} ms: {Bootstrap}");
                return;
            }
            bool portClash = Nodes.Any(n => n.ReadLog().Contains("in use", StringComparison.OrdinalIgnoreCase));
            if (!portClash || attempt == 3) Assert.Fail($"cluster did not start: {problem}\n{DescribeState()}");
            Log($"port clash on {kafka}/{controller}; retrying with new ports");
            foreach (var node in Nodes) node.KillProcess();
        }
    }

    private IReadOnlyDictionary<string, string>? MergedOverrides(int nodeId)
    {
        var perNode = _nodeOverrides?.Invoke(nodeId);
        if (perNode is null) return _overrides;
        var merged = new Dictionary<string, string>(_overrides ?? new Dictionary<string, string>());
        foreach (var (k, v) in perNode) merged[k] = v;
        return merged;
    }

    /// <summary>Null once every running node answers ApiVersions, else the first problem at the deadline.</summary>
    private string? WaitAllAnswering(TimeSpan timeout)
    {
        var sw = Stopwatch.StartNew();
        var pending = Nodes.Where(n => n.IsRunning).ToList();
        string? last = null;
        while (pending.Count > 0)
        {
            for (int i = pending.Count - 1; i >= 0; i--)
            {
                string? p = pending[i].Probe();
                if (p is null)
                {
                    Log($"node {pending[i].Id} answers ApiVersions after {sw.ElapsedMilliseconds} ms");
                    pending.RemoveAt(i);
                }
                else
                {
                    last = $"node {pending[i].Id}: {p}";
                    if (!pending[i].IsRunning) return $"node {pending[i].Id}: {pending[i].Probe()}";
                }
            }
            if (pending.Count == 0) break;
            if (sw.Elapsed > timeout) return $"not answering within {timeout.TotalSeconds:F0} s: {last}";
            Thread.Sleep(100);
        }
        return null;
    }

    /// <summary>Starts node <paramref name="id"/> again on the same ports and data, waits until it answers and
    /// until Metadata lists it again.</summary>
    public void Restart(int id, TimeSpan? timeout = null)
    {
        var node = Node(id);
        Assert.False(node.IsRunning, $"Restart({id}) while node {id} is running; Stop() or Kill() it first");
        var limit = timeout ?? TimeSpan.FromSeconds(30);
        var sw = Stopwatch.StartNew();
        node.Launch();
        node.WaitReady(limit);
        if (node.IsBroker) WaitForBrokersListed(RunningBrokers.Select(b => b.Id).ToArray(), limit - sw.Elapsed);
    }

    /// <summary>Starts every stopped node at once (a quorum needs a majority before anyone answers), waits like
    /// <see cref="Start"/>.</summary>
    public void RestartAll(TimeSpan? timeout = null)
    {
        var limit = timeout ?? TimeSpan.FromSeconds(30);
        var sw = Stopwatch.StartNew();
        foreach (var node in Nodes.Where(n => !n.IsRunning)) node.Launch();
        string? problem = WaitAllAnswering(limit);
        if (problem is not null) Assert.Fail($"cluster did not come back: {problem}\n{DescribeState()}");
        WaitForAllBrokersListed(limit - sw.Elapsed);
        Log($"cluster back after {sw.ElapsedMilliseconds} ms");
    }

    /// <summary>SIGTERM to every running node, all at once, and wait for each (clean exit asserted).</summary>
    public void StopAll(TimeSpan? timeout = null)
    {
        var running = Nodes.Where(n => n.IsRunning).ToList();
        foreach (var node in running) Signals.Send(node.Pid, Signals.SIGTERM);
        foreach (var node in running) node.Stop(timeout, assertCleanExit: true, sendSignal: false);
    }

    private void WaitForAllBrokersListed(TimeSpan timeout) =>
        WaitForBrokersListed(Brokers.Select(b => b.Id).ToArray(), timeout);

    /// <summary>Describes every node (state, port, log tail) for failure messages.</summary>
    public string DescribeState(int linesPerNode = 40)
    {
        var sb = new StringBuilder($"=== cluster {WorkDir} ===\n");
        foreach (var node in Nodes) sb.Append(node.DescribeState(linesPerNode));
        return sb.ToString();
    }

    internal void Log(string message)
    {
        try { _output?.WriteLine($"[{DateTime.Now:HH:mm:ss.fff}] {message}"); } catch (InvalidOperationException) { }
    }

    public void Dispose()
    {
        foreach (var node in Nodes) node.DisposeProcess();
        if (Environment.GetEnvironmentVariable("KEEP_BROKER_TEST_DIRS") == "1")
        {
            Log($"keeping {WorkDir}");
            return;
        }
        try { Directory.Delete(WorkDir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

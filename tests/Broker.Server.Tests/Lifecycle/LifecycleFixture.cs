using System.Net;
using System.Net.Sockets;
using Broker.Consensus;
using Broker.Core.Diagnostics;
using Broker.Core.Model;
using Broker.Metadata;
using Broker.Metadata.Controller;
using Broker.Metadata.Image;
using Broker.Metadata.Lifecycle;
using Broker.Network;
using Broker.Server.Handlers;
using Broker.Server.Lifecycle;
using Broker.Server.Pipeline;
using Broker.Server.Tests.Harness;
using Broker.Storage;

namespace Broker.Server.Tests.Lifecycle;

/// <summary>A clock the tests move by hand (session expiry without sleeping).</summary>
internal sealed class SteppedClock(long startMs = 5_000_000) : IClock
{
    private long _now = startMs;
    public long UnixTimeMilliseconds => Interlocked.Read(ref _now);
    public long MonotonicMilliseconds => Interlocked.Read(ref _now);
    public void Advance(TimeSpan by) => Interlocked.Add(ref _now, (long)by.TotalMilliseconds);
}

/// <summary>An <see cref="IControllerLifecycle"/> of a node that is not the active controller.</summary>
internal sealed class InactiveController : IControllerLifecycle
{
    public int Calls;
    public bool IsActiveController => false;
    public Task<BrokerRegistrationResult> RegisterBrokerAsync(BrokerRegistrationSpec spec, CancellationToken cancellationToken)
    { Interlocked.Increment(ref Calls); throw new InvalidOperationException("must not be called"); }
    public Task<BrokerHeartbeatResult> HeartbeatAsync(BrokerHeartbeat heartbeat, CancellationToken cancellationToken)
    { Interlocked.Increment(ref Calls); throw new InvalidOperationException("must not be called"); }
}

/// <summary>
/// The controller side of the lifecycle over real parts: a started single-node MetadataNode over a partition log in
/// a temp directory (node 1, registered in-process), a BrokerHeartbeatManager on a <see cref="SteppedClock"/>, and
/// a dispatcher serving ApiVersions, BrokerRegistration and BrokerHeartbeat, as the controller listener will.
/// <see cref="StartListenerAsync"/> puts it behind a real loopback <see cref="KafkaListener"/>.
/// </summary>
internal sealed class LifecycleFixture : IAsyncDisposable
{
    public static readonly TimeSpan SessionTimeout = TimeSpan.FromMilliseconds(9000);

    private readonly DirectoryInfo _dir;
    private readonly LogManager _logs;
    private readonly List<KafkaListener> _listeners = new();

    private LifecycleFixture(DirectoryInfo dir, LogManager logs, MetadataNode node, SteppedClock clock, BrokerHeartbeatManager manager)
    {
        _dir = dir;
        _logs = logs;
        Node = node;
        Clock = clock;
        Manager = manager;
        Dispatcher = Serve(new HeartbeatManagerLifecycle(manager));
        Harness = new HandlerHarness(Dispatcher);
    }

    public MetadataNode Node { get; }
    public SteppedClock Clock { get; }
    public BrokerHeartbeatManager Manager { get; }
    public KafkaRequestDispatcher Dispatcher { get; }
    public HandlerHarness Harness { get; }
    public string ClusterId => Node.ClusterId;
    public MetadataImage Image => Node.Current;

    public static KafkaRequestDispatcher Serve(IControllerLifecycle controller)
    {
        var table = new HandlerTable();
        table.Register(new ApiVersionsHandler(table))
            .Register(new BrokerRegistrationHandler(controller))
            .Register(new BrokerHeartbeatHandler(controller));
        return new KafkaRequestDispatcher(table);
    }

    public static async Task<LifecycleFixture> StartAsync(Func<int, bool>? leadsPartitions = null)
    {
        var dir = Directory.CreateTempSubdirectory("broker-lifecycle-tests-");
        var logs = new LogManager(Path.Combine(dir.FullName, "data"), SystemClock.Instance);
        try
        {
            var metadataLog = logs.GetOrCreate(new TopicPartition("__cluster_metadata", 0), new LogOptions());
            var replicated = new LocalReplicatedLog(metadataLog, leaderEpoch: 1);
            var node = new MetadataNode(new ControllerOptions { NodeId = 1 }, Path.Combine(dir.FullName, "data"), replicated,
                [new BrokerEndpoint("PLAINTEXT", "localhost", 9092, 0)]);
            await node.StartAsync();
            var clock = new SteppedClock();
            var manager = new BrokerHeartbeatManager(node.Controller, clock, SessionTimeout, leadsPartitions);
            return new LifecycleFixture(dir, logs, node, clock, manager);
        }
        catch
        {
            logs.Dispose();
            dir.Delete(recursive: true);
            throw;
        }
    }

    /// <summary>Serves <paramref name="dispatcher"/> (default: this fixture's) on a loopback port; returns "127.0.0.1:port".</summary>
    public string StartListener(IConnectionHandler? dispatcher = null)
    {
        var listener = new KafkaListener(new KafkaListenerOptions
        {
            ListenerName = "CONTROLLER",
            EndPoint = new IPEndPoint(IPAddress.Loopback, 0),
            ShutdownTimeout = TimeSpan.FromSeconds(2),
        }, dispatcher ?? Dispatcher);
        listener.Start();
        _listeners.Add(listener);
        return $"127.0.0.1:{listener.BoundEndPoint!.Port}";
    }

    /// <summary>A loopback port nothing listens on (connections are refused).</summary>
    public static string DeadEndpoint()
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return $"127.0.0.1:{((IPEndPoint)probe.LocalEndPoint!).Port}";
    }

    public BrokerLifecycleOptions ClientOptions(int brokerId, params string[] controllers) => new()
    {
        BrokerId = brokerId,
        ClusterId = ClusterId,
        Listeners = [new BrokerEndpoint("PLAINTEXT", "localhost", 19090 + brokerId, 0)],
        ControllerEndpoints = controllers,
        HeartbeatInterval = TimeSpan.FromMilliseconds(50),
        RequestTimeout = TimeSpan.FromSeconds(2),
        ConnectTimeout = TimeSpan.FromSeconds(1),
        RetryBackoff = TimeSpan.FromMilliseconds(20),
        ClientId = $"broker-{brokerId}",
    };

    public async ValueTask DisposeAsync()
    {
        foreach (var l in _listeners) await l.DisposeAsync();
        Manager.Dispose();
        Node.Dispose();
        _logs.Dispose();
        try { _dir.Delete(recursive: true); }
        catch (IOException) { }
    }
}

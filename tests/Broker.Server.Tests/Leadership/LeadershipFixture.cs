using System.Collections.Concurrent;
using System.Net;
using Broker.Consensus;
using Broker.Core.Diagnostics;
using Broker.Core.Model;
using Broker.Metadata;
using Broker.Metadata.Controller;
using Broker.Metadata.Image;
using Broker.Network;
using Broker.Server.Handlers;
using Broker.Server.Partitions;
using Broker.Server.Pipeline;
using Broker.Server.Tests.Harness;
using Broker.Storage;
using Xunit;

namespace Broker.Server.Tests.Leadership;

/// <summary>A replica whose Raft leadership the test sets by hand (appends are refused; reads use the real log).</summary>
internal sealed class ScriptedReplica(IPartitionLog log) : IReplicatedLog
{
    private volatile bool _isLeader;
    private int _leaderEpoch;
    private volatile int[] _isr = [];

    public TopicPartition Partition => log.Partition;
    public IPartitionLog Log => log;
    public bool IsLeader => _isLeader;
    public int LeaderEpoch => Volatile.Read(ref _leaderEpoch);
    public long HighWatermark => log.LogEndOffset;
    public IReadOnlyList<int> Isr => _isr;
    public event Action<IReplicatedLog>? HighWatermarkAdvanced { add { } remove { } }

    /// <summary>Becomes leader of <paramref name="epoch"/> with <paramref name="isr"/> in sync.</summary>
    public void Lead(int epoch, params int[] isr)
    {
        _isr = isr;
        Volatile.Write(ref _leaderEpoch, epoch);
        _isLeader = true;
    }

    public void SetIsr(params int[] isr) => _isr = isr;

    public ReplicatedAppendResult Append(ReadOnlySpan<byte> batches, long? logAppendTimeMs = null) =>
        new(ErrorCode.NotLeaderOrFollower, -1, -1, -1);

    public ValueTask<ErrorCode> WaitForCommitAsync(long offset, TimeSpan timeout, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(ErrorCode.None);

    public void Dispose() { }
}

/// <summary>
/// The controller side: a started single-node MetadataNode (node 1) over a real log in a temp directory, brokers 2
/// and 3 registered, topic "t" with partitions 0 [1,2,3], 1 [2,3,1], 2 [3,1,2], and a dispatcher serving
/// PartitionLeadership (<see cref="StartListener"/> puts it on a loopback port). The broker side: broker 2's
/// <see cref="PartitionManager"/> over its own logs with <see cref="ScriptedReplica"/>s, following the image.
/// </summary>
internal sealed class LeadershipFixture : IAsyncDisposable
{
    private readonly DirectoryInfo _dir;
    private readonly LogManager _metadataLogs;
    private readonly LogManager _brokerLogs;
    private readonly List<KafkaListener> _listeners = new();
    private readonly ConcurrentDictionary<TopicPartition, ScriptedReplica> _replicas = new();

    private LeadershipFixture(DirectoryInfo dir, LogManager metadataLogs, LogManager brokerLogs, MetadataNode node)
    {
        _dir = dir;
        _metadataLogs = metadataLogs;
        _brokerLogs = brokerLogs;
        Node = node;
        Dispatcher = Serve(() => node.Controller);
        Harness = new HandlerHarness(Dispatcher);
        Partitions = new PartitionManager(brokerLogs, 2, _ => new LogOptions(),
            replicaFactory: (log, _) => _replicas.GetOrAdd(log.Partition, _ => new ScriptedReplica(log)));
    }

    public MetadataNode Node { get; }
    public ClusterController Controller => Node.Controller;
    public MetadataImage Image => Node.Current;
    public KafkaRequestDispatcher Dispatcher { get; }
    public HandlerHarness Harness { get; }
    /// <summary>Broker 2's local replicas.</summary>
    public PartitionManager Partitions { get; }
    public Guid TopicId { get; private set; }
    public long Broker2Epoch => Image.GetBroker(2)!.BrokerEpoch;

    public static KafkaRequestDispatcher Serve(Func<ClusterController?> controller)
    {
        var table = new HandlerTable();
        table.Register(new ApiVersionsHandler(table)).Register(new PartitionLeadershipHandler(controller));
        return new KafkaRequestDispatcher(table);
    }

    public static async Task<LeadershipFixture> StartAsync()
    {
        var dir = Directory.CreateTempSubdirectory("broker-leadership-tests-");
        var metadataLogs = new LogManager(Path.Combine(dir.FullName, "controller"), SystemClock.Instance);
        var brokerLogs = new LogManager(Path.Combine(dir.FullName, "broker2"), SystemClock.Instance);
        try
        {
            var metadataLog = metadataLogs.GetOrCreate(new TopicPartition("__cluster_metadata", 0), new LogOptions());
            var node = new MetadataNode(new ControllerOptions { NodeId = 1 }, Path.Combine(dir.FullName, "controller"),
                new LocalReplicatedLog(metadataLog, leaderEpoch: 1), [new BrokerEndpoint("PLAINTEXT", "localhost", 9092, 0)]);
            await node.StartAsync();
            var f = new LeadershipFixture(dir, metadataLogs, brokerLogs, node);
            foreach (int id in new[] { 2, 3 })
                Assert.Equal(ErrorCode.None, (await node.Controller.RegisterBrokerAsync(id, Guid.NewGuid(), [new BrokerEndpoint("PLAINTEXT", "localhost", 9092 + id, 0)], null)).Error);
            var spec = new NewTopicSpec("t", ManualAssignment: new Dictionary<int, int[]> { [0] = [1, 2, 3], [1] = [2, 3, 1], [2] = [3, 1, 2] });
            var created = (await node.Controller.CreateTopicsAsync([spec], validateOnly: false))[0];
            Assert.Equal(ErrorCode.None, created.Error);
            f.TopicId = created.TopicId;
            node.ImageChanged += image => f.Partitions.ApplyImage(image);
            f.Partitions.ApplyImage(node.Current);
            return f;
        }
        catch
        {
            brokerLogs.Dispose();
            metadataLogs.Dispose();
            dir.Delete(recursive: true);
            throw;
        }
    }

    /// <summary>Broker 2's replica of t-<paramref name="partition"/>.</summary>
    public ScriptedReplica Replica(int partition)
    {
        Assert.True(Partitions.TryGetPartition("t", partition, out var state));
        return (ScriptedReplica)state.Replica;
    }

    public PartitionImage Partition(int partition) => Image.GetPartition("t", partition)!;

    /// <summary>Serves <paramref name="dispatcher"/> (default: this fixture's) on a loopback port.</summary>
    public (string Host, int Port) StartListener(IConnectionHandler? dispatcher = null)
    {
        var listener = new KafkaListener(new KafkaListenerOptions
        {
            ListenerName = "CONTROLLER",
            EndPoint = new IPEndPoint(IPAddress.Loopback, 0),
            ShutdownTimeout = TimeSpan.FromSeconds(2),
        }, dispatcher ?? Dispatcher);
        listener.Start();
        _listeners.Add(listener);
        return ("127.0.0.1", listener.BoundEndPoint!.Port);
    }

    public PartitionLeadershipReporter Reporter(
        Func<long>? brokerEpoch = null, Func<(string Host, int Port)?>? controller = null, TimeSpan? resendAfter = null)
    {
        var endpoint = controller is null ? StartListener() : default;
        return new PartitionLeadershipReporter(
            () => Partitions.Partitions,
            replica => ((ScriptedReplica)replica).Isr,
            () => 2,
            brokerEpoch ?? (() => Broker2Epoch),
            controller ?? (() => endpoint),
            interval: TimeSpan.FromMilliseconds(20),
            requestTimeout: TimeSpan.FromSeconds(5),
            connectTimeout: TimeSpan.FromSeconds(1),
            resendAfter: resendAfter);
    }

    /// <summary>Polls <paramref name="condition"/> until true or <paramref name="timeout"/> passes.</summary>
    public static async Task<bool> EventuallyAsync(Func<bool> condition, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(5));
        while (DateTime.UtcNow < deadline)
        {
            if (condition()) return true;
            await Task.Delay(10);
        }
        return condition();
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var l in _listeners) await l.DisposeAsync();
        Partitions.Dispose();
        Node.Dispose();
        _brokerLogs.Dispose();
        _metadataLogs.Dispose();
        try { _dir.Delete(recursive: true); }
        catch (IOException) { }
    }
}

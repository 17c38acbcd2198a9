using System.Collections.Immutable;
using System.Net;
using Broker.Consensus.Raft;
using Broker.Core.Diagnostics;
using Broker.Core.Model;
using Broker.Core.Records;
using Broker.Metadata.Image;
using Broker.Network;
using Broker.Server.Handlers;
using Broker.Server.LogAdmin;
using Broker.Server.Partitions;
using Broker.Server.Pipeline;
using Broker.Server.Tests.Harness;
using Broker.Storage;
using Xunit;

namespace Broker.Server.Tests.LogAdmin;

/// <summary>
/// N brokers in one process, as the host wires them: each has its own data directory, LogManager and
/// PartitionManager whose replicas are Raft groups (over one in-memory Raft network and one 10 ms ticker), a real
/// Kafka listener on 127.0.0.1 (registered in the shared metadata image under PLAINTEXT, so ElectLeaders can
/// forward) and the log admin handlers plus ListOffsets and Fetch behind it.
/// </summary>
internal sealed class LogAdminFixture : IAsyncDisposable
{
    public const string Listener = "PLAINTEXT";
    private MetadataImage _image = MetadataImage.Empty("logadmin-tests", 1);

    private LogAdminFixture(string root) => Root = root;

    public string Root { get; }
    public InMemoryRaftNetwork Network { get; } = new();
    public RaftTicker Ticker { get; } = new(TimeSpan.FromMilliseconds(10));
    public List<Node> Nodes { get; } = new();
    public MetadataImage Image => _image;

    public static async Task<LogAdminFixture> StartAsync(int nodes)
    {
        var fixture = new LogAdminFixture(Path.Combine(Path.GetTempPath(), "logadmin-" + Guid.NewGuid().ToString("N")));
        for (int id = 1; id <= nodes; id++) fixture.Nodes.Add(fixture.CreateNode(id));
        var builder = new MetadataImageBuilder(fixture._image);
        foreach (var node in fixture.Nodes)
            builder.SetBroker(new BrokerRegistration(node.Id, Guid.NewGuid(), 1,
                [new BrokerEndpoint(Listener, "127.0.0.1", node.Listener.BoundEndPoint!.Port, 0)], null, Fenced: false));
        fixture.Publish(builder);
        await Task.CompletedTask;
        return fixture;
    }

    private Node CreateNode(int id)
    {
        string dir = Path.Combine(Root, $"node{id}");
        var logs = new LogManager(dir, SystemClock.Instance);
        var partitions = new PartitionManager(logs, id, static _ => new LogOptions { RetentionMs = -1, SegmentBytes = 1 << 20 },
            replicaFactory: (log, p) =>
            {
                var group = new RaftReplicatedLog(log, Network.Endpoint(id), new RaftGroupOptions
                {
                    NodeId = id,
                    Voters = p.Replicas.ToArray(),
                    StateDirectory = ((PartitionLog)log).Directory,
                    ElectionTicks = 10,
                    FlushOnWrite = false,
                    RandomSeed = id * 31,
                }, Ticker);
                if (p.Replicas.Length > 1 && p.Leader == id && group.Term == 0) group.Campaign();
                return group;
            });
        var table = new HandlerTable();
        table.Register(new ApiVersionsHandler(table))
            .Register(new ListOffsetsHandler(partitions))
            .Register(new FetchHandler(partitions))
            .Register(new DeleteRecordsHandler(partitions))
            .Register(new OffsetForLeaderEpochHandler(partitions))
            .Register(new DescribeLogDirsHandler(partitions, [logs.LogDir, Path.Combine(Root, $"node{id}-spare")]))
            .Register(new ElectLeadersHandler(new PreferredLeaderElector(partitions, new ElectLeadersForwarder(Listener))));
        var dispatcher = new KafkaRequestDispatcher(table);
        var listener = new KafkaListener(new KafkaListenerOptions
        {
            ListenerName = Listener,
            EndPoint = new IPEndPoint(IPAddress.Loopback, 0),
        }, dispatcher);
        listener.Start();
        return new Node(id, logs, partitions, listener, new HandlerHarness(dispatcher));
    }

    /// <summary>Creates a topic on every node: partitions with <paramref name="replicas"/>, the first leading.</summary>
    public void CreateTopic(string name, int partitions = 1, int[]? replicas = null, Dictionary<string, string>? configs = null)
    {
        var builder = new MetadataImageBuilder(_image);
        var id = Guid.NewGuid();
        Assert.True(builder.AddTopic(name, id));
        var draft = builder.EditTopic(id)!;
        var set = (replicas ?? [1]).ToImmutableArray();
        for (int i = 0; i < partitions; i++) Assert.True(draft.SetPartition(new PartitionImage(i, set[0], 0, 0, set, set)));
        foreach (var (k, v) in configs ?? new()) draft.SetConfig(k, v);
        Publish(builder);
    }

    private void Publish(MetadataImageBuilder builder)
    {
        builder.LastAppliedOffset = _image.LastAppliedOffset + 1;
        _image = builder.Build();
        // Last node first: the preferred leader (node 1 in these tests) campaigns when its replica is created, so its
        // peers must already listen then.
        for (int i = Nodes.Count - 1; i >= 0; i--) Nodes[i].Partitions.ApplyImage(_image);
    }

    public Node NodeById(int id) => Nodes[id - 1];

    public RaftReplicatedLog Group(int node, string topic, int partition = 0)
    {
        Assert.True(NodeById(node).Partitions.TryGetPartition(topic, partition, out var state));
        return (RaftReplicatedLog)state.Replica;
    }

    /// <summary>The node whose replica leads, once exactly one does.</summary>
    public int WaitForLeader(string topic, int partition = 0, int? notNode = null)
    {
        int leader = -1;
        Wait(() =>
        {
            var leaders = Nodes.Where(n => !Network.IsIsolated(n.Id) && Group(n.Id, topic, partition).IsLeader).ToList();
            leader = leaders.Count == 1 ? leaders[0].Id : -1;
            return leader > 0 && leader != notNode;
        }, $"a leader of {topic}-{partition}");
        return leader;
    }

    /// <summary>Appends <paramref name="batches"/> batches of <paramref name="records"/> records on the leader, committed.</summary>
    public async Task<long> ProduceAsync(string topic, int batches, int records, int partition = 0)
    {
        var group = Group(WaitForLeader(topic, partition), topic, partition);
        long last = -1;
        for (int i = 0; i < batches; i++)
        {
            var builder = new RecordBatchBuilder();
            builder.Reset(1_700_000_000_000 + i);
            for (int r = 0; r < records; r++) builder.Add(1_700_000_000_000 + i, default, [(byte)('a' + r)], keyIsNull: true);
            var result = group.Append(builder.ToArray());
            Assert.Equal(ErrorCode.None, result.Error);
            last = result.LastOffset;
        }
        Assert.Equal(ErrorCode.None, await group.WaitForCommitAsync(last, TimeSpan.FromSeconds(10)));
        return last + 1;
    }

    public static void Wait(Func<bool> condition, string what, int timeoutMs = 10_000)
    {
        var sw = System.Diagnostics.Stopwatch.StartNew();
        while (!condition())
        {
            if (sw.ElapsedMilliseconds > timeoutMs) throw new TimeoutException($"timed out waiting for {what}");
            Thread.Sleep(10);
        }
    }

    public async ValueTask DisposeAsync()
    {
        Ticker.Dispose();
        foreach (var node in Nodes)
        {
            await node.Listener.StopAsync();
            node.Partitions.CloseReplicas();
            node.Partitions.Dispose();
            node.Logs.Dispose();
        }
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    internal sealed record Node(int Id, LogManager Logs, PartitionManager Partitions, KafkaListener Listener, HandlerHarness Harness);
}

using System.Net;
using System.Net.Sockets;
using Broker.Consensus;
using Broker.Core.Diagnostics;
using Broker.Core.Model;
using Broker.Metadata;
using Broker.Metadata.Controller;
using Broker.Metadata.Image;
using Broker.Network;
using Broker.Protocol.Messages;
using Broker.Server.Handlers;
using Broker.Server.Pipeline;
using Broker.Server.Producers;
using Broker.Server.Tests.Harness;
using Storage = Broker.Storage;
using Xunit;

namespace Broker.Server.Tests.Producers;

/// <summary>
/// The controller side over real parts: a started single-node MetadataNode (node 1) over a real log in a temp
/// directory with brokers 2 and 3 registered, and a dispatcher serving AllocateProducerIds, on a loopback listener
/// when asked.
/// </summary>
internal sealed class ProducerIdsFixture : IAsyncDisposable
{
    private readonly DirectoryInfo _dir;
    private readonly Storage.LogManager _logs;
    private readonly List<KafkaListener> _listeners = new();

    private ProducerIdsFixture(DirectoryInfo dir, Storage.LogManager logs, MetadataNode node)
    {
        _dir = dir;
        _logs = logs;
        Node = node;
        Harness = new HandlerHarness(Serve(() => node.Controller));
    }

    public MetadataNode Node { get; }
    public HandlerHarness Harness { get; }
    public MetadataImage Image => Node.Current;
    public long EpochOf(int broker) => Image.GetBroker(broker)!.BrokerEpoch;

    public static KafkaRequestDispatcher Serve(Func<ClusterController?> controller)
    {
        var table = new HandlerTable();
        table.Register(new ApiVersionsHandler(table)).Register(new AllocateProducerIdsHandler(controller));
        return new KafkaRequestDispatcher(table);
    }

    public static async Task<ProducerIdsFixture> StartAsync()
    {
        var dir = Directory.CreateTempSubdirectory("broker-producer-id-tests-");
        var logs = new Storage.LogManager(Path.Combine(dir.FullName, "controller"), SystemClock.Instance);
        try
        {
            var log = logs.GetOrCreate(new TopicPartition("__cluster_metadata", 0), new Storage.LogOptions());
            var node = new MetadataNode(new ControllerOptions { NodeId = 1 }, Path.Combine(dir.FullName, "controller"),
                new LocalReplicatedLog(log, leaderEpoch: 1), [new BrokerEndpoint("PLAINTEXT", "localhost", 9092, 0)]);
            await node.StartAsync();
            foreach (int id in new[] { 2, 3 })
                Assert.Equal(ErrorCode.None, (await node.Controller.RegisterBrokerAsync(id, Guid.NewGuid(), [new BrokerEndpoint("PLAINTEXT", "localhost", 9092 + id, 0)], null)).Error);
            return new ProducerIdsFixture(dir, logs, node);
        }
        catch
        {
            logs.Dispose();
            dir.Delete(recursive: true);
            throw;
        }
    }

    /// <summary>Serves <paramref name="dispatcher"/> (default: the active controller) on a loopback port.</summary>
    public (string Host, int Port) StartListener(IConnectionHandler? dispatcher = null)
    {
        var listener = new KafkaListener(new KafkaListenerOptions
        {
            ListenerName = "CONTROLLER",
            EndPoint = new IPEndPoint(IPAddress.Loopback, 0),
            ShutdownTimeout = TimeSpan.FromSeconds(2),
        }, dispatcher ?? Serve(() => Node.Controller));
        listener.Start();
        _listeners.Add(listener);
        return ("127.0.0.1", listener.BoundEndPoint!.Port);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var l in _listeners) await l.DisposeAsync();
        Node.Dispose();
        _logs.Dispose();
        try { _dir.Delete(recursive: true); }
        catch (IOException) { }
    }
}

public class AllocateProducerIdsTests
{
    private static Task<AllocateProducerIdsResponse> CallAsync(HandlerHarness harness, int broker, long epoch) =>
        harness.CallAsync(AllocateProducerIdsRequest.ApiKey, 0, new AllocateProducerIdsRequest { BrokerId = broker, BrokerEpoch = epoch },
            AllocateProducerIdsResponse.Read);

    [Fact]
    public async Task Each_request_gets_the_next_block_of_1000_recorded_in_the_metadata()
    {
        await using var f = await ProducerIdsFixture.StartAsync();
        long before = f.Image.NextProducerId;
        var first = await CallAsync(f.Harness, 2, f.EpochOf(2));
        var second = await CallAsync(f.Harness, 3, f.EpochOf(3));
        Assert.Equal((ErrorCode.None, before, 1000), ((ErrorCode)first.ErrorCode, first.ProducerIdStart, first.ProducerIdLen));
        Assert.Equal((ErrorCode.None, before + 1000, 1000), ((ErrorCode)second.ErrorCode, second.ProducerIdStart, second.ProducerIdLen));
        Assert.Equal(before + 2000, f.Image.NextProducerId);
    }

    [Fact]
    public async Task A_stale_epoch_or_an_unknown_broker_gets_no_block()
    {
        await using var f = await ProducerIdsFixture.StartAsync();
        long before = f.Image.NextProducerId;
        var stale = await CallAsync(f.Harness, 2, f.EpochOf(2) - 1);
        var unknown = await CallAsync(f.Harness, 9, 5);
        Assert.Equal((ErrorCode.StaleBrokerEpoch, -1L, 0), ((ErrorCode)stale.ErrorCode, stale.ProducerIdStart, stale.ProducerIdLen));
        Assert.Equal(ErrorCode.BrokerIdNotRegistered, (ErrorCode)unknown.ErrorCode);
        Assert.Equal(before, f.Image.NextProducerId);
    }

    [Fact]
    public async Task A_node_that_is_not_the_ready_active_controller_answers_not_controller()
    {
        await using var f = await ProducerIdsFixture.StartAsync();
        var harness = new HandlerHarness(ProducerIdsFixture.Serve(() => null));
        var response = await CallAsync(harness, 2, f.EpochOf(2));
        Assert.Equal((ErrorCode.NotController, -1L, 0), ((ErrorCode)response.ErrorCode, response.ProducerIdStart, response.ProducerIdLen));
    }

    [Fact]
    public async Task The_allocator_fetches_blocks_over_the_controller_listener()
    {
        await using var f = await ProducerIdsFixture.StartAsync();
        var endpoint = f.StartListener();
        using var allocator = new ControllerProducerIdAllocator(() => endpoint);
        var a = await allocator.AllocateAsync(2, f.EpochOf(2), CancellationToken.None);
        var b = await allocator.AllocateAsync(2, f.EpochOf(2), CancellationToken.None);
        Assert.Equal((ErrorCode.None, 1000), (a.Error, a.Size));
        Assert.Equal((ErrorCode.None, a.FirstProducerId + 1000), (b.Error, b.FirstProducerId));
        Assert.Equal(ErrorCode.StaleBrokerEpoch, (await allocator.AllocateAsync(2, 1234567, CancellationToken.None)).Error);
    }

    [Fact]
    public async Task The_allocator_reports_a_missing_or_moved_controller_as_an_error()
    {
        await using var f = await ProducerIdsFixture.StartAsync();
        using var nobody = new ControllerProducerIdAllocator(() => null);
        Assert.Equal(ErrorCode.NotController, (await nobody.AllocateAsync(2, f.EpochOf(2), CancellationToken.None)).Error);

        var notActive = f.StartListener(ProducerIdsFixture.Serve(() => null));
        var active = f.StartListener();
        var target = notActive;
        using var allocator = new ControllerProducerIdAllocator(() => target);
        Assert.Equal(ErrorCode.NotController, (await allocator.AllocateAsync(2, f.EpochOf(2), CancellationToken.None)).Error);
        target = active; // leadership moved: the next call goes to the new controller
        Assert.Equal(ErrorCode.None, (await allocator.AllocateAsync(2, f.EpochOf(2), CancellationToken.None)).Error);

        int closedPort;
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            closedPort = ((IPEndPoint)probe.LocalEndpoint).Port;
        }
        using var unreachable = new ControllerProducerIdAllocator(() => ("127.0.0.1", closedPort), connectTimeout: TimeSpan.FromSeconds(1));
        Assert.Equal(ErrorCode.NetworkException, (await unreachable.AllocateAsync(2, f.EpochOf(2), CancellationToken.None)).Error);
    }

    [Fact]
    public async Task Two_brokers_draw_disjoint_ids_from_one_controller()
    {
        await using var f = await ProducerIdsFixture.StartAsync();
        var endpoint = f.StartListener();
        using var allocator2 = new ControllerProducerIdAllocator(() => endpoint);
        using var allocator3 = new ControllerProducerIdAllocator(() => endpoint);
        await using var broker2 = new ProducerIdManager(allocator2, () => 2, () => f.EpochOf(2));
        await using var broker3 = new ProducerIdManager(allocator3, () => 3, () => f.EpochOf(3));

        async Task<List<long>> DrawAsync(ProducerIdManager manager)
        {
            var ids = new List<long>();
            for (int i = 0; i < 2500; i++)
            {
                if (manager.TryNextProducerId(out long id)) { ids.Add(id); continue; }
                var result = await manager.NextProducerIdAsync(TimeSpan.FromSeconds(5));
                Assert.Equal(ErrorCode.None, result.Error);
                ids.Add(result.ProducerId);
            }
            return ids;
        }

        var draws = await Task.WhenAll(Task.Run(() => DrawAsync(broker2)), Task.Run(() => DrawAsync(broker3))).WaitAsync(TimeSpan.FromSeconds(30));
        var all = draws[0].Concat(draws[1]).ToList();
        Assert.Equal(5000, all.Count);
        Assert.Equal(5000, all.Distinct().Count());
        Assert.True(f.Image.NextProducerId > all.Max(), $"NextProducerId {f.Image.NextProducerId} is not above every id handed out ({all.Max()})");
    }
}

using System.Diagnostics;
using System.Net.Sockets;
using Broker.Integration.Tests.Cluster;
using Broker.Integration.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace Broker.Integration.Tests;

/// <summary>
/// InitProducerId against the published binary, spoken on the wire (v0: classic encoding; v3/v4: flexible, request
/// header v2, response header v1): a single node hands out distinct ids with epoch 0 in every version, refuses
/// transactional ids with TRANSACTIONAL_ID_AUTHORIZATION_FAILED, and keeps ids unique across a SIGKILL restart.
/// </summary>
public sealed class InitProducerIdTests : IntegrationTest
{
    public InitProducerIdTests(ITestOutputHelper output) : base(output) { }

    [Fact]
    public void SingleNode_EveryVersion_DistinctIds_UniqueAfterKill9Restart()
    {
        var broker = StartBroker("pid");
        var seen = new HashSet<long>();
        using (var client = new ProducerIdClient("127.0.0.1", broker.Port))
        {
            foreach (short version in new short[] { 0, 0, 1, 2, 3, 4, 4 })
            {
                var r = client.InitWithRetry(version, TimeSpan.FromSeconds(20));
                Assert.True(r.Error == 0, $"v{version}: error {r.Error}\n{broker.DescribeState()}");
                Assert.Equal(0, r.Epoch);
                Assert.True(seen.Add(r.ProducerId), $"v{version}: producer id {r.ProducerId} handed out twice");
            }
            // v3+ naming the current id and epoch still gets a fresh id (no transaction state to bump).
            long current = seen.Max();
            var bumped = client.Init(4, producerId: current, producerEpoch: 0);
            Assert.Equal((0, (short)0), (bumped.Error, bumped.Epoch));
            Assert.True(seen.Add(bumped.ProducerId), $"producer id {bumped.ProducerId} handed out twice");

            var transactional = client.Init(4, transactionalId: "orders-tx");
            Assert.Equal((53, -1L, (short)-1), (transactional.Error, transactional.ProducerId, transactional.Epoch));
            Assert.Equal(53, client.Init(0, transactionalId: "orders-tx").Error);
        }

        broker.Kill();
        broker.Restart();
        using (var client = new ProducerIdClient("127.0.0.1", broker.Port))
        {
            for (int i = 0; i < 5; i++)
            {
                var r = client.InitWithRetry(4, TimeSpan.FromSeconds(20));
                Assert.True(r.Error == 0, $"after restart: error {r.Error}\n{broker.DescribeState()}");
                Assert.True(seen.Add(r.ProducerId), $"producer id {r.ProducerId} handed out before the restart too");
            }
        }
        Output.WriteLine($"ids handed out: {string.Join(", ", seen.Order())}");
    }
}

/// <summary>
/// Producer ids in a three-node cluster (every node broker and controller): ids handed out by different brokers
/// never collide, also after the active controller is SIGKILLed and a new one allocates the blocks, after the
/// killed node returns, and after a graceful broker restart.
/// </summary>
[Trait("Category", "Cluster")]
public sealed class InitProducerIdClusterTests : ClusterTest
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    private readonly Dictionary<long, string> _seen = new();

    public InitProducerIdClusterTests(ITestOutputHelper output) : base(output) { }

    /// <summary>Draws <paramref name="count"/> ids from broker <paramref name="nodeId"/>, asserting none was seen before.</summary>
    private void Draw(ClusterProcess cluster, int nodeId, int count, string phase)
    {
        var node = cluster.Node(nodeId);
        var sw = Stopwatch.StartNew();
        using var client = new ProducerIdClient(node.Host, node.KafkaPort);
        for (int i = 0; i < count; i++)
        {
            short version = (short)(i % 2 == 0 ? 4 : 0);
            var r = client.InitWithRetry(version, Deadline);
            Assert.True(r.Error == 0, $"{phase}: node {nodeId} answered error {r.Error} (v{version})\n{cluster.DescribeState()}");
            Assert.Equal(0, r.Epoch);
            string where = $"{phase}, node {nodeId}, #{i}";
            Assert.True(_seen.TryAdd(r.ProducerId, where), $"producer id {r.ProducerId} handed out twice: {_seen.GetValueOrDefault(r.ProducerId)} and {where}");
        }
        Output.WriteLine($"{phase}: {count} ids from node {nodeId} in {sw.ElapsedMilliseconds} ms");
    }

    [Fact]
    public void ThreeNodes_IdsNeverCollide_AcrossControllerKill9_AndBrokerRestarts()
    {
        var cluster = StartCluster("pid", ClusterLayout.Combined(3));
        foreach (var node in cluster.Nodes) Draw(cluster, node.Id, 6, "start");

        int controller = cluster.WaitForController(TimeSpan.FromSeconds(10));
        cluster.Node(controller).Kill();
        int next = cluster.WaitForController(TimeSpan.FromSeconds(15), notId: controller);
        Output.WriteLine($"controller {controller} killed, controller {next} elected");

        // More ids than one block holds: each survivor must get new blocks from the new controller.
        foreach (var node in cluster.Nodes.Where(n => n.IsRunning)) Draw(cluster, node.Id, 1100, "after controller kill");

        cluster.Restart(controller);
        Draw(cluster, controller, 6, "killed node back");

        int restarted = cluster.Nodes.First(n => n.Id != controller && n.Id != next).Id;
        cluster.Node(restarted).Stop();
        cluster.Restart(restarted);
        Draw(cluster, restarted, 6, "broker restarted");

        foreach (var node in cluster.Nodes) Draw(cluster, node.Id, 3, "end");
        Output.WriteLine($"{_seen.Count} distinct ids, highest {_seen.Keys.Max()}");
    }
}

/// <summary>InitProducerId on one connection (v0-1 classic, v2+ flexible), over <see cref="WireConnection"/>.</summary>
internal sealed class ProducerIdClient(string host, int port) : IDisposable
{
    private const short ApiInitProducerId = 22;
    private const short CoordinatorLoadInProgress = 14;
    private WireConnection? _connection;

    public readonly record struct Answer(short Error, long ProducerId, short Epoch);

    /// <summary>Retries COORDINATOR_LOAD_IN_PROGRESS and connection failures (as clients do) until <paramref name="deadline"/>.</summary>
    public Answer InitWithRetry(short version, TimeSpan deadline)
    {
        var sw = Stopwatch.StartNew();
        string last = "";
        while (true)
        {
            try
            {
                var answer = Init(version);
                if (answer.Error != CoordinatorLoadInProgress) return answer;
                last = "COORDINATOR_LOAD_IN_PROGRESS";
            }
            catch (Exception ex) when (ex is SocketException or IOException or TimeoutException)
            {
                last = $"{ex.GetType().Name}: {ex.Message}";
                Dispose();
            }
            if (sw.Elapsed > deadline) throw new TimeoutException($"no producer id from {host}:{port} within {deadline.TotalSeconds:F0} s: {last}");
            Thread.Sleep(200);
        }
    }

    public Answer Init(short version, string? transactionalId = null, long producerId = -1, short producerEpoch = -1)
    {
        _connection ??= new WireConnection(host, port, "pid-it");
        var r = _connection.Call(ApiInitProducerId, version, flexible: version >= 2, w =>
        {
            w.String(transactionalId).Int32(60000);
            if (version >= 3) w.Int64(producerId).Int16(producerEpoch);
        });
        r.Int32(); // throttle
        var answer = new Answer(r.Int16(), r.Int64(), r.Int16());
        r.End();
        return answer;
    }

    public void Dispose()
    {
        _connection?.Dispose();
        _connection = null;
    }
}

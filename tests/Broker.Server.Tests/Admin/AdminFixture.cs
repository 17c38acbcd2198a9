using Broker.Config;
using Broker.Consensus;
using Broker.Core.Diagnostics;
using Broker.Core.Model;
using Broker.Metadata;
using Broker.Metadata.Controller;
using Broker.Metadata.Image;
using Broker.Network;
using Broker.Protocol.Codec;
using Broker.Server.Admin;
using Broker.Server.Handlers;
using Broker.Server.Pipeline;
using Broker.Server.Tests.Harness;
using Broker.Storage;
using Xunit;

namespace Broker.Server.Tests.Admin;

/// <summary>
/// A started single-node metadata stack over a real partition log in a temp directory (LogManager +
/// LocalReplicatedLog + MetadataNode, topic configs validated by TopicConfigCatalog), with the metadata/admin
/// handlers registered behind a real dispatcher. Node 1 advertises PLAINTEXT localhost:9092 and
/// EXTERNAL broker1.example:19092, rack "rack-a".
/// </summary>
internal sealed class AdminFixture : IDisposable
{
    public const string External = "EXTERNAL";

    private readonly DirectoryInfo _dir;
    private readonly LogManager _logs;
    private readonly KafkaRequestDispatcher _dispatcher;
    private int _correlation = 1000;

    private AdminFixture(DirectoryInfo dir, LogManager logs, MetadataNode node, KafkaRequestDispatcher dispatcher)
    {
        _dir = dir;
        _logs = logs;
        Node = node;
        _dispatcher = dispatcher;
        Harness = new HandlerHarness(dispatcher);
    }

    public MetadataNode Node { get; }
    public ClusterController Controller => Node.Controller;
    public MetadataImage Image => Node.Current;
    public HandlerHarness Harness { get; }

    public static async Task<AdminFixture> StartAsync(
        AdminOptions? options = null, ControllerOptions? controllerOptions = null, ITopicAdmin? admin = null)
    {
        var dir = Directory.CreateTempSubdirectory("broker-admin-tests-");
        var logs = new LogManager(Path.Combine(dir.FullName, "data"), SystemClock.Instance);
        try
        {
            var metadataLog = logs.GetOrCreate(new TopicPartition("__cluster_metadata", 0), new LogOptions());
            var replicated = new LocalReplicatedLog(metadataLog, leaderEpoch: 1);
            var endpoints = new[]
            {
                new BrokerEndpoint("PLAINTEXT", "localhost", 9092, 0),
                new BrokerEndpoint(External, "broker1.example", 19092, 0),
            };
            var node = new MetadataNode(controllerOptions ?? new ControllerOptions { NodeId = 1 }, Path.Combine(dir.FullName, "data"),
                replicated, endpoints, rack: "rack-a", validateTopicConfig: TopicConfigCatalog.Validate);
            await node.StartAsync();

            options ??= new AdminOptions { NodeId = 1, AutoCreateTopicsEnable = false };
            admin ??= new ControllerTopicAdmin(() => node.Controller);
            var defaults = TopicConfigDefaults.FromBrokerConfig(BrokerConfig.Default(Path.Combine(dir.FullName, "data")));
            var table = new HandlerTable();
            table.Register(new ApiVersionsHandler(table))
                .Register(new MetadataHandler(() => node.Current, admin, options))
                .Register(new CreateTopicsHandler(admin, defaults))
                .Register(new DeleteTopicsHandler(admin))
                .Register(new CreatePartitionsHandler(admin))
                .Register(new DescribeClusterHandler(() => node.Current, options));
            return new AdminFixture(dir, logs, node, new KafkaRequestDispatcher(table));
        }
        catch
        {
            logs.Dispose();
            dir.Delete(recursive: true);
            throw;
        }
    }

    /// <summary>Round trip over the PLAINTEXT listener (the harness connection).</summary>
    public Task<T> CallAsync<T>(short apiKey, short version, IKafkaMessage request, HandlerHarness.ResponseReader<T> read) =>
        Harness.CallAsync(apiKey, version, request, read);

    /// <summary>Round trip as a client connected to <paramref name="listener"/>; asserts nothing is left unread.</summary>
    public async Task<T> CallOnListenerAsync<T>(string listener, short apiKey, short version, IKafkaMessage request, HandlerHarness.ResponseReader<T> read)
    {
        int correlationId = Interlocked.Increment(ref _correlation);
        var frame = HandlerHarness.EncodeRequest(apiKey, version, request, correlationId);
        var connection = new ConnectionContext(42, listener, null, null);
        using var output = await _dispatcher.HandleAsync(connection, frame) ?? throw new InvalidOperationException("no response");
        output.WriteSizePrefix();
        var bytes = output.ToArray()[4..];
        var reader = new KafkaReader(bytes);
        Assert.Equal(correlationId, RequestHeader.ReadResponseHeader(ref reader, apiKey, version));
        var result = read(ref reader, version);
        Assert.True(reader.IsAtEnd, $"{reader.Remaining} unread bytes after the response body");
        return result;
    }

    /// <summary>Creates a topic directly through the controller.</summary>
    public async Task<CreateTopicResult> CreateTopicAsync(string name, int partitions = 1, IReadOnlyDictionary<int, int[]>? manual = null)
    {
        var spec = manual is null ? new NewTopicSpec(name, partitions, 1) : new NewTopicSpec(name, ManualAssignment: manual);
        var result = (await Controller.CreateTopicsAsync([spec], validateOnly: false))[0];
        Assert.Equal(ErrorCode.None, result.Error);
        return result;
    }

    /// <summary>Registers (and, by the controller's default, unfences) another broker; returns its epoch.</summary>
    public async Task<long> RegisterBrokerAsync(int id, string? rack, params BrokerEndpoint[] endpoints)
    {
        var result = await Controller.RegisterBrokerAsync(id, Guid.NewGuid(), endpoints, rack);
        Assert.Equal(ErrorCode.None, result.Error);
        return result.BrokerEpoch;
    }

    public void Dispose()
    {
        Node.Dispose();
        _logs.Dispose();
        try { _dir.Delete(recursive: true); }
        catch (IOException) { }
    }
}

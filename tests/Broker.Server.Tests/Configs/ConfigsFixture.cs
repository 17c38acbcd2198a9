using Broker.Config;
using Broker.Consensus;
using Broker.Core.Diagnostics;
using Broker.Core.Model;
using Broker.Metadata;
using Broker.Metadata.Controller;
using Broker.Metadata.Image;
using Broker.Metadata.Records;
using Broker.Protocol.Codec;
using Broker.Server.Admin;
using Broker.Server.Configs;
using Broker.Server.Handlers;
using Broker.Server.Partitions;
using Broker.Server.Pipeline;
using Broker.Server.Tests.Data;
using Broker.Server.Tests.Harness;
using Broker.Storage;
using Xunit;

namespace Broker.Server.Tests.Configs;

/// <summary>
/// A single node wired the way the host wires it, in a temp directory: server.properties loaded by BrokerConfig
/// (with <see cref="BaseProperties"/> plus a test's extra lines), a started MetadataNode over a real metadata log
/// with the controller's broker-config policy, a PartitionManager over real partition logs that follows the image
/// and resolves topic options against dynamic broker configs, and the config handlers (plus CreateTopics, Produce and
/// ListOffsets to observe effects) behind a real dispatcher.
/// </summary>
internal sealed class ConfigsFixture : IDisposable
{
    /// <summary>Static settings the tests rely on: retention 100 hours (given as hours), 1 MiB segments.</summary>
    public const string BaseProperties =
        "process.roles=broker,controller\nnode.id=1\ncontroller.quorum.voters=1@127.0.0.1:19093\n" +
        "listeners=PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093\ncontroller.listener.names=CONTROLLER\n" +
        "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT\n" +
        "log.retention.hours=100\nlog.segment.bytes=1048576\n";

    private readonly DirectoryInfo _dir;

    private ConfigsFixture(DirectoryInfo dir, BrokerConfig config, LogManager logs, MetadataNode node, PartitionManager partitions)
    {
        _dir = dir;
        Config = config;
        Logs = logs;
        Node = node;
        Partitions = partitions;
        Dynamic = new DynamicBrokerConfig(config);
        Admin = new ControllerTopicAdmin(() => node.Controller);
        Service = new ConfigAlterService(Admin, () => node.Current);
        DynamicConfigAdmin = new DynamicConfigAdmin(Service, Dynamic);
        var table = new HandlerTable();
        table.Register(new ApiVersionsHandler(table))
            .Register(new DescribeConfigsHandler(() => node.Current, Dynamic))
            .Register(new AlterConfigsHandler(Service))
            .Register(new IncrementalAlterConfigsHandler(Service, Dynamic))
            .Register(new CreateTopicsHandler(Admin, TopicConfigDefaults.FromBrokerConfig(config)))
            .Register(new ProduceHandler(partitions, SystemClock.Instance))
            .Register(new ListOffsetsHandler(partitions));
        Table = table;
        Harness = new HandlerHarness(new KafkaRequestDispatcher(table));
        partitions.SetOptionResolvers(t => Dynamic.LogOptionsFor(partitions.Image, t), t => Dynamic.SettingsFor(partitions.Image, t));
    }

    public BrokerConfig Config { get; }
    public LogManager Logs { get; }
    public MetadataNode Node { get; }
    public PartitionManager Partitions { get; }
    public DynamicBrokerConfig Dynamic { get; }
    public ControllerTopicAdmin Admin { get; }
    public ConfigAlterService Service { get; }
    public DynamicConfigAdmin DynamicConfigAdmin { get; }
    public HandlerTable Table { get; }
    public HandlerHarness Harness { get; }
    public MetadataImage Image => Node.Current;
    public ClusterController Controller => Node.Controller;

    public static async Task<ConfigsFixture> StartAsync(string extraProperties = "")
    {
        var dir = Directory.CreateTempSubdirectory("broker-configs-tests-");
        string data = Path.Combine(dir.FullName, "data");
        string path = Path.Combine(dir.FullName, "server.properties");
        File.WriteAllText(path, BaseProperties + extraProperties);
        var config = BrokerConfig.Load(path, data).Config;
        var logs = new LogManager(data, SystemClock.Instance);
        try
        {
            var metadataLog = logs.GetOrCreate(new TopicPartition("__cluster_metadata", 0), new LogOptions());
            var node = new MetadataNode(new ControllerOptions { NodeId = 1 }, data, new LocalReplicatedLog(metadataLog, leaderEpoch: 1),
                [new BrokerEndpoint("PLAINTEXT", "127.0.0.1", 19092, 0)], validateTopicConfig: TopicConfigCatalog.Validate);
            await node.StartAsync();
            node.Controller.BrokerConfigPolicy = changes =>
                DynamicBrokerConfigs.CheckAll(changes) is { } r ? new ConfigRefusal(r.Error, r.Message) : null;
            // As the host does: static options first; the fixture then switches to the dynamic resolvers.
            var staticOptions = new TopicLogOptions(config);
            var staticSettings = TopicSettings.FromBroker(config.LogMessageTimestampType, config.MinInsyncReplicas);
            var partitions = new PartitionManager(logs, 1, staticOptions.For, t => TopicSettings.Resolve(t.Configs, staticSettings));
            node.ImageChanged += partitions.ApplyImage;
            partitions.ApplyImage(node.Current);
            return new ConfigsFixture(dir, config, logs, node, partitions);
        }
        catch
        {
            logs.Dispose();
            dir.Delete(recursive: true);
            throw;
        }
    }

    public Task<T> CallAsync<T>(short apiKey, short version, IKafkaMessage request, HandlerHarness.ResponseReader<T> read) =>
        Harness.CallAsync(apiKey, version, request, read);

    /// <summary>Creates a topic through the controller (1 replica on node 1).</summary>
    public async Task<TopicImage> CreateTopicAsync(string name, int partitions = 1, Dictionary<string, string?>? configs = null)
    {
        var result = (await Controller.CreateTopicsAsync([new NewTopicSpec(name, partitions, 1, Configs: configs)], validateOnly: false))[0];
        Assert.Equal(ErrorCode.None, result.Error);
        return Image.GetTopic(name)!;
    }

    /// <summary>Sets or deletes dynamic configs of one resource through the service (as the handlers do).</summary>
    public async Task<AlterConfigsResult> AlterAsync(ConfigResourceType type, string name, Dictionary<string, string?> changes, bool validateOnly = false) =>
        (await Service.AlterAsync([new ConfigResourceChange(type, name, changes)], validateOnly, CancellationToken.None))[0];

    public PartitionState Partition(string topic, int partition = 0)
    {
        Assert.True(Partitions.TryGetPartition(topic, partition, out var state), $"no local replica of {topic}-{partition}");
        return state!;
    }

    /// <summary>Appends <paramref name="batches"/> batches of 10 records with timestamps <paramref name="timestampMs"/>.</summary>
    public void Append(string topic, int batches, long timestampMs, int valueSize = 200)
    {
        var replica = Partition(topic).Replica;
        for (int i = 0; i < batches; i++)
        {
            var result = replica.Append(TestBatches.Build(count: 10, baseTimestamp: timestampMs, valueSize: valueSize));
            Assert.Equal(ErrorCode.None, result.Error);
        }
    }

    public void Dispose()
    {
        Partitions.Dispose();
        Node.Dispose();
        Logs.Dispose();
        try { _dir.Delete(recursive: true); }
        catch (IOException) { }
    }
}

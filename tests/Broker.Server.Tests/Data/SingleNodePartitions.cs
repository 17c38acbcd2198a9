using Broker.Config;
using Broker.Metadata.Image;
using Broker.Server.Partitions;
using Broker.Storage;
using Xunit;

namespace Broker.Server.Tests.Data;

/// <summary>
/// A PartitionManager over real logs in a temporary directory, configured from a real server.properties (combined
/// single node plus <c>extraProperties</c>), with a metadata image the test edits: create single-partition topics,
/// change their configs, look up the replica. For tests of the broker's background work (cleaner, flusher).
/// </summary>
internal sealed class SingleNodePartitions : IDisposable
{
    public const int NodeId = 1;
    private readonly string _dir;
    private MetadataImage _image;

    public SingleNodePartitions(string name, ManualClock clock, string extraProperties = "")
    {
        _dir = Directory.CreateTempSubdirectory(name + "-").FullName;
        _image = MetadataImage.Empty(name, NodeId);
        string path = Path.Combine(_dir, "server.properties");
        File.WriteAllText(path, "process.roles=broker,controller\nnode.id=1\ncontroller.quorum.voters=1@127.0.0.1:19093\n" +
            "listeners=PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093\ncontroller.listener.names=CONTROLLER\n" +
            "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT\n" + extraProperties);
        Config = BrokerConfig.Load(path, Path.Combine(_dir, "data"), null).Config;
        Options = new TopicLogOptions(Config);
        Logs = new LogManager(Path.Combine(_dir, "data"), clock);
        Manager = new PartitionManager(Logs, NodeId, Options.For);
    }

    public BrokerConfig Config { get; }
    public TopicLogOptions Options { get; }
    public LogManager Logs { get; }
    public PartitionManager Manager { get; }

    public PartitionState Partition(string topic)
    {
        Assert.True(Manager.TryGetPartition(topic, 0, out var state));
        return state;
    }

    /// <summary>A topic with one partition led by this node, with <paramref name="configs"/> as topic configs.</summary>
    public PartitionState CreateTopic(string name, params (string Key, string Value)[] configs)
    {
        var builder = new MetadataImageBuilder(_image);
        var id = Guid.NewGuid();
        Assert.True(builder.AddTopic(name, id));
        var draft = builder.EditTopic(id)!;
        Assert.True(draft.SetPartition(new PartitionImage(0, NodeId, 0, 0, [NodeId], [NodeId])));
        foreach (var (k, v) in configs) draft.SetConfig(k, v);
        Publish(builder);
        return Partition(name);
    }

    public void SetConfig(string topic, string key, string value)
    {
        var builder = new MetadataImageBuilder(_image);
        builder.EditTopic(_image.GetTopic(topic)!.TopicId)!.SetConfig(key, value);
        Publish(builder);
    }

    private void Publish(MetadataImageBuilder builder)
    {
        builder.LastAppliedOffset = _image.LastAppliedOffset + 1;
        _image = builder.Build();
        Manager.ApplyImage(_image);
    }

    public void Dispose()
    {
        Manager.CloseReplicas();
        Manager.Dispose();
        Logs.Dispose();
        Directory.Delete(_dir, recursive: true);
    }
}

using Broker.Consensus;
using Broker.Core.Model;
using Broker.Metadata.Controller;
using Broker.Metadata.Image;
using Broker.Metadata.Records;

namespace Broker.Metadata.Tests;

public sealed class MetadataNodeTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "metadata-node-" + Guid.NewGuid().ToString("N"));
    private readonly InMemoryPartitionLog _storage = new();
    private static readonly BrokerEndpoint[] Endpoints = [new("PLAINTEXT", "localhost", 9092, 0)];

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    private MetadataNode NewNode(int nodeId = 1) =>
        new(new ControllerOptions { NodeId = nodeId }, _dir, new LocalReplicatedLog(_storage, 1), Endpoints, rack: "r1");

    [Fact]
    public async Task First_start_bootstraps_and_registers_the_local_broker()
    {
        using var node = NewNode();
        var images = new List<MetadataImage>();
        node.ImageChanged += images.Add;
        await node.StartAsync();

        var image = node.Current;
        Assert.Equal(MetaProperties.TryRead(_dir)!.ClusterId, image.ClusterId);
        Assert.Equal(1, image.ControllerId);
        Assert.Equal(19, image.GetFeatureLevel(MetadataConstants.MetadataVersionFeature));
        var broker = image.GetBroker(1)!;
        Assert.Equal(1, broker.BrokerEpoch);                // offset 0 = metadata.version, 1 = registration
        Assert.Equal(node.BrokerEpoch, broker.BrokerEpoch);
        Assert.Equal(node.IncarnationId, broker.IncarnationId);
        Assert.False(broker.Fenced);
        Assert.Equal("r1", broker.Rack);
        Assert.Equal(Endpoints, broker.Endpoints);
        Assert.NotEmpty(images);
        Assert.Same(image, images[^1]);
    }

    [Fact]
    public async Task Restart_keeps_identity_and_topics_and_re_registers()
    {
        string clusterId;
        long firstEpoch;
        Guid topicId;
        using (var node = NewNode())
        {
            await node.StartAsync();
            clusterId = node.ClusterId;
            firstEpoch = node.BrokerEpoch;
            var created = await node.Controller.CreateTopicsAsync([new NewTopicSpec("orders", 3)], false);
            topicId = created[0].TopicId;
        }

        using var restarted = NewNode();
        await restarted.StartAsync();
        Assert.Equal(clusterId, restarted.ClusterId);
        Assert.True(restarted.BrokerEpoch > firstEpoch);
        Assert.Equal(topicId, restarted.Current.GetTopic("orders")!.TopicId);
        Assert.Equal(3, restarted.Current.GetTopic("orders")!.PartitionCount);
        Assert.False(restarted.Current.GetBroker(1)!.Fenced);
        Assert.Single(restarted.Current.Features); // bootstrap not repeated
        Assert.Equal(ErrorCode.TopicAlreadyExists, (await restarted.Controller.CreateTopicsAsync([new NewTopicSpec("orders")], false))[0].Error);
    }

    [Fact]
    public async Task Node_id_mismatch_fails_start()
    {
        using (var node = NewNode(1)) await node.StartAsync();
        using var wrong = NewNode(2);
        await Assert.ThrowsAsync<InvalidDataException>(() => wrong.StartAsync());
    }

    [Fact]
    public void Members_need_start()
    {
        using var node = NewNode();
        Assert.Throws<InvalidOperationException>(() => node.Controller);
        Assert.Equal(-1, node.BrokerEpoch);
    }
}

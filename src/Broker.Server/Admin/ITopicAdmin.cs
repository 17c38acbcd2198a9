using System.Globalization;
using Broker.Core.Model;
using Broker.Metadata.Controller;
using Broker.Metadata.Image;

namespace Broker.Server.Admin;

/// <summary>
/// The topic and config administration the Kafka handlers need from the controller. Today it is answered by the local
/// <see cref="ClusterController"/> (<see cref="ControllerTopicAdmin"/>); a broker that is not the active
/// controller will later get an implementation that forwards to it. Results come back in request order, one per
/// input entry.
/// </summary>
public interface ITopicAdmin
{
    Task<IReadOnlyList<CreateTopicResult>> CreateTopicsAsync(
        IReadOnlyList<NewTopicSpec> topics, bool validateOnly, CancellationToken cancellationToken);

    Task<IReadOnlyList<DeleteTopicResult>> DeleteTopicsAsync(
        IReadOnlyList<TopicReference> topics, CancellationToken cancellationToken);

    Task<IReadOnlyList<CreatePartitionsResult>> CreatePartitionsAsync(
        IReadOnlyList<NewPartitionsSpec> specs, bool validateOnly, CancellationToken cancellationToken);

    /// <summary>
    /// Sets (value) and deletes (null) dynamic configs of topic and broker resources ("" = cluster default, "N" =
    /// broker N) through the active controller, which checks them and writes one metadata batch. Admins that cannot
    /// change configs answer every resource with INVALID_REQUEST (the default).
    /// </summary>
    Task<IReadOnlyList<AlterConfigsResult>> AlterConfigsAsync(
        IReadOnlyList<ConfigResourceChange> resources, bool validateOnly, CancellationToken cancellationToken)
    {
        var results = new AlterConfigsResult[resources.Count];
        for (int i = 0; i < results.Length; i++)
            results[i] = new AlterConfigsResult(resources[i].ResourceType, resources[i].ResourceName, ErrorCode.InvalidRequest,
                "Config changes are not supported by this node's admin.");
        return Task.FromResult<IReadOnlyList<AlterConfigsResult>>(results);
    }
}

/// <summary><see cref="ITopicAdmin"/> over the controller of this process.</summary>
public sealed class ControllerTopicAdmin : ITopicAdmin
{
    private readonly Func<ClusterController> _controller;

    public ControllerTopicAdmin(ClusterController controller)
    {
        ArgumentNullException.ThrowIfNull(controller);
        _controller = () => controller;
    }

    /// <summary>Resolves the controller per call (e.g. <c>() =&gt; metadataNode.Controller</c>, set once started).</summary>
    public ControllerTopicAdmin(Func<ClusterController> controller) => _controller = controller;

    /// <summary>Topics that leave num.partitions / default.replication.factor to the broker (-1) get the dynamic values
    /// set for the controller's node or the whole cluster, when there are any; else the controller's own settings.</summary>
    public Task<IReadOnlyList<CreateTopicResult>> CreateTopicsAsync(
        IReadOnlyList<NewTopicSpec> topics, bool validateOnly, CancellationToken cancellationToken)
    {
        var controller = _controller();
        return controller.CreateTopicsAsync(WithDynamicDefaults(topics, controller), validateOnly, cancellationToken);
    }

    public Task<IReadOnlyList<AlterConfigsResult>> AlterConfigsAsync(
        IReadOnlyList<ConfigResourceChange> resources, bool validateOnly, CancellationToken cancellationToken) =>
        _controller().AlterConfigsAsync(resources, validateOnly, cancellationToken);

    private static IReadOnlyList<NewTopicSpec> WithDynamicDefaults(IReadOnlyList<NewTopicSpec> topics, ClusterController controller)
    {
        var image = controller.Image;
        string node = controller.Options.NodeId.ToString(CultureInfo.InvariantCulture);
        int partitions = DynamicInt(image, node, "num.partitions");
        int replicationFactor = DynamicInt(image, node, "default.replication.factor");
        if (partitions < 1 && replicationFactor < 1) return topics;
        var resolved = new NewTopicSpec[topics.Count];
        for (int i = 0; i < resolved.Length; i++)
        {
            var t = topics[i];
            resolved[i] = t.ManualAssignment is not null ? t : t with
            {
                NumPartitions = t.NumPartitions == -1 && partitions >= 1 ? partitions : t.NumPartitions,
                ReplicationFactor = t.ReplicationFactor == -1 && replicationFactor is >= 1 and <= short.MaxValue
                    ? (short)replicationFactor : t.ReplicationFactor,
            };
        }
        return resolved;
    }

    /// <summary>A dynamic broker config of this node ("N") or the cluster (""), as a positive int; -1 when unset.</summary>
    private static int DynamicInt(MetadataImage image, string node, string key)
    {
        string? value = image.GetBrokerConfigs(node).TryGetValue(key, out var own) ? own
            : image.GetBrokerConfigs("").TryGetValue(key, out var cluster) ? cluster : null;
        return value is not null && int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) && n >= 1 ? n : -1;
    }

    public Task<IReadOnlyList<DeleteTopicResult>> DeleteTopicsAsync(
        IReadOnlyList<TopicReference> topics, CancellationToken cancellationToken) =>
        _controller().DeleteTopicsAsync(topics, cancellationToken);

    public Task<IReadOnlyList<CreatePartitionsResult>> CreatePartitionsAsync(
        IReadOnlyList<NewPartitionsSpec> specs, bool validateOnly, CancellationToken cancellationToken) =>
        _controller().CreatePartitionsAsync(specs, validateOnly, cancellationToken);
}

using Broker.Metadata.Controller;

namespace Broker.Server.Admin;

/// <summary>
/// The topic administration the Kafka handlers need from the controller. Today it is answered by the local
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

    public Task<IReadOnlyList<CreateTopicResult>> CreateTopicsAsync(
        IReadOnlyList<NewTopicSpec> topics, bool validateOnly, CancellationToken cancellationToken) =>
        _controller().CreateTopicsAsync(topics, validateOnly, cancellationToken);

    public Task<IReadOnlyList<DeleteTopicResult>> DeleteTopicsAsync(
        IReadOnlyList<TopicReference> topics, CancellationToken cancellationToken) =>
        _controller().DeleteTopicsAsync(topics, cancellationToken);

    public Task<IReadOnlyList<CreatePartitionsResult>> CreatePartitionsAsync(
        IReadOnlyList<NewPartitionsSpec> specs, bool validateOnly, CancellationToken cancellationToken) =>
        _controller().CreatePartitionsAsync(specs, validateOnly, cancellationToken);
}

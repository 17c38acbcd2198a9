using Broker.Core.Model;
using Broker.Metadata.Controller;
using Broker.Server.Handlers;
using Broker.Server.Pipeline;
using Broker.Server.Producers;

namespace Broker.Host;

// Idempotent producers: InitProducerId on the broker listener hands out ids from blocks that the active controller
// allocates (AllocateProducerIds on the controller listener, registered in .Controller, answered only once this
// node's controller is ready: ReadyProducerIdControllerAsync).
public sealed partial class BrokerNode
{
    /// <summary>Bound on a new controller's wait for its first entry of the term to commit.</summary>
    private static readonly TimeSpan ControllerReadyTimeout = TimeSpan.FromSeconds(5);

    private ProducerIdManager? _producerIds;

    private void RegisterProducerHandlers(HandlerTable table)
    {
        // Blocks always come over the controller listener, also when this node is the active controller (as the
        // broker lifecycle does): one path, and the controller side checks readiness once.
        var allocator = new ControllerProducerIdAllocator(ActiveControllerEndpoint);
        _producerIds = new ProducerIdManager(allocator, () => Config.NodeId, () => _lifecycle?.BrokerEpoch ?? -1,
            stopping: _stopping.Token);
        _stopping.Token.Register(allocator.Dispose);
        table.Register(new InitProducerIdHandler(_producerIds));
    }

    /// <summary>
    /// This node's controller when it is the active controller AND has committed everything before its term (a Raft
    /// leader's first entry of its term commits every earlier one); null otherwise. Until then the metadata image may
    /// lack the last ProducerIdsRecord of the previous controller, and its blocks would be handed out again.
    /// </summary>
    private async ValueTask<ClusterController?> ReadyProducerIdControllerAsync(CancellationToken cancellationToken)
    {
        var group = _metadataGroup;
        var metadata = _metadata;
        if (group is null || metadata is null || !group.IsLeader) return null;
        long term = group.Term;
        long lastOffset = group.Log.LogEndOffset - 1;
        if (lastOffset >= 0)
        {
            var committed = await group.WaitForCommitAsync(lastOffset, ControllerReadyTimeout, cancellationToken).ConfigureAwait(false);
            if (committed != ErrorCode.None) return null;
        }
        return group.IsLeader && group.Term == term ? metadata.Controller : null;
    }
}

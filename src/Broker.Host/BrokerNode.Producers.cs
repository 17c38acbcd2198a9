using Broker.Server.Handlers;
using Broker.Server.Pipeline;
using Broker.Server.Producers;

namespace Broker.Host;

// Idempotent producers: InitProducerId on the broker listener hands out ids from blocks that the active controller
// allocates (AllocateProducerIds on the controller listener, registered in .Controller).
public sealed partial class BrokerNode
{
    private void RegisterProducerHandlers(HandlerTable table)
    {
        // Blocks always come over the controller listener, also when this node is the active controller (as the
        // broker lifecycle does): one path. Both stop with the node (_stopping).
        var allocator = new ControllerProducerIdAllocator(ActiveControllerEndpoint);
        var producerIds = new ProducerIdManager(allocator, () => Config.NodeId, () => _lifecycle?.BrokerEpoch ?? -1,
            stopping: _stopping.Token);
        _stopping.Token.Register(allocator.Dispose);
        table.Register(new InitProducerIdHandler(producerIds));
    }
}

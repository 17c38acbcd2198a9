using Broker.Server.Pipeline;

namespace Broker.Host;

// Idempotent producers on a broker: InitProducerId, with producer ids allocated in blocks by the active controller.
public sealed partial class BrokerNode
{
    private void RegisterProducerHandlers(HandlerTable table)
    {
        _ = table;
    }
}

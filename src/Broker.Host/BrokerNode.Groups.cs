using Broker.Server.Admin;
using Broker.Server.Pipeline;

namespace Broker.Host;

// The group coordinator on a broker: __consumer_offsets, FindCoordinator and the group APIs.
public sealed partial class BrokerNode
{
    private void RegisterGroupHandlers(HandlerTable table, ITopicAdmin admin)
    {
        _ = table;
        _ = admin;
    }

    private void StartGroupCoordinator()
    {
    }

    private Task StopGroupCoordinatorAsync() => Task.CompletedTask;
}

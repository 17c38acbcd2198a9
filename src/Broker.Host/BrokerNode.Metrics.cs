namespace Broker.Host;

// Metrics: observable instruments over the node's state (partitions, groups, Raft, storage), exposed by the Admin API.
public sealed partial class BrokerNode
{
    /// <summary>Called once at the end of start-up.</summary>
    private void StartMetrics()
    {
    }
}

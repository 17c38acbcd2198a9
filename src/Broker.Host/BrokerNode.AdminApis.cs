using Broker.Server.Admin;
using Broker.Server.Pipeline;

namespace Broker.Host;

// The Kafka admin APIs: DescribeConfigs, AlterConfigs, IncrementalAlterConfigs (dynamic topic and broker configs),
// DeleteRecords, DescribeLogDirs, OffsetForLeaderEpoch, ElectLeaders.
public sealed partial class BrokerNode
{
    /// <summary>Cluster-wide dynamic configs (Admin API /v1/cluster_config); null until the node has started.</summary>
    internal IDynamicConfigAdmin? DynamicConfigAdmin { get; private set; }

    /// <summary>Registers the admin APIs on the broker listeners.</summary>
    private void RegisterAdminApiHandlers(HandlerTable table, ITopicAdmin admin)
    {
    }

    /// <summary>Registers what the controller listener must answer for admin requests forwarded by brokers.</summary>
    private void RegisterControllerAdminApiHandlers(HandlerTable table)
    {
    }
}

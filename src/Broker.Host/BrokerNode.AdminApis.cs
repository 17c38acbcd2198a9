using Broker.Config;
using Broker.Metadata.Controller;
using Broker.Server.Admin;
using Broker.Server.Configs;
using Broker.Server.Handlers;
using Broker.Server.Pipeline;

namespace Broker.Host;

// The Kafka admin APIs: DescribeConfigs, AlterConfigs, IncrementalAlterConfigs (dynamic topic and broker configs),
// DeleteRecords, DescribeLogDirs, OffsetForLeaderEpoch, ElectLeaders.
public sealed partial class BrokerNode
{
    private DynamicBrokerConfig? _dynamicConfig;

    /// <summary>Cluster-wide dynamic configs (Admin API /v1/cluster_config); null until the node has started.</summary>
    internal IDynamicConfigAdmin? DynamicConfigAdmin { get; private set; }

    /// <summary>This node's broker configuration under the dynamic configs of the metadata image.</summary>
    private DynamicBrokerConfig DynamicConfig => _dynamicConfig ??= new DynamicBrokerConfig(Config);

    /// <summary>
    /// Registers the admin APIs on the broker listeners, and makes the open partition logs follow dynamic broker
    /// configs: from now on every topic's options are resolved against them, and the current image is re-applied.
    /// </summary>
    private void RegisterAdminApiHandlers(HandlerTable table, ITopicAdmin admin)
    {
        var metadata = _metadata!;
        var partitions = _partitions!;
        var dynamic = DynamicConfig;
        var configs = new ConfigAlterService(admin, () => metadata.Current);
        table.Register(new DescribeConfigsHandler(() => metadata.Current, dynamic))
            .Register(new AlterConfigsHandler(configs))
            .Register(new IncrementalAlterConfigsHandler(configs, dynamic));
        DynamicConfigAdmin = new DynamicConfigAdmin(configs, dynamic);
        partitions.SetOptionResolvers(
            topic => dynamic.LogOptionsFor(partitions.Image, topic),
            topic => dynamic.SettingsFor(partitions.Image, topic));
        RegisterLogAdminHandlers(table);
    }

    /// <summary>Registers what the controller listener must answer for admin requests forwarded by brokers.</summary>
    private void RegisterControllerAdminApiHandlers(HandlerTable table)
    {
        var metadata = _metadata!;
        var dynamic = DynamicConfig;
        // The controller refuses read-only and unknown broker keys itself, with the same answers as the brokers.
        metadata.Controller.BrokerConfigPolicy = static changes =>
            DynamicBrokerConfigs.CheckAll(changes) is { } refusal ? new ConfigRefusal(refusal.Error, refusal.Message) : null;
        var local = new ControllerTopicAdmin(() => metadata.Controller);
        table.Register(new IncrementalAlterConfigsHandler(new ConfigAlterService(local, () => metadata.Current), dynamic));

        if (!Config.IsBroker)
        {
            // A controller-only node has no broker admin: the Admin API's cluster config goes through its own forwarder.
            var forwarding = new ForwardingTopicAdmin(local, () => _metadataGroup is { IsLeader: true }, ActiveControllerEndpoint);
            _stopping.Token.Register(forwarding.Dispose);
            DynamicConfigAdmin = new DynamicConfigAdmin(new ConfigAlterService(forwarding, () => metadata.Current), dynamic);
        }
    }
}

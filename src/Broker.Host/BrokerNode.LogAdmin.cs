using Broker.Server.Handlers;
using Broker.Server.LogAdmin;
using Broker.Server.Pipeline;

namespace Broker.Host;

// The log admin APIs on the broker listeners: DeleteRecords, DescribeLogDirs, OffsetForLeaderEpoch, ElectLeaders.
public sealed partial class BrokerNode
{
    private void RegisterLogAdminHandlers(HandlerTable table)
    {
        var partitions = _partitions!;
        // Other brokers are reached on their inter-broker listener, as Raft traffic to pure brokers is.
        var forwarder = new ElectLeadersForwarder(Config.InterBrokerListenerName ?? "PLAINTEXT");
        table.Register(new DeleteRecordsHandler(partitions, Config.LogCleanupPolicy))
            .Register(new OffsetForLeaderEpochHandler(partitions))
            .Register(new DescribeLogDirsHandler(partitions, [_logs!.LogDir, .. Config.LogDirs.Skip(1)]))
            .Register(new ElectLeadersHandler(new PreferredLeaderElector(partitions, forwarder)));
    }
}

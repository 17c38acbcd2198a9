using Broker.Consensus;
using Broker.Consensus.Raft;
using Broker.Server.Admin;
using Broker.Server.Handlers;
using Broker.Server.Partitions;
using Broker.Server.Pipeline;

namespace Broker.Host;

// Partition leadership reports to the controller, and forwarding of admin requests to it.
public sealed partial class BrokerNode
{
    private PartitionLeadershipReporter? _leadershipReporter;
    private ForwardingTopicAdmin? _forwardingAdmin;

    /// <summary>Admin requests (CreateTopics, auto-creation, ...) go to the local controller when it is active,
    /// else they are forwarded to the active controller's controller listener.</summary>
    private ITopicAdmin CreateTopicAdmin()
    {
        var metadata = _metadata!;
        var local = new ControllerTopicAdmin(() => metadata.Controller);
        _forwardingAdmin = new ForwardingTopicAdmin(local,
            () => Config.IsController && _metadataGroup is { IsLeader: true },
            ActiveControllerEndpoint);
        return _forwardingAdmin;
    }

    private void RegisterControllerExtras(HandlerTable table)
    {
        var metadata = _metadata!;
        table.RegisterInternal(new PartitionLeadershipHandler(() => metadata.Controller.IsActive ? metadata.Controller : null));
    }

    /// <summary>Leaders of local partition groups report leader, epoch and in-sync replicas to the controller.</summary>
    private void StartBrokerExtras()
    {
        var partitions = _partitions!;
        var lifecycle = _lifecycle!;
        _leadershipReporter = new PartitionLeadershipReporter(
            () => partitions.Partitions,
            InSyncReplicasOf,
            () => Config.NodeId,
            () => lifecycle.BrokerEpoch,
            ActiveControllerEndpoint);
        _leadershipReporter.Start();
    }

    private static IReadOnlyList<int> InSyncReplicasOf(IReplicatedLog replica) =>
        replica is RaftReplicatedLog raft ? raft.InSyncReplicas() : [];

    private async Task StopBrokerExtrasAsync()
    {
        if (_leadershipReporter is not null) await _leadershipReporter.DisposeAsync().ConfigureAwait(false);
        _forwardingAdmin?.Dispose();
    }
}

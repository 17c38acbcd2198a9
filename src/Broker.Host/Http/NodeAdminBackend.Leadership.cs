using Broker.Consensus.Raft;
using Broker.Http.Admin;
using Broker.Metadata.Image;

namespace Broker.Host.Http;

// POST /v1/partitions/{ns}/{topic}/{p}/transfer_leadership: a Raft leadership transfer when this node leads the
// partition (kafka/<topic>/<p>) or the metadata quorum (redpanda/controller/0); otherwise the leader is named, with
// the host its Admin API is assumed to listen on (the same port as ours; see docs/admin-api.md).
internal sealed partial class NodeAdminBackend
{
    public LeadershipTransfer TransferLeadership(string ns, string topic, int partition, int? target)
    {
        string name = $"{ns}/{topic}/{partition}";
        if (ns == AdminViews.RedpandaNamespace && topic == AdminViews.ControllerTopic && partition == 0)
            return TransferController(name, target);
        if (ns != AdminViews.KafkaNamespace)
            return new(TransferStatus.UnknownPartition, $"partition {name} not found");
        var image = _node.CurrentImage;
        var p = image?.GetPartition(topic, partition);
        if (image is null || p is null) return new(TransferStatus.UnknownPartition, $"partition {name} not found");
        if (target is int t && !Contains(p.Replicas, t))
            return new(TransferStatus.InvalidTarget, $"node {t} is not a replica of {name} (replicas [{string.Join(",", p.Replicas)}])");

        RaftReplicatedLog? group = null;
        if (_node.LocalPartitions is { } local && local.TryGetPartition(topic, partition, out var state))
            group = state.Replica as RaftReplicatedLog;
        if (group is { IsLeader: true }) return Transfer(group, name, target);

        int leader = group is { LeaderId: >= 0 } ? group.LeaderId : p.Leader;
        return Elsewhere(image, name, leader, target);
    }

    private LeadershipTransfer TransferController(string name, int? target)
    {
        var group = _node.MetadataGroup;
        if (group is null) return new(TransferStatus.Unavailable, "the metadata quorum is not open yet");
        if (target is int t && !_node.VoterIds.Contains(t))
            return new(TransferStatus.InvalidTarget, $"node {t} is not a voter of the metadata quorum (voters [{string.Join(",", _node.VoterIds)}])");
        if (group.IsLeader) return Transfer(group, name, target);
        return Elsewhere(_node.CurrentImage, name, group.LeaderId, target);
    }

    /// <summary>This node leads <paramref name="group"/>: hand over to the target (or any other in-sync replica).</summary>
    private LeadershipTransfer Transfer(RaftReplicatedLog group, string name, int? target)
    {
        if (target == NodeId) return new(TransferStatus.AlreadyLeader, $"node {NodeId} already leads {name}");
        var inSync = group.InSyncReplicas();
        int chosen = -1;
        foreach (int id in inSync)
        {
            if (id == NodeId) continue;
            if (target is null || id == target) { chosen = id; break; }
        }
        if (chosen < 0)
        {
            string why = target is int t ? $"node {t} is not an in-sync replica of {name}" : $"{name} has no other in-sync replica";
            return new(TransferStatus.InvalidTarget, $"{why} (in sync: [{string.Join(",", inSync)}])");
        }
        return group.TransferLeadership(chosen)
            ? new(TransferStatus.Started, $"leadership of {name} is moving from node {NodeId} to node {chosen}", chosen)
            : new(TransferStatus.Unavailable, $"node {NodeId} could not start moving leadership of {name} to node {chosen}; retry");
    }

    /// <summary>Another node leads (or nobody does): redirect, or say there is nobody to ask.</summary>
    private LeadershipTransfer Elsewhere(MetadataImage? image, string name, int leader, int? target)
    {
        if (leader < 0) return new(TransferStatus.Unavailable, $"{name} has no leader right now; retry");
        if (leader == NodeId)
            return new(TransferStatus.Unavailable, $"{name}: the metadata names node {NodeId} as leader but its replica here does not lead (an election is under way); retry");
        if (target == leader) return new(TransferStatus.AlreadyLeader, $"node {leader} already leads {name}", leader);
        string? host = LeaderHost(image, leader);
        return host is null
            ? new(TransferStatus.Unavailable, $"{name} is led by node {leader}, whose address is not known here", leader)
            : new(TransferStatus.NotLeader, $"{name} is led by node {leader}", leader, host);
    }

    /// <summary>The host of node <paramref name="nodeId"/>: its registered inter-broker address, else its quorum address.</summary>
    private string? LeaderHost(MetadataImage? image, int nodeId)
    {
        if (image?.GetBroker(nodeId) is { } broker)
        {
            var (host, _) = RpcAddress(broker);
            if (host.Length > 0) return host;
        }
        return _node.VoterAddress(nodeId)?.Host;
    }

    private static bool Contains(IReadOnlyList<int> ids, int id)
    {
        foreach (int x in ids)
            if (x == id) return true;
        return false;
    }
}

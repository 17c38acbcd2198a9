using Broker.Consensus.Raft;
using Broker.Metadata.Image;
using Broker.Server.Partitions;

namespace Broker.Host;

// Read-only accessors (and leadership hand-over) for the Admin API backend (Http/NodeAdminBackend): the metadata
// quorum's state as this node sees it, the metadata image and the local partition replicas. All in-memory.
public sealed partial class BrokerNode
{
    /// <summary>The metadata quorum's leader (the active controller) as this node knows it; -1 when none.</summary>
    internal int MetadataLeaderId => _metadataGroup?.LeaderId ?? -1;

    /// <summary>The metadata quorum's Raft group (null before start-up opened it).</summary>
    internal RaftReplicatedLog? MetadataGroup => _metadataGroup;

    /// <summary>Voter ids of the metadata quorum (controller.quorum.voters), in configuration order.</summary>
    internal IReadOnlyList<int> VoterIds => _voterIds;

    /// <summary>The latest metadata image; null before the metadata node started.</summary>
    internal MetadataImage? CurrentImage
    {
        get
        {
            try { return _metadata?.Current; }
            catch (InvalidOperationException) { return null; } // not started yet
        }
    }

    /// <summary>The local partition replicas (null on a controller-only node).</summary>
    internal PartitionManager? LocalPartitions => _partitions;

    /// <summary>A broker serves once unfenced; a controller-only node once the quorum has a leader.</summary>
    internal bool IsServing => Config.IsBroker ? _ready.Task.IsCompletedSuccessfully : MetadataLeaderId >= 0;

    /// <summary>The controller-quorum address of voter <paramref name="nodeId"/>, or null when it is not a voter.</summary>
    internal (string Host, int Port)? VoterAddress(int nodeId) => _peers?.VoterEndpoint(nodeId);

    /// <summary>
    /// Voters that the metadata quorum's leader, when that is this node, does not count as in sync (not heard from,
    /// or lagging, for about an election timeout): the quorum members this node knows to be unreachable. Empty when
    /// this node does not lead the quorum (a follower only hears from the leader, so it cannot tell).
    /// </summary>
    internal IReadOnlyList<int> UnreachableVoters()
    {
        var group = _metadataGroup;
        if (group is null || !group.IsLeader || _voterIds.Length < 2) return [];
        var inSync = group.InSyncReplicas();
        if (inSync.Count == 0) return []; // lost leadership meanwhile
        var result = new List<int>();
        foreach (int id in _voterIds)
            if (!inSync.Contains(id)) result.Add(id);
        result.Sort();
        return result;
    }
}

using Broker.Cluster.Transport;
using Broker.Consensus;
using Broker.Consensus.Raft;
using Broker.Host.Cluster;
using Broker.Metadata.Image;
using Broker.Server.Partitions;
using Broker.Storage;

namespace Broker.Host;

// The Raft side of a node: one transport and one ticker for every group, the metadata group and the factory of
// partition groups.
public sealed partial class BrokerNode
{
    /// <summary>Raft logical clock: election timeout = ElectionTicks × this (1-2 s), heartbeats every tick.</summary>
    private static readonly TimeSpan RaftTickInterval = TimeSpan.FromMilliseconds(100);
    private const int RaftElectionTicks = 10;

    private ClusterPeerDirectory? _peers;
    private RaftPeerTransport? _transport;
    private RaftTicker? _ticker;
    private RaftReplicatedLog? _metadataGroup;
    private int[] _voterIds = [];

    private void StartRaft()
    {
        _voterIds = new int[Config.QuorumVoters.Count];
        for (int i = 0; i < _voterIds.Length; i++) _voterIds[i] = Config.QuorumVoters[i].Id;
        _peers = new ClusterPeerDirectory(Config.QuorumVoters, Config.InterBrokerListenerName, () => _metadata?.Current);
        _transport = new RaftPeerTransport(Config.NodeId, _peers, new RaftTransportOptions
        {
            // Envelopes must fit the peer's request limit with room for the envelope's own framing.
            MaxEnvelopeBytes = Math.Max(64 * 1024, Math.Min(4 * 1024 * 1024, Config.SocketRequestMaxBytes - 64 * 1024)),
        });
        _ticker = new RaftTicker(RaftTickInterval);
    }

    /// <summary>
    /// The metadata log as a Raft group: voters are controller.quorum.voters; a node that is not a voter (a pure
    /// broker) is a learner. Every metadata write is fsynced before it is acknowledged or voted on.
    /// </summary>
    private RaftReplicatedLog OpenMetadataGroup()
    {
        var log = _metadataLogs!.GetOrCreate(MetadataPartition, TopicLogOptions.MetadataLog);
        bool isVoter = Array.IndexOf(_voterIds, Config.NodeId) >= 0;
        _metadataGroup = new RaftReplicatedLog(log, _transport!, new RaftGroupOptions
        {
            NodeId = Config.NodeId,
            Voters = _voterIds,
            Learners = isVoter ? null : [Config.NodeId],
            StateDirectory = DirectoryOf(log, _metadataLogs),
            ElectionTicks = RaftElectionTicks,
            FlushOnWrite = true,
        }, _ticker);
        Logger.Info($"metadata quorum: voters [{string.Join(",", _voterIds)}], this node is a {(isVoter ? "voter" : "learner")}");
        return _metadataGroup;
    }

    /// <summary>
    /// A partition replica: a Raft group over the partition log whose voters are the partition's replicas. The
    /// replica the controller placed as leader of a brand-new partition campaigns at once, so leadership starts
    /// where placement balanced it instead of wherever an election timeout fires first.
    /// Data partitions do not fsync per write (like Kafka's default flush policy): a majority holds each committed
    /// batch in the page cache of separate machines.
    /// </summary>
    private IReplicatedLog CreatePartitionReplica(IPartitionLog log, PartitionImage partition)
    {
        var voters = partition.Replicas.ToArray();
        var group = new RaftReplicatedLog(log, _transport!, new RaftGroupOptions
        {
            NodeId = Config.NodeId,
            Voters = voters,
            StateDirectory = DirectoryOf(log, _logs!),
            ElectionTicks = RaftElectionTicks,
            FlushOnWrite = false,
        }, _ticker);
        if (voters.Length > 1 && partition.Leader == Config.NodeId && group.Term == 0 && log.LogEndOffset == 0)
            group.Campaign();
        return group;
    }

    /// <summary>Pure brokers registered in the metadata follow the metadata group as learners (voters only).</summary>
    private void UpdateMetadataLearners(MetadataImage image)
    {
        var group = _metadataGroup;
        if (group is null) return;
        var learners = new List<int>();
        foreach (var id in image.Brokers.Keys)
            if (Array.IndexOf(_voterIds, id) < 0) learners.Add(id);
        learners.Sort();
        group.SetLearners(learners);
    }

    private static string DirectoryOf(IPartitionLog log, LogManager logs) =>
        log is PartitionLog p ? p.Directory : Path.Combine(logs.LogDir, $"{log.Partition.Topic}-{log.Partition.Partition}");
}

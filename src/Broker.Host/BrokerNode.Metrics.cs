using System.Diagnostics.Metrics;
using Broker.Core.Metrics;
using Broker.Core.Model;
using Broker.Metadata;
using Broker.Metadata.Image;
using Broker.Server.Partitions;
using Broker.Storage;

namespace Broker.Host;

// Metrics: observable instruments over the node's state (partitions, groups, Raft, storage), exposed by the Admin API
// (PrometheusExposition). They live on a meter of their own ("Broker.Node"), disposed when the node stops, and read
// the state only when scraped. Hot-path counters (requests, topic traffic, connections) are in Broker.Core's
// BrokerMeters. Names, types and labels: docs/metrics.md.
public sealed partial class BrokerNode
{
    private const string NodeMeterName = BrokerMeters.MeterName + ".Node";

    /// <summary>Called once at the end of start-up.</summary>
    private void StartMetrics()
    {
        BrokerMeters.EnsureInitialized();
        var meter = new Meter(NodeMeterName);
        _stopping.Token.Register(meter.Dispose);
        var pub = BrokerMeters.PublicTags;

        // Controller and cluster (public).
        meter.CreateObservableGauge("broker_controller_active", () => IsActiveController ? 1 : 0, null,
            "1 when this node is the active controller (leader of the metadata quorum), else 0.", pub);
        meter.CreateObservableGauge("broker_cluster_brokers", () => Image?.Brokers.Count ?? 0, null,
            "Brokers registered in the cluster metadata.", pub);
        meter.CreateObservableGauge("broker_cluster_unfenced_brokers", () => Image?.UnfencedBrokerIds.Length ?? 0, null,
            "Registered brokers that are not fenced.", pub);
        meter.CreateObservableGauge("broker_cluster_topics", () => Image?.TopicsByName.Count ?? 0, null,
            "Topics in the cluster metadata (internal topics included).", pub);
        meter.CreateObservableGauge("broker_cluster_partitions", () => ClusterPartitionCount(), null,
            "Partitions of all topics in the cluster metadata.", pub);

        // Metadata quorum (Raft) as this node sees it.
        meter.CreateObservableGauge("broker_metadata_raft_term", () => _metadataGroup?.Term ?? 0, null,
            "Current Raft term of the metadata quorum.");
        meter.CreateObservableGauge("broker_metadata_raft_leader_id", () => _metadataGroup?.LeaderId ?? -1, null,
            "Node id of the metadata quorum leader (the active controller) as known here; -1 when unknown.");
        meter.CreateObservableGauge("broker_metadata_raft_commit_offset", () => _metadataGroup?.HighWatermark ?? 0, null,
            "Commit index of the metadata log (its high watermark) as known here.");
        meter.CreateObservableGauge("broker_metadata_raft_log_end_offset", () => SafeLogEnd(_metadataGroup?.Log), null,
            "End offset of the local metadata log.");
        meter.CreateObservableGauge("broker_metadata_raft_voter", () => Array.IndexOf(_voterIds, Config.NodeId) >= 0 ? 1 : 0, null,
            "1 when this node is a voter of the metadata quorum, 0 for a learner.");
        meter.CreateObservableGauge("broker_metadata_applied_offset", () => Image?.LastAppliedOffset ?? -1, null,
            "Offset of the last metadata record applied to this node's metadata image.");

        // Storage (public).
        meter.CreateObservableGauge("broker_storage_bytes", StorageBytes, "By",
            "Bytes of the partition logs (metadata log included) in each log directory.", pub);
        meter.CreateObservableGauge("broker_storage_free_bytes", () => DiskSpace(free: true), "By",
            "Free bytes (available to the broker) on the file system of each log directory.", pub);
        meter.CreateObservableGauge("broker_storage_capacity_bytes", () => DiskSpace(free: false), "By",
            "Size in bytes of the file system of each log directory.", pub);

        if (Config.IsBroker) CreatePartitionInstruments(meter, pub);
    }

    private void CreatePartitionInstruments(Meter meter, KeyValuePair<string, object?>[] pub)
    {
        meter.CreateObservableGauge("broker_partitions", PartitionRoles, null,
            "Local partition replicas (metadata log excluded), by role: leader or follower.", pub);
        meter.CreateObservableGauge("broker_partition_high_watermark", () => PerPartition(static s => s.Replica.HighWatermark), null,
            "High watermark (committed end) of each local partition replica.");
        meter.CreateObservableGauge("broker_partition_log_start_offset", () => PerPartition(static s => s.Log.LogStartOffset), null,
            "First offset of each local partition replica's log.");
        meter.CreateObservableGauge("broker_partition_log_end_offset", () => PerPartition(static s => s.Log.LogEndOffset), null,
            "End offset (next offset to append) of each local partition replica's log.");
        meter.CreateObservableGauge("broker_partition_log_size_bytes", () => PerPartition(static s => s.Log.SizeInBytes), "By",
            "Bytes on disk of each local partition replica's log segments.");
        meter.CreateObservableGauge("broker_partition_leader", () => PerPartition(static s => s.IsLeader ? 1 : 0), null,
            "1 when the local replica leads the partition, else 0.");
        meter.CreateObservableGauge("broker_partition_leader_epoch", () => PerPartition(static s => s.LeaderEpoch), null,
            "Leader epoch (Raft term) of each local partition replica.");
        meter.CreateObservableGauge("broker_partition_in_sync_replicas", () => PerPartition(static s => s.InSyncReplicaCount, leadersOnly: true), null,
            "Replicas in sync as the leader sees them (leaders only).");

        meter.CreateObservableGauge("broker_groups", GroupStates, null,
            "Consumer groups coordinated by this node, by state.", pub);
        meter.CreateObservableGauge("broker_group_members", GroupMembers, null,
            "Members of each consumer group coordinated by this node.");
        meter.CreateObservableGauge("broker_group_committed_offset", () => GroupOffsets(lag: false), null,
            "Committed offset of each group, topic and partition (groups coordinated by this node).");
        meter.CreateObservableGauge("broker_group_lag", () => GroupOffsets(lag: true), null,
            "High watermark minus committed offset (at least 0), for partitions with a local replica.");
        meter.CreateObservableGauge("broker_group_lag_sum", GroupLagSums, null,
            "Sum of broker_group_lag over a group's partitions.", pub);
    }

    private MetadataImage? Image => _metadata is { } m ? SafeImage(m) : null;

    private static MetadataImage? SafeImage(MetadataNode node)
    {
        try { return node.Current; }
        catch (InvalidOperationException) { return null; } // not started yet
    }

    private bool IsActiveController => Config.IsController && _metadataGroup is { IsLeader: true };

    private int ClusterPartitionCount()
    {
        var image = Image;
        if (image is null) return 0;
        int count = 0;
        foreach (var topic in image.TopicsByName.Values) count += topic.PartitionCount;
        return count;
    }

    private static long SafeLogEnd(IPartitionLog? log)
    {
        if (log is null) return 0;
        try { return log.LogEndOffset; }
        catch (ObjectDisposedException) { return 0; }
    }

    private List<PartitionState> MetricPartitions()
    {
        var partitions = _partitions;
        return partitions is null ? [] : [.. partitions.Partitions];
    }

    private static KeyValuePair<string, object?> TopicTag(string topic) => new("topic", topic);
    private static KeyValuePair<string, object?> PartitionTag(int partition) => new("partition", partition);

    private List<Measurement<long>> PerPartition(Func<PartitionState, long> read, bool leadersOnly = false)
    {
        var result = new List<Measurement<long>>();
        foreach (var state in MetricPartitions())
        {
            try
            {
                if (leadersOnly && !state.IsLeader) continue;
                result.Add(new Measurement<long>(read(state), TopicTag(state.Id.Topic), PartitionTag(state.Id.Partition)));
            }
            catch (ObjectDisposedException)
            {
                // removed while scraping
            }
        }
        return result;
    }

    private Measurement<int>[] PartitionRoles()
    {
        int leaders = 0, followers = 0;
        foreach (var state in MetricPartitions())
        {
            if (state.IsLeader) leaders++;
            else followers++;
        }
        return [new(leaders, new KeyValuePair<string, object?>("role", "leader")), new(followers, new KeyValuePair<string, object?>("role", "follower"))];
    }

    private List<Measurement<long>> StorageBytes()
    {
        var result = new List<Measurement<long>>();
        foreach (var logs in StorageManagers())
        {
            long bytes = 0;
            foreach (var id in logs.Partitions)
            {
                try { bytes += logs.Get(id)?.SizeInBytes ?? 0; }
                catch (ObjectDisposedException) { }
            }
            result.Add(new Measurement<long>(bytes, new KeyValuePair<string, object?>("dir", logs.LogDir)));
        }
        return result;
    }

    private List<Measurement<long>> DiskSpace(bool free)
    {
        var result = new List<Measurement<long>>();
        foreach (var logs in StorageManagers())
        {
            try
            {
                var drive = new DriveInfo(Path.GetFullPath(logs.LogDir));
                result.Add(new Measurement<long>(free ? drive.AvailableFreeSpace : drive.TotalSize, new KeyValuePair<string, object?>("dir", logs.LogDir)));
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
            {
                // no such file system information here
            }
        }
        return result;
    }

    private List<LogManager> StorageManagers()
    {
        var managers = new List<LogManager>(2);
        if (_logs is { } logs) managers.Add(logs);
        if (_metadataLogs is { } metadataLogs && !ReferenceEquals(metadataLogs, _logs)) managers.Add(metadataLogs);
        return managers;
    }

    private List<Measurement<int>> GroupStates()
    {
        var byState = new SortedDictionary<string, int>(StringComparer.Ordinal);
        foreach (var group in _groupCoordinator?.SnapshotGroups() ?? [])
            byState[group.State] = byState.GetValueOrDefault(group.State) + 1;
        var result = new List<Measurement<int>>(byState.Count);
        foreach (var (state, count) in byState) result.Add(new Measurement<int>(count, new KeyValuePair<string, object?>("state", state)));
        return result;
    }

    private List<Measurement<int>> GroupMembers()
    {
        var result = new List<Measurement<int>>();
        foreach (var group in _groupCoordinator?.SnapshotGroups() ?? [])
            result.Add(new Measurement<int>(group.Members, new KeyValuePair<string, object?>("group", group.GroupId)));
        return result;
    }

    /// <summary>Committed offsets, or lags (high watermark − committed, at least 0) where a local replica gives the mark.</summary>
    private List<Measurement<long>> GroupOffsets(bool lag)
    {
        var result = new List<Measurement<long>>();
        var coordinator = _groupCoordinator;
        if (coordinator is null) return result;
        var marks = lag ? HighWatermarks() : null;
        foreach (var c in coordinator.SnapshotCommittedOffsets())
        {
            long value = c.Offset;
            if (marks is not null)
            {
                if (!marks.TryGetValue(new TopicPartition(c.Topic, c.Partition), out long mark) || c.Offset < 0) continue;
                value = Math.Max(0, mark - c.Offset);
            }
            result.Add(new Measurement<long>(value, new KeyValuePair<string, object?>("group", c.GroupId), TopicTag(c.Topic), PartitionTag(c.Partition)));
        }
        return result;
    }

    private List<Measurement<long>> GroupLagSums()
    {
        var sums = new SortedDictionary<string, long>(StringComparer.Ordinal);
        foreach (var m in GroupOffsets(lag: true))
        {
            string group = (string)m.Tags[0].Value!;
            sums[group] = sums.GetValueOrDefault(group) + m.Value;
        }
        var result = new List<Measurement<long>>(sums.Count);
        foreach (var (group, sum) in sums) result.Add(new Measurement<long>(sum, new KeyValuePair<string, object?>("group", group)));
        return result;
    }

    private Dictionary<TopicPartition, long> HighWatermarks()
    {
        var marks = new Dictionary<TopicPartition, long>();
        foreach (var state in MetricPartitions())
        {
            try { marks[state.Id] = state.Replica.HighWatermark; }
            catch (ObjectDisposedException) { }
        }
        return marks;
    }
}

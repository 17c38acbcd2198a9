using Broker.Core.Model;
using Broker.Metadata.Image;
using Broker.Metadata.Records;

namespace Broker.Metadata.Controller;

/// <summary>
/// What the Raft leader of one partition reports: itself as <see cref="Leader"/>, its term as
/// <see cref="LeaderEpoch"/>, and the replicas it considers in sync (leader included).
/// </summary>
public sealed record PartitionLeadershipReport(Guid TopicId, int PartitionId, int Leader, int LeaderEpoch, IReadOnlyList<int> Isr);

/// <summary>The controller's answer to one <see cref="PartitionLeadershipReport"/>.</summary>
public readonly record struct PartitionLeadershipResult(Guid TopicId, int PartitionId, ErrorCode Error, string? Message);

/// <summary>
/// Partition leadership reported by the partitions' Raft groups: the controller does not elect leaders, it records
/// the elected ones (leader, epoch = term, ISR) in the metadata log so the image, and every Metadata response,
/// follows.
/// </summary>
public sealed partial class ClusterController
{
    /// <summary>
    /// Validates each report against the current image and writes the accepted changes as PartitionChangeRecords
    /// (exact leader epoch) in one batch. Per report, in order:
    /// BROKER_ID_NOT_REGISTERED / STALE_BROKER_EPOCH when the broker's registration does not match;
    /// UNKNOWN_TOPIC_ID / UNKNOWN_TOPIC_OR_PARTITION; INVALID_REQUEST when the leader is not the reporting broker or
    /// not a replica, the ISR names a non-replica, repeats one or misses the leader, or the partition is reported
    /// twice; FENCED_LEADER_EPOCH when the epoch is below the image's; INVALID_REQUEST for the image's epoch with a
    /// different leader (Raft has one leader per term). A report equal to the image is accepted without a write.
    /// A failed commit gives every changed partition the commit's error (NOT_CONTROLLER after losing leadership).
    /// </summary>
    public async Task<IReadOnlyList<PartitionLeadershipResult>> ApplyPartitionLeadershipAsync(
        int brokerId, long brokerEpoch, IReadOnlyList<PartitionLeadershipReport> reports, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(reports);
        var results = new PartitionLeadershipResult[reports.Count];
        if (reports.Count == 0) return results;
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var ready = await CatchUpAsync(cancellationToken).ConfigureAwait(false);
            if (!ready.IsSuccess) return FailAll(reports, ready);
            if (!_log.IsLeader) return FailAll(reports, new(ErrorCode.NotController, "this node is not the active controller"));
            var image = _applier.Current;
            var brokerCheck = CheckEpoch(image, brokerId, brokerEpoch, out _);
            if (!brokerCheck.IsSuccess) return FailAll(reports, brokerCheck);

            var records = new List<MetadataRecord>();
            var written = new List<int>();
            var seen = new HashSet<(Guid, int)>();
            for (int i = 0; i < reports.Count; i++)
            {
                var report = reports[i];
                PartitionChangeRecord? change = null;
                var outcome = !seen.Add((report.TopicId, report.PartitionId))
                    ? new ControllerResult(ErrorCode.InvalidRequest, $"Partition {report.TopicId}/{report.PartitionId} is reported more than once.")
                    : PlanLeadership(brokerId, report, image, out change);
                results[i] = new PartitionLeadershipResult(report.TopicId, report.PartitionId, outcome.Error, outcome.Message);
                if (outcome.IsSuccess && change is not null)
                {
                    records.Add(change);
                    written.Add(i);
                }
            }
            if (records.Count == 0) return results;

            var commit = await CommitAsync(records, cancellationToken).ConfigureAwait(false);
            foreach (int i in written)
            {
                var r = reports[i];
                if (!commit.IsSuccess) results[i] = results[i] with { Error = commit.Error, Message = commit.Message };
                else _logger.Info($"partition {r.TopicId}/{r.PartitionId}: leader {r.Leader}, epoch {r.LeaderEpoch}, isr [{string.Join(",", r.Isr)}] (reported by broker {brokerId})");
            }
            return results;
        }
        finally { _writeLock.Release(); }
    }

    /// <summary>Validates one report; on success <paramref name="change"/> is the record to write, or null when unchanged.</summary>
    private static ControllerResult PlanLeadership(int brokerId, PartitionLeadershipReport report, MetadataImage image, out PartitionChangeRecord? change)
    {
        change = null;
        var topic = image.GetTopic(report.TopicId);
        if (topic is null) return new(ErrorCode.UnknownTopicId, $"Topic id {report.TopicId} does not exist.");
        var partition = topic.GetPartition(report.PartitionId);
        if (partition is null) return new(ErrorCode.UnknownTopicOrPartition, $"Partition {topic.Name}-{report.PartitionId} does not exist.");
        string name = $"{topic.Name}-{report.PartitionId}";

        if (report.Leader != brokerId)
            return new(ErrorCode.InvalidRequest, $"Broker {brokerId} reported broker {report.Leader} as leader of {name}; only the leader reports.");
        if (!partition.Replicas.Contains(report.Leader))
            return new(ErrorCode.InvalidRequest, $"Broker {report.Leader} is not a replica of {name}.");
        var isrError = ValidateIsr(report, partition, name);
        if (isrError is not null) return new(ErrorCode.InvalidRequest, isrError);
        if (report.LeaderEpoch < partition.LeaderEpoch)
            return new(ErrorCode.FencedLeaderEpoch, $"Leader epoch {report.LeaderEpoch} of {name} is older than the recorded {partition.LeaderEpoch}.");
        if (report.LeaderEpoch == partition.LeaderEpoch && report.Leader != partition.Leader)
            return new(ErrorCode.InvalidRequest,
                $"Broker {report.Leader} claims epoch {report.LeaderEpoch} of {name}, which broker {partition.Leader} already leads.");

        bool sameIsr = SameMembers(report.Isr, partition.Isr);
        if (report.Leader == partition.Leader && report.LeaderEpoch == partition.LeaderEpoch && sameIsr) return ControllerResult.Ok;
        var isr = new int[report.Isr.Count];
        for (int i = 0; i < isr.Length; i++) isr[i] = report.Isr[i];
        change = new PartitionChangeRecord(report.PartitionId, report.TopicId, report.Leader, sameIsr ? null : isr, Replicas: null,
            LeaderEpoch: report.LeaderEpoch);
        return ControllerResult.Ok;
    }

    private static string? ValidateIsr(PartitionLeadershipReport report, PartitionImage partition, string name)
    {
        if (report.Isr is null || report.Isr.Count == 0) return $"The ISR reported for {name} is empty.";
        if (report.LeaderEpoch < 0) return $"Leader epoch {report.LeaderEpoch} of {name} is invalid.";
        bool hasLeader = false;
        for (int i = 0; i < report.Isr.Count; i++)
        {
            int id = report.Isr[i];
            if (!partition.Replicas.Contains(id)) return $"The ISR reported for {name} contains broker {id}, which is not a replica.";
            for (int j = 0; j < i; j++)
                if (report.Isr[j] == id) return $"The ISR reported for {name} contains broker {id} twice.";
            hasLeader |= id == report.Leader;
        }
        return hasLeader ? null : $"The ISR reported for {name} does not contain its leader {report.Leader}.";
    }

    /// <summary>Same set of broker ids (both lists are duplicate-free).</summary>
    private static bool SameMembers(IReadOnlyList<int> reported, System.Collections.Immutable.ImmutableArray<int> current)
    {
        if (reported.Count != current.Length) return false;
        foreach (int id in reported)
            if (!current.Contains(id)) return false;
        return true;
    }

    private static PartitionLeadershipResult[] FailAll(IReadOnlyList<PartitionLeadershipReport> reports, ControllerResult error)
    {
        var results = new PartitionLeadershipResult[reports.Count];
        for (int i = 0; i < reports.Count; i++)
            results[i] = new PartitionLeadershipResult(reports[i].TopicId, reports[i].PartitionId, error.Error, error.Message);
        return results;
    }
}

using System.Text;
using Broker.Core.Model;
using Broker.Groups.Internal;

namespace Broker.Groups;

// OffsetCommit and OffsetFetch (Kafka's handleCommitOffsets / storeOffsets / getOffsets). A commit is appended under
// the group's lock, marked pending, and cached only once the offsets partition committed it.
public sealed partial class GroupCoordinator
{
    public async Task<OffsetCommitOutcome> CommitOffsetsAsync(OffsetCommitArgs args, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(args);
        var offsets = args.Offsets ?? [];
        var results = new PartitionResult[offsets.Count];
        string memberId = args.MemberId ?? "";
        if (args.GroupId is null) return Fill(results, offsets, ErrorCode.InvalidGroupId);
        var error = Resolve(args.GroupId, out var partition);
        if (error != ErrorCode.None) return Fill(results, offsets, error);
        var group = partition.Find(args.GroupId);
        if (group is null)
        {
            // No group: fine for commits from outside group management (generation -1), which create it Empty.
            if (args.GenerationId >= 0) return Fill(results, offsets, ErrorCode.IllegalGeneration);
            group = partition.GetOrCreate(args.GroupId, WallNow);
            if (group is null) return Fill(results, offsets, ErrorCode.NotCoordinator);
        }

        var accepted = new List<int>(offsets.Count);
        var entries = new List<OffsetEntry>(offsets.Count);
        Task<ErrorCode> write;
        long firstOffset;
        lock (group.Gate)
        {
            error = ValidateOffsetCommitLocked(group, args.GenerationId, memberId, args.GroupInstanceId);
            if (error == ErrorCode.None && group.Is(GroupState.CompletingRebalance)) error = ErrorCode.RebalanceInProgress;
            if (error != ErrorCode.None) return Fill(results, offsets, error);
            if (group.Get(memberId) is { } member) member.SessionDeadline = MonotonicNow + member.SessionTimeoutMs;

            long now = WallNow;
            long expireTimestamp = args.RetentionTimeMs >= 0 ? now + args.RetentionTimeMs : -1;
            var builder = StartBatch(now);
            for (int i = 0; i < offsets.Count; i++)
            {
                var o = offsets[i];
                if (string.IsNullOrEmpty(o.Topic))
                {
                    results[i] = new PartitionResult(o.Topic ?? "", o.Partition, ErrorCode.InvalidTopicException);
                    continue;
                }
                string metadata = o.Metadata ?? "";
                if (metadata.Length > Options.OffsetMetadataMaxBytes || Encoding.UTF8.GetByteCount(metadata) > short.MaxValue)
                {
                    results[i] = new PartitionResult(o.Topic, o.Partition, ErrorCode.OffsetMetadataTooLarge);
                    continue;
                }
                var entry = new OffsetEntry(o.Offset, o.LeaderEpoch, metadata, now, expireTimestamp, -1);
                try
                {
                    OffsetsRecords.AddOffsetCommit(builder, now, group.GroupId, new TopicPartition(o.Topic, o.Partition), entry);
                }
                catch (ArgumentException)
                {
                    results[i] = new PartitionResult(o.Topic, o.Partition, ErrorCode.InvalidTopicException);
                    continue;
                }
                accepted.Add(i);
                entries.Add(entry);
            }
            if (accepted.Count == 0) return new OffsetCommitOutcome(results);
            error = AppendBatch(partition, builder, out firstOffset, out long lastOffset);
            if (error != ErrorCode.None) return FillAccepted(results, offsets, accepted, CommitError(error));
            foreach (int i in accepted) group.AddPendingCommit(new TopicPartition(offsets[i].Topic, offsets[i].Partition));
            write = WaitCommittedAsync(partition, lastOffset);
        }

        error = CommitError(await write.ConfigureAwait(false));
        lock (group.Gate)
        {
            for (int k = 0; k < accepted.Count; k++)
            {
                var tp = new TopicPartition(offsets[accepted[k]].Topic, offsets[accepted[k]].Partition);
                group.RemovePendingCommit(tp);
                if (error == ErrorCode.None && !group.Is(GroupState.Dead))
                    group.ApplyCommitted(tp, entries[k] with { RecordOffset = firstOffset + k });
            }
        }
        return FillAccepted(results, offsets, accepted, error);
    }

    /// <summary>Kafka's validateOffsetCommit: members must be current; generation -1 commits need an Empty group.</summary>
    private static ErrorCode ValidateOffsetCommitLocked(Group group, int generationId, string memberId, string? groupInstanceId)
    {
        if (group.Is(GroupState.Dead)) return DeadGroupError(group);
        if (generationId >= 0 || memberId.Length > 0 || groupInstanceId is not null)
        {
            if (groupInstanceId is not null)
            {
                string? current = group.StaticMemberId(groupInstanceId);
                if (current != memberId) return current is not null ? ErrorCode.FencedInstanceId : ErrorCode.UnknownMemberId;
            }
            else if (!group.Has(memberId))
            {
                return ErrorCode.UnknownMemberId;
            }
            return generationId != group.Generation ? ErrorCode.IllegalGeneration : ErrorCode.None;
        }
        return group.Is(GroupState.Empty) ? ErrorCode.None : ErrorCode.UnknownMemberId;
    }

    /// <summary><paramref name="topics"/> null means every committed offset of the group.</summary>
    public OffsetFetchOutcome FetchOffsets(string groupId, IReadOnlyList<TopicPartitionsQuery>? topics, bool requireStable)
    {
        if (groupId is null) return new OffsetFetchOutcome(ErrorCode.InvalidGroupId, []);
        var error = Resolve(groupId, out var partition);
        if (error != ErrorCode.None) return new OffsetFetchOutcome(error, []);
        var group = partition.Find(groupId);
        var result = new List<CommittedOffset>();
        if (group is null) return new OffsetFetchOutcome(ErrorCode.None, NothingCommitted(topics, result));
        lock (group.Gate)
        {
            if (group.Is(GroupState.Dead)) return new OffsetFetchOutcome(ErrorCode.None, NothingCommitted(topics, result));
            if (topics is null)
            {
                foreach (var (tp, entry) in group.Offsets)
                    result.Add(new CommittedOffset(tp.Topic, tp.Partition, entry.Offset, entry.LeaderEpoch, entry.Metadata, ErrorCode.None));
                return new OffsetFetchOutcome(ErrorCode.None, result);
            }
            foreach (var query in topics)
            {
                foreach (int p in query.Partitions ?? [])
                {
                    var tp = new TopicPartition(query.Topic, p);
                    if (requireStable && group.HasPendingCommit(tp))
                        result.Add(new CommittedOffset(query.Topic, p, -1, -1, "", ErrorCode.UnstableOffsetCommit));
                    else if (group.Offsets.TryGetValue(tp, out var entry))
                        result.Add(new CommittedOffset(query.Topic, p, entry.Offset, entry.LeaderEpoch, entry.Metadata, ErrorCode.None));
                    else
                        result.Add(new CommittedOffset(query.Topic, p, -1, -1, "", ErrorCode.None));
                }
            }
        }
        return new OffsetFetchOutcome(ErrorCode.None, result);
    }

    private static List<CommittedOffset> NothingCommitted(IReadOnlyList<TopicPartitionsQuery>? topics, List<CommittedOffset> result)
    {
        foreach (var query in topics ?? [])
        {
            foreach (int p in query.Partitions ?? []) result.Add(new CommittedOffset(query.Topic, p, -1, -1, "", ErrorCode.None));
        }
        return result;
    }

    private static OffsetCommitOutcome Fill(PartitionResult[] results, IReadOnlyList<OffsetCommitEntry> offsets, ErrorCode error)
    {
        for (int i = 0; i < results.Length; i++) results[i] = new PartitionResult(offsets[i].Topic, offsets[i].Partition, error);
        return new OffsetCommitOutcome(results);
    }

    private static OffsetCommitOutcome FillAccepted(PartitionResult[] results, IReadOnlyList<OffsetCommitEntry> offsets, List<int> accepted, ErrorCode error)
    {
        foreach (int i in accepted) results[i] = new PartitionResult(offsets[i].Topic, offsets[i].Partition, error);
        return new OffsetCommitOutcome(results);
    }
}

using Broker.Core.Model;

namespace Broker.Groups.Internal;

/// <summary>
/// What replaying an offsets partition has found so far: the latest group metadata and committed offsets per group
/// (a tombstone removes the entry). <see cref="BuildGroups"/> turns it into loaded groups: Stable when the metadata
/// has members, Empty otherwise, and Empty groups for offsets whose group has no metadata (commits only).
/// </summary>
internal sealed class LoadState
{
    private readonly Dictionary<string, GroupRecord> _groups = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Dictionary<TopicPartition, OffsetEntry>> _offsets = new(StringComparer.Ordinal);

    public int Malformed { get; set; }

    /// <summary>Applies one record; throws <see cref="FormatException"/> when it does not parse.</summary>
    public void Apply(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, bool tombstone, long recordOffset)
    {
        if (OffsetsRecords.ParseKey(key) is not { } k) return; // another record type: not ours
        if (k.Kind == RecordKind.GroupMetadata)
        {
            if (tombstone) _groups.Remove(k.GroupId);
            else _groups[k.GroupId] = OffsetsRecords.ParseGroupValue(value);
            return;
        }
        if (tombstone)
        {
            if (_offsets.TryGetValue(k.GroupId, out var existing)) existing.Remove(k.Partition);
            return;
        }
        var v = OffsetsRecords.ParseOffsetValue(value);
        if (!_offsets.TryGetValue(k.GroupId, out var offsets)) _offsets[k.GroupId] = offsets = [];
        offsets[k.Partition] = new OffsetEntry(v.Offset, v.LeaderEpoch, v.Metadata, v.CommitTimestamp, v.ExpireTimestamp, recordOffset);
    }

    public Dictionary<string, Group> BuildGroups(OffsetsPartition partition, long monotonicNow, out int offsetCount)
    {
        var result = new Dictionary<string, Group>(StringComparer.Ordinal);
        foreach (var (id, record) in _groups) result[id] = FromRecord(id, record, partition, monotonicNow);
        offsetCount = 0;
        foreach (var (id, offsets) in _offsets)
        {
            if (offsets.Count == 0) continue;
            if (!result.TryGetValue(id, out var group))
            {
                group = new Group(id, partition);
                group.TransitionTo(GroupState.Empty, -1);
                result[id] = group;
            }
            foreach (var (tp, entry) in offsets) group.Offsets[tp] = entry;
            offsetCount += offsets.Count;
        }
        return result;
    }

    private static Group FromRecord(string groupId, GroupRecord record, OffsetsPartition partition, long monotonicNow)
    {
        var group = new Group(groupId, partition)
        {
            Generation = record.Generation,
            ProtocolType = record.ProtocolType.Length == 0 ? null : record.ProtocolType,
            ProtocolName = record.Protocol,
            LeaderId = record.Leader,
        };
        foreach (var m in record.Members)
        {
            if (group.Has(m.MemberId)) continue;
            var member = new Member(m.MemberId, m.GroupInstanceId, m.ClientId, m.ClientHost, m.RebalanceTimeoutMs, m.SessionTimeoutMs,
                group.ProtocolType ?? "", [new GroupProtocol(record.Protocol ?? "", m.Subscription)])
            {
                Assignment = m.Assignment,
                // Loaded members must heartbeat within a session from now on.
                SessionDeadline = monotonicNow + m.SessionTimeoutMs,
            };
            group.Add(member);
        }
        if (group.LeaderId is not null && !group.Has(group.LeaderId))
            group.LeaderId = group.Members.Count > 0 ? group.Members[0].MemberId : null;
        group.TransitionTo(group.IsEmpty ? GroupState.Empty : GroupState.Stable, record.CurrentStateTimestamp);
        group.SubscribedTopics = group.ComputeSubscribedTopics();
        return group;
    }
}

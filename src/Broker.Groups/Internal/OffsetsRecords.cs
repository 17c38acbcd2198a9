using System.Buffers.Binary;
using Broker.Core.Model;
using Broker.Core.Records;

namespace Broker.Groups.Internal;

internal enum RecordKind { OffsetCommit, GroupMetadata }

/// <summary>A parsed __consumer_offsets key: an offset commit (group, partition) or a group's metadata (group).</summary>
internal readonly record struct OffsetsKey(RecordKind Kind, string GroupId, TopicPartition Partition);

/// <summary>An offset commit value (ExpireTimestamp -1 unless a v1 record carried one).</summary>
internal readonly record struct OffsetValue(long Offset, int LeaderEpoch, string Metadata, long CommitTimestamp, long ExpireTimestamp);

internal sealed record MemberRecord(string MemberId, string? GroupInstanceId, string ClientId, string ClientHost,
    int RebalanceTimeoutMs, int SessionTimeoutMs, byte[] Subscription, byte[] Assignment);

internal sealed record GroupRecord(string ProtocolType, int Generation, string? Protocol, string? Leader,
    long CurrentStateTimestamp, List<MemberRecord> Members);

/// <summary>
/// The records of __consumer_offsets in Kafka's own formats, so Kafka's tools can read our topic and we read theirs.
/// Keys start with an int16 version: 0/1 offset commit (group, topic, partition int32), 2 group metadata (group).
/// Offset commit values are written as v3 (offset, leaderEpoch, metadata, commitTimestamp) or v1 when the commit
/// carried an explicit expiry (offset, metadata, commitTimestamp, expireTimestamp); v0-v4 are read. Group metadata
/// values are written as v3 (protocolType, generation, protocol?, leader?, currentStateTimestamp, members with
/// memberId, groupInstanceId?, clientId, clientHost, rebalanceTimeout, sessionTimeout, subscription, assignment);
/// v0-v4 are read. A null value is a tombstone. Everything is built into a reusable <see cref="RecordBatchBuilder"/>.
/// </summary>
internal static class OffsetsRecords
{
    public const short OffsetKeyVersion = 1;
    public const short GroupKeyVersion = 2;
    public const short OffsetValueVersion = 3;
    public const short OffsetValueVersionWithExpiry = 1;
    public const short GroupValueVersion = 3;

    public static void AddOffsetCommit(RecordBatchBuilder builder, long timestamp, string groupId, TopicPartition tp, in OffsetEntry entry)
    {
        bool withExpiry = entry.ExpireTimestamp >= 0;
        int valueSize = withExpiry
            ? 2 + 8 + FieldWriter.StringSize(entry.Metadata) + 8 + 8
            : 2 + 8 + 4 + FieldWriter.StringSize(entry.Metadata) + 8;
        if (!builder.TryReserve(timestamp, OffsetKeySize(groupId, tp), valueSize, out var key, out var value))
            throw new InvalidOperationException("offset commit batch is full");
        WriteOffsetKey(key, groupId, tp);
        var w = new FieldWriter(value);
        if (withExpiry)
        {
            w.Int16(OffsetValueVersionWithExpiry);
            w.Int64(entry.Offset);
            w.String(entry.Metadata);
            w.Int64(entry.CommitTimestamp);
            w.Int64(entry.ExpireTimestamp);
        }
        else
        {
            w.Int16(OffsetValueVersion);
            w.Int64(entry.Offset);
            w.Int32(entry.LeaderEpoch);
            w.String(entry.Metadata);
            w.Int64(entry.CommitTimestamp);
        }
    }

    public static void AddOffsetTombstone(RecordBatchBuilder builder, long timestamp, string groupId, TopicPartition tp)
    {
        if (!builder.TryReserve(timestamp, OffsetKeySize(groupId, tp), -1, out var key, out _))
            throw new InvalidOperationException("tombstone batch is full");
        WriteOffsetKey(key, groupId, tp);
    }

    public static void AddGroupTombstone(RecordBatchBuilder builder, long timestamp, string groupId)
    {
        if (!builder.TryReserve(timestamp, 2 + FieldWriter.StringSize(groupId), -1, out var key, out _))
            throw new InvalidOperationException("tombstone batch is full");
        WriteGroupKey(key, groupId);
    }

    /// <summary>The group as it stands; <paramref name="assignments"/> (when given) replaces the members' assignments.</summary>
    public static void AddGroup(RecordBatchBuilder builder, long timestamp, Group group, Dictionary<string, byte[]>? assignments)
    {
        int size = 2 + FieldWriter.StringSize(group.ProtocolType ?? "") + 4 + FieldWriter.StringSize(group.ProtocolName)
            + FieldWriter.StringSize(group.LeaderId) + 8 + 4;
        foreach (var m in group.Members)
        {
            size += FieldWriter.StringSize(m.MemberId) + FieldWriter.StringSize(m.GroupInstanceId) + FieldWriter.StringSize(m.ClientId)
                + FieldWriter.StringSize(m.ClientHost) + 4 + 4 + 4 + m.MetadataFor(group.ProtocolName).Length
                + 4 + AssignmentOf(m, assignments).Length;
        }
        if (!builder.TryReserve(timestamp, 2 + FieldWriter.StringSize(group.GroupId), size, out var key, out var value))
            throw new InvalidOperationException("group metadata batch is full");
        WriteGroupKey(key, group.GroupId);
        var w = new FieldWriter(value);
        w.Int16(GroupValueVersion);
        w.String(group.ProtocolType ?? "");
        w.Int32(group.Generation);
        w.String(group.ProtocolName);
        w.String(group.LeaderId);
        w.Int64(group.CurrentStateTimestamp);
        w.Int32(group.Members.Count);
        foreach (var m in group.Members)
        {
            w.String(m.MemberId);
            w.String(m.GroupInstanceId);
            w.String(m.ClientId);
            w.String(m.ClientHost);
            w.Int32(m.RebalanceTimeoutMs);
            w.Int32(m.SessionTimeoutMs);
            w.Bytes(m.MetadataFor(group.ProtocolName));
            w.Bytes(AssignmentOf(m, assignments));
        }
    }

    private static byte[] AssignmentOf(Member m, Dictionary<string, byte[]>? assignments) =>
        assignments is null ? m.Assignment : assignments.GetValueOrDefault(m.MemberId) ?? [];

    private static int OffsetKeySize(string groupId, TopicPartition tp) =>
        2 + FieldWriter.StringSize(groupId) + FieldWriter.StringSize(tp.Topic) + 4;

    private static void WriteOffsetKey(Span<byte> key, string groupId, TopicPartition tp)
    {
        var w = new FieldWriter(key);
        w.Int16(OffsetKeyVersion);
        w.String(groupId);
        w.String(tp.Topic);
        w.Int32(tp.Partition);
    }

    private static void WriteGroupKey(Span<byte> key, string groupId)
    {
        var w = new FieldWriter(key);
        w.Int16(GroupKeyVersion);
        w.String(groupId);
    }

    /// <summary>Parses a key; null for a key version this coordinator does not own (other record types).</summary>
    public static OffsetsKey? ParseKey(ReadOnlySpan<byte> key)
    {
        if (key.Length < 2) throw new FormatException("key shorter than its version");
        short version = BinaryPrimitives.ReadInt16BigEndian(key);
        var r = new FieldReader(key[2..], flexible: false);
        switch (version)
        {
            case 0 or 1:
                string group = r.String();
                string topic = r.String();
                return new OffsetsKey(RecordKind.OffsetCommit, group, new TopicPartition(topic, r.Int32()));
            case 2:
                return new OffsetsKey(RecordKind.GroupMetadata, r.String(), default);
            default:
                return null;
        }
    }

    public static OffsetValue ParseOffsetValue(ReadOnlySpan<byte> value)
    {
        if (value.Length < 2) throw new FormatException("value shorter than its version");
        short version = BinaryPrimitives.ReadInt16BigEndian(value);
        if (version is < 0 or > 4) throw new FormatException($"unknown offset commit value version {version}");
        var r = new FieldReader(value[2..], flexible: version >= 4);
        long offset = r.Int64();
        int leaderEpoch = version >= 3 ? r.Int32() : -1;
        string metadata = r.String();
        long commitTimestamp = r.Int64();
        long expireTimestamp = version == 1 ? r.Int64() : -1;
        r.TaggedFields();
        return new OffsetValue(offset, leaderEpoch, metadata, commitTimestamp, expireTimestamp);
    }

    public static GroupRecord ParseGroupValue(ReadOnlySpan<byte> value)
    {
        if (value.Length < 2) throw new FormatException("value shorter than its version");
        short version = BinaryPrimitives.ReadInt16BigEndian(value);
        if (version is < 0 or > 4) throw new FormatException($"unknown group metadata value version {version}");
        var r = new FieldReader(value[2..], flexible: version >= 4);
        string protocolType = r.String();
        int generation = r.Int32();
        string? protocol = r.NullableString();
        string? leader = r.NullableString();
        long currentStateTimestamp = version >= 2 ? r.Int64() : -1;
        int count = r.ArrayCount();
        var members = new List<MemberRecord>(Math.Max(count, 0));
        for (int i = 0; i < count; i++)
        {
            string memberId = r.String();
            string? instanceId = version >= 3 ? r.NullableString() : null;
            string clientId = r.String();
            string clientHost = r.String();
            int sessionTimeout;
            int rebalanceTimeout;
            if (version >= 1)
            {
                rebalanceTimeout = r.Int32();
                sessionTimeout = r.Int32();
            }
            else
            {
                sessionTimeout = r.Int32();
                rebalanceTimeout = sessionTimeout;
            }
            byte[] subscription = r.Bytes();
            byte[] assignment = r.Bytes();
            r.TaggedFields();
            members.Add(new MemberRecord(memberId, instanceId, clientId, clientHost, rebalanceTimeout, sessionTimeout, subscription, assignment));
        }
        r.TaggedFields();
        return new GroupRecord(protocolType, generation, protocol, leader, currentStateTimestamp, members);
    }
}

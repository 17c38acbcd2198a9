using Broker.Integration.Tests.Infrastructure;

namespace Broker.Integration.Tests.Groups;

internal sealed record WireCoordinator(string Key, short Error, string? Message, int NodeId, string Host, int Port);
internal sealed record WireJoinMember(string MemberId, string? InstanceId, byte[] Metadata);
internal sealed record WireJoin(short Error, int Generation, string? ProtocolType, string? ProtocolName, string Leader, bool SkipAssignment,
    string MemberId, List<WireJoinMember> Members);
internal sealed record WireSync(short Error, string? ProtocolType, string? ProtocolName, byte[] Assignment);
internal sealed record WireLeave(short Error, List<(string MemberId, string? InstanceId, short Error)> Members);
internal sealed record WireCommitted(string Topic, int Partition, long Offset, int LeaderEpoch, string? Metadata, short Error);
internal sealed record WireFetch(short Error, List<WireCommitted> Offsets);
internal sealed record WireMember(string MemberId, string? InstanceId, string ClientId, string ClientHost, byte[] Metadata, byte[] Assignment);
internal sealed record WireGroup(short Error, string GroupId, string State, string ProtocolType, string Protocol, List<WireMember> Members, int AuthorizedOperations);
internal sealed record WireListed(string GroupId, string ProtocolType, string State);

/// <summary>
/// The group APIs, hand-encoded per version (field by field as in Kafka's message specs): FindCoordinator 0-4,
/// JoinGroup 0-9, SyncGroup 0-5, Heartbeat 0-4, LeaveGroup 0-5, OffsetCommit 0-9, OffsetFetch 0-9,
/// DescribeGroups 0-5, ListGroups 0-4, DeleteGroups 0-2.
/// </summary>
internal static class GroupWireApi
{
    public static List<WireCoordinator> FindCoordinator(this WireConnection c, short v, sbyte keyType, params string[] keys)
    {
        var r = c.Call(10, v, v >= 3, w =>
        {
            if (v <= 3) w.String(keys[0]);
            if (v >= 1) w.Int8(keyType);
            if (v >= 4) w.Array(keys, (x, k) => x.String(k), structs: false);
        });
        if (v >= 1) r.Int32();
        List<WireCoordinator> result;
        if (v <= 3)
        {
            short error = r.Int16();
            string? message = v >= 1 ? r.String() : null;
            result = [new WireCoordinator(keys[0], error, message, r.Int32(), r.String()!, r.Int32())];
        }
        else
        {
            result = r.Array(x =>
            {
                string key = x.String()!;
                int node = x.Int32();
                string host = x.String()!;
                int port = x.Int32();
                short error = x.Int16();
                return new WireCoordinator(key, error, x.String(), node, host, port);
            });
        }
        r.End();
        return result;
    }

    public static WireJoin JoinGroup(this WireConnection c, short v, string group, string memberId, string? instanceId, byte[] subscription,
        int sessionTimeoutMs = 10_000, int rebalanceTimeoutMs = 10_000)
    {
        var r = c.Call(11, v, v >= 6, w =>
        {
            w.String(group).Int32(sessionTimeoutMs);
            if (v >= 1) w.Int32(rebalanceTimeoutMs);
            w.String(memberId);
            if (v >= 5) w.String(instanceId);
            w.String("consumer");
            w.Array(new[] { ("range", subscription) }, (x, p) => x.String(p.Item1).Bytes(p.Item2));
            if (v >= 8) w.String("wire test");
        });
        if (v >= 2) r.Int32();
        short error = r.Int16();
        int generation = r.Int32();
        string? protocolType = v >= 7 ? r.String() : null;
        string? protocolName = r.String();
        string leader = r.String()!;
        bool skip = v >= 9 && r.Bool();
        string member = r.String()!;
        var members = r.Array(x => new WireJoinMember(x.String()!, v >= 5 ? x.String() : null, x.Bytes()));
        r.End();
        return new WireJoin(error, generation, protocolType, protocolName, leader, skip, member, members);
    }

    public static WireSync SyncGroup(this WireConnection c, short v, string group, int generation, string memberId, string? instanceId,
        IReadOnlyList<(string MemberId, byte[] Assignment)> assignments)
    {
        var r = c.Call(14, v, v >= 4, w =>
        {
            w.String(group).Int32(generation).String(memberId);
            if (v >= 3) w.String(instanceId);
            if (v >= 5) w.String("consumer").String("range");
            w.Array(assignments, (x, a) => x.String(a.MemberId).Bytes(a.Assignment));
        });
        if (v >= 1) r.Int32();
        short error = r.Int16();
        string? type = v >= 5 ? r.String() : null;
        string? name = v >= 5 ? r.String() : null;
        byte[] assignment = r.Bytes();
        r.End();
        return new WireSync(error, type, name, assignment);
    }

    public static short Heartbeat(this WireConnection c, short v, string group, int generation, string memberId, string? instanceId = null)
    {
        var r = c.Call(12, v, v >= 4, w =>
        {
            w.String(group).Int32(generation).String(memberId);
            if (v >= 3) w.String(instanceId);
        });
        if (v >= 1) r.Int32();
        short error = r.Int16();
        r.End();
        return error;
    }

    public static WireLeave LeaveGroup(this WireConnection c, short v, string group, string memberId)
    {
        var r = c.Call(13, v, v >= 4, w =>
        {
            w.String(group);
            if (v <= 2) w.String(memberId);
            else w.Array(new[] { memberId }, (x, m) =>
            {
                x.String(m).String(null);
                if (v >= 5) x.String("wire test done");
            });
        });
        if (v >= 1) r.Int32();
        short error = r.Int16();
        var members = v >= 3 ? r.Array(x => (x.String()!, x.String(), x.Int16())) : [];
        r.End();
        return new WireLeave(error, members);
    }

    /// <summary>Commits one offset per (topic, partition); returns the per-partition errors in request order.</summary>
    public static List<(string Topic, int Partition, short Error)> OffsetCommit(this WireConnection c, short v, string group, int generation,
        string memberId, IReadOnlyList<(string Topic, int Partition, long Offset, int LeaderEpoch, string? Metadata)> offsets)
    {
        var byTopic = offsets.GroupBy(o => o.Topic).ToList();
        var r = c.Call(8, v, v >= 8, w =>
        {
            w.String(group);
            if (v >= 1) w.Int32(generation).String(memberId);
            if (v >= 7) w.String(null);
            if (v is >= 2 and <= 4) w.Int64(-1);
            w.Array(byTopic, (x, t) =>
            {
                x.String(t.Key);
                x.Array(t.ToList(), (y, p) =>
                {
                    y.Int32(p.Partition).Int64(p.Offset);
                    if (v >= 6) y.Int32(p.LeaderEpoch);
                    if (v == 1) y.Int64(-1);
                    y.String(p.Metadata);
                });
            });
        });
        if (v >= 3) r.Int32();
        var result = new List<(string, int, short)>();
        r.Array(x =>
        {
            string topic = x.String()!;
            x.Array(y =>
            {
                result.Add((topic, y.Int32(), y.Int16()));
                return 0;
            });
            return 0;
        });
        r.End();
        return result;
    }

    /// <summary>OffsetFetch of one group (v8+ as a one-group batch); topics null = every committed offset (v2+).</summary>
    public static WireFetch OffsetFetch(this WireConnection c, short v, string group, IReadOnlyList<(string Topic, int[] Partitions)>? topics)
    {
        var r = c.Call(9, v, v >= 6, w =>
        {
            void WriteTopics(WireWriter x) => x.Array(topics, (y, t) => y.String(t.Topic).Array(t.Partitions, (z, p) => z.Int32(p), structs: false));
            if (v <= 7)
            {
                w.String(group);
                WriteTopics(w);
            }
            else
            {
                w.Array(new[] { group }, (x, g) =>
                {
                    x.String(g);
                    if (v >= 9) x.String(null).Int32(-1);
                    WriteTopics(x);
                });
            }
            if (v >= 7) w.Bool(false);
        });
        if (v >= 3) r.Int32();
        List<WireCommitted> ReadTopics(WireReader x)
        {
            var offsets = new List<WireCommitted>();
            x.Array(y =>
            {
                string topic = y.String()!;
                y.Array(z =>
                {
                    int partition = z.Int32();
                    long offset = z.Int64();
                    int epoch = v >= 5 ? z.Int32() : -1;
                    string? metadata = z.String();
                    offsets.Add(new WireCommitted(topic, partition, offset, epoch, metadata, z.Int16()));
                    return 0;
                });
                return 0;
            });
            return offsets;
        }
        WireFetch result;
        if (v <= 7)
        {
            var offsets = ReadTopics(r);
            short error = v >= 2 ? r.Int16() : (short)0;
            result = new WireFetch(error, offsets);
        }
        else
        {
            var groups = r.Array(x =>
            {
                string id = x.String()!;
                var offsets = ReadTopics(x);
                return (Id: id, Fetch: new WireFetch(x.Int16(), offsets));
            });
            if (groups.Count != 1 || groups[0].Id != group) throw new InvalidDataException($"OffsetFetch v{v} answered {groups.Count} groups");
            result = groups[0].Fetch;
        }
        r.End();
        return result;
    }

    public static List<WireGroup> DescribeGroups(this WireConnection c, short v, params string[] groups)
    {
        var r = c.Call(15, v, v >= 5, w =>
        {
            w.Array(groups, (x, g) => x.String(g), structs: false);
            if (v >= 3) w.Bool(true);
        });
        if (v >= 1) r.Int32();
        var result = r.Array(x =>
        {
            short error = x.Int16();
            string id = x.String()!, state = x.String()!, type = x.String()!, protocol = x.String()!;
            var members = x.Array(y => new WireMember(y.String()!, v >= 4 ? y.String() : null, y.String()!, y.String()!, y.Bytes(), y.Bytes()));
            int ops = v >= 3 ? x.Int32() : int.MinValue;
            return new WireGroup(error, id, state, type, protocol, members, ops);
        });
        r.End();
        return result;
    }

    public static (short Error, List<WireListed> Groups) ListGroups(this WireConnection c, short v, params string[] states)
    {
        var r = c.Call(16, v, v >= 3, w =>
        {
            if (v >= 4) w.Array(states, (x, s) => x.String(s), structs: false);
        });
        if (v >= 1) r.Int32();
        short error = r.Int16();
        var groups = r.Array(x => new WireListed(x.String()!, x.String()!, v >= 4 ? x.String()! : ""));
        r.End();
        return (error, groups);
    }

    public static List<(string GroupId, short Error)> DeleteGroups(this WireConnection c, short v, params string[] groups)
    {
        var r = c.Call(42, v, v >= 2, w => w.Array(groups, (x, g) => x.String(g), structs: false));
        r.Int32();
        var result = r.Array(x => (x.String()!, x.Int16()));
        r.End();
        return result;
    }
}

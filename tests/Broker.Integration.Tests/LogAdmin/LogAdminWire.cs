using Broker.Integration.Tests.Infrastructure;
using Xunit;

namespace Broker.Integration.Tests.LogAdmin;

/// <summary>DeleteRecords result of one partition.</summary>
internal sealed record DeletedRecords(int Partition, long LowWatermark, short Error);

/// <summary>One partition in a DescribeLogDirs answer.</summary>
internal sealed record LogDirPartition(string Topic, int Partition, long Size, long OffsetLag, bool IsFuture);

/// <summary>One log directory in a DescribeLogDirs answer.</summary>
internal sealed record LogDirResult(short Error, string Dir, List<LogDirPartition> Partitions, long TotalBytes, long UsableBytes);

/// <summary>One partition in an ElectLeaders answer.</summary>
internal sealed record ElectionResult(string Topic, int Partition, short Error, string? Message);

/// <summary>
/// The log admin requests on the raw wire (Infrastructure/WireCodec), in their classic and flexible versions:
/// DeleteRecords v0-2, ListOffsets v4 (earliest/latest with the leader epoch), OffsetForLeaderEpoch v3-4,
/// DescribeLogDirs v0-4 and ElectLeaders v0-2. Every response is read to its end (trailing bytes fail the test).
/// </summary>
internal static class LogAdminWire
{
    public const short ApiListOffsets = 2, ApiDeleteRecords = 21, ApiOffsetForLeaderEpoch = 23, ApiDescribeLogDirs = 35, ApiElectLeaders = 43;
    public const short NotLeaderOrFollower = 6, OffsetOutOfRange = 1, ElectionNotNeeded = 84, PreferredLeaderNotAvailable = 80,
        InvalidRequest = 42, FencedLeaderEpoch = 74;

    public static DeletedRecords DeleteRecords(WireConnection c, short version, string topic, int partition, long offset, int timeoutMs = 15_000)
    {
        bool flexible = version >= 2;
        var r = c.Call(ApiDeleteRecords, version, flexible, w => w
            .Array([topic], (w, t) => w.String(t).Array([(partition, offset)], (w, p) => w.Int32(p.partition).Int64(p.offset)))
            .Int32(timeoutMs));
        r.Int32(); // throttle
        var topics = r.Array(t => (Name: t.String(), Partitions: t.Array(p => new DeletedRecords(p.Int32(), p.Int64(), p.Int16()))));
        r.End();
        var only = Assert.Single(topics);
        Assert.Equal(topic, only.Name);
        return Assert.Single(only.Partitions);
    }

    /// <summary>ListOffsets v4 for one partition: (error, offset, leader epoch). <paramref name="timestamp"/> -2 is
    /// the earliest offset (the log start), -1 the latest (the high watermark). Replica id -2 (debug) may ask a follower.</summary>
    public static (short Error, long Offset, int LeaderEpoch) ListOffset(WireConnection c, string topic, int partition, long timestamp,
        int replicaId = -1)
    {
        var r = c.Call(ApiListOffsets, 4, false, w => w
            .Int32(replicaId).Int8(0)
            .Array([topic], (w, t) => w.String(t).Array([partition], (w, p) => w.Int32(p).Int32(-1).Int64(timestamp))));
        r.Int32(); // throttle
        var topics = r.Array(t => (Name: t.String(), Partitions: t.Array(p => (Index: p.Int32(), Error: p.Int16(), Timestamp: p.Int64(), Offset: p.Int64(), Epoch: p.Int32()))));
        r.End();
        var result = Assert.Single(Assert.Single(topics).Partitions);
        return (result.Error, result.Offset, result.Epoch);
    }

    public static (short Error, int LeaderEpoch, long EndOffset) OffsetForLeaderEpoch(WireConnection c, short version, string topic, int partition,
        int leaderEpoch, int currentLeaderEpoch = -1)
    {
        bool flexible = version >= 4;
        var r = c.Call(ApiOffsetForLeaderEpoch, version, flexible, w => w
            .Int32(-1) // replica id: a consumer
            .Array([topic], (w, t) => w.String(t).Array([partition], (w, p) => w.Int32(p).Int32(currentLeaderEpoch).Int32(leaderEpoch))));
        r.Int32(); // throttle
        var topics = r.Array(t => (Name: t.String(), Partitions: t.Array(p => (Error: p.Int16(), Index: p.Int32(), Epoch: p.Int32(), End: p.Int64()))));
        r.End();
        var result = Assert.Single(Assert.Single(topics).Partitions);
        Assert.Equal(partition, result.Index);
        return (result.Error, result.Epoch, result.End);
    }

    /// <summary>DescribeLogDirs; <paramref name="topics"/> null asks for everything. Top-level error (v3+) must be 0.</summary>
    public static List<LogDirResult> DescribeLogDirs(WireConnection c, short version, IReadOnlyList<(string Topic, int[] Partitions)>? topics)
    {
        bool flexible = version >= 2;
        var r = c.Call(ApiDescribeLogDirs, version, flexible, w => w
            .Array(topics, (w, t) => w.String(t.Topic).Array(t.Partitions, (w, p) => w.Int32(p), structs: false)));
        r.Int32(); // throttle
        if (version >= 3) Assert.Equal(0, r.Int16());
        var results = r.Array(d =>
        {
            short error = d.Int16();
            string dir = d.String()!;
            var partitions = new List<LogDirPartition>();
            d.Array(t =>
            {
                string name = t.String()!;
                partitions.AddRange(t.Array(p => new LogDirPartition(name, p.Int32(), p.Int64(), p.Int64(), p.Bool())));
                return name;
            });
            long total = version >= 4 ? d.Int64() : -1, usable = version >= 4 ? d.Int64() : -1;
            return new LogDirResult(error, dir, partitions, total, usable);
        });
        r.End();
        return results;
    }

    /// <summary>ElectLeaders; <paramref name="partitions"/> null means every partition. Returns the top-level error
    /// (0 for v0, which has none) and the per-partition results.</summary>
    public static (short Error, List<ElectionResult> Results) ElectLeaders(WireConnection c, short version, sbyte electionType,
        IReadOnlyList<(string Topic, int[] Partitions)>? partitions, int timeoutMs = 20_000)
    {
        bool flexible = version >= 2;
        var r = c.Call(ApiElectLeaders, version, flexible, w =>
        {
            if (version >= 1) w.Int8(electionType);
            w.Array(partitions, (w, t) => w.String(t.Topic).Array(t.Partitions, (w, p) => w.Int32(p), structs: false)).Int32(timeoutMs);
        });
        r.Int32(); // throttle
        short error = version >= 1 ? r.Int16() : (short)0;
        var results = new List<ElectionResult>();
        r.Array(t =>
        {
            string topic = t.String()!;
            results.AddRange(t.Array(p => new ElectionResult(topic, p.Int32(), p.Int16(), p.String())));
            return topic;
        });
        r.End();
        return (error, results);
    }
}

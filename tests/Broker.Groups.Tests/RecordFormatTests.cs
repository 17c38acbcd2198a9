using System.Buffers.Binary;
using System.Text;
using Broker.Core.Model;
using Broker.Core.Records;

namespace Broker.Groups.Tests;

/// <summary>__consumer_offsets records in Kafka's formats: what we write byte for byte, and older versions we read.</summary>
public sealed class RecordFormatTests
{
    /// <summary>Big-endian field writer for expected records.</summary>
    private sealed class Fields
    {
        private readonly List<byte> _bytes = [];
        public Fields I16(int v) { Span<byte> b = stackalloc byte[2]; BinaryPrimitives.WriteInt16BigEndian(b, (short)v); _bytes.AddRange(b.ToArray()); return this; }
        public Fields I32(int v) { Span<byte> b = stackalloc byte[4]; BinaryPrimitives.WriteInt32BigEndian(b, v); _bytes.AddRange(b.ToArray()); return this; }
        public Fields I64(long v) { Span<byte> b = stackalloc byte[8]; BinaryPrimitives.WriteInt64BigEndian(b, v); _bytes.AddRange(b.ToArray()); return this; }
        public Fields Str(string? s) => s is null ? I16(-1) : I16(Encoding.UTF8.GetByteCount(s)).Raw(Encoding.UTF8.GetBytes(s));
        public Fields Blob(byte[] b) => I32(b.Length).Raw(b);
        public Fields Raw(params byte[] b) { _bytes.AddRange(b); return this; }
        /// <summary>Flexible (compact) encodings: unsigned varint of length + 1.</summary>
        public Fields UVar(int v) { while (v >= 0x80) { _bytes.Add((byte)(v | 0x80)); v >>= 7; } _bytes.Add((byte)v); return this; }
        public Fields CStr(string s) => UVar(Encoding.UTF8.GetByteCount(s) + 1).Raw(Encoding.UTF8.GetBytes(s));
        public byte[] ToArray() => [.. _bytes];
    }

    private static byte[] OffsetKey(short version, string group, string topic, int partition) =>
        new Fields().I16(version).Str(group).Str(topic).I32(partition).ToArray();

    private static byte[] GroupKey(string group) => new Fields().I16(2).Str(group).ToArray();

    [Fact]
    public async Task Offset_commits_and_group_metadata_are_written_in_kafka_formats()
    {
        await using var kit = new GroupKit();
        int p = kit.Coordinator.PartitionFor("g");
        long commitTime = kit.Clock.UnixTimeMilliseconds;
        var a = await kit.StableSingle("g");
        await Done(kit.Commit("g", 1, a.MemberId, new OffsetCommitEntry("t1", 3, 42, 7, "m")));
        await Done(kit.Coordinator.CommitOffsetsAsync(new OffsetCommitArgs("g", 1, a.MemberId, null, 1000, [new("t1", 4, 5, 2, "")])));

        var records = kit.Topic.Records(p);
        Assert.Equal(3, records.Count);
        var group = records[0];
        Assert.Equal(GroupKey("g"), group.Key);
        var expectedGroup = new Fields().I16(3).Str("consumer").I32(1).Str("range").Str(a.MemberId).I64(commitTime).I32(1)
            .Str(a.MemberId).Str(null).Str("client").Str("/127.0.0.1").I32(20_000).I32(10_000)
            .Blob(Subscription("t1")).Blob([1, 2, 3]).ToArray();
        Assert.Equal(expectedGroup, group.Value);

        Assert.Equal(OffsetKey(1, "g", "t1", 3), records[1].Key);
        Assert.Equal(new Fields().I16(3).I64(42).I32(7).Str("m").I64(commitTime).ToArray(), records[1].Value);
        // An explicit retention (OffsetCommit v2-v4) needs value v1, the one with an expire timestamp.
        Assert.Equal(new Fields().I16(1).I64(5).Str("").I64(commitTime).I64(commitTime + 1000).ToArray(), records[2].Value);
    }

    [Fact]
    public async Task Older_and_flexible_record_versions_are_read_and_bad_records_skipped()
    {
        await using var kit = new GroupKit();
        int p = kit.Coordinator.PartitionFor("old");
        Assert.Equal(p, kit.Coordinator.PartitionFor("v0group"));
        var builder = new RecordBatchBuilder();
        builder.Reset(1);
        void Add(byte[] key, byte[]? value) => builder.Add(1, key, value ?? [], valueIsNull: value is null);

        Add(OffsetKey(0, "old", "t", 0), new Fields().I16(0).I64(10).Str("v0").I64(111).ToArray());
        Add(OffsetKey(1, "old", "t", 1), new Fields().I16(1).I64(11).Str("v1").I64(111).I64(kit.Clock.UnixTimeMilliseconds + 1000).ToArray());
        Add(OffsetKey(1, "old", "t", 2), new Fields().I16(2).I64(12).Str("v2").I64(111).ToArray());
        Add(OffsetKey(1, "old", "t", 3), new Fields().I16(4).I64(13).I32(9).CStr("v4").I64(111).UVar(0).ToArray());
        Add(OffsetKey(1, "old", "t", 4), new Fields().I16(3).I64(14).I32(-1).Str("").I64(111).ToArray());
        Add(OffsetKey(1, "old", "t", 4), null); // tombstone after the commit
        Add(OffsetKey(1, "old", "t", 5), [0, 3, 1]); // truncated value: skipped
        Add(new Fields().I16(9).Str("future").ToArray(), [0, 0]); // a record type of newer coordinators: ignored
        Add(GroupKey("v0group"), new Fields().I16(0).Str("consumer").I32(4).Str("range").Str("m1").I32(1)
            .Str("m1").Str("cid").Str("/h").I32(30_000).Blob(Subscription("t")).Blob([7]).ToArray());
        Add(GroupKey("old"), new Fields().I16(2).Str("consumer").I32(3).Str(null).Str(null).I64(kit.Clock.UnixTimeMilliseconds).I32(0).ToArray());
        kit.Topic.Replica(p)!.Append(builder.Build().Span);

        await kit.RestartAsync();
        var old = kit.Coordinator.FetchOffsets("old", null, false).Offsets.OrderBy(o => o.Partition).ToArray();
        Assert.Equal([0, 1, 2, 3], old.Select(o => o.Partition));
        Assert.Equal([10L, 11, 12, 13], old.Select(o => o.Offset));
        Assert.Equal(["v0", "v1", "v2", "v4"], old.Select(o => o.Metadata));
        Assert.Equal(9, old[3].LeaderEpoch);
        Assert.Equal("Empty", kit.Coordinator.DescribeGroup("old").State);

        var v0 = kit.Coordinator.DescribeGroup("v0group");
        Assert.Equal(("Stable", "range", "m1"), (v0.State, v0.Protocol, Assert.Single(v0.Members).MemberId));
        Assert.Equal(new byte[] { 7 }, v0.Members[0].Assignment);
        Assert.Equal(ErrorCode.None, kit.Coordinator.Heartbeat("v0group", 4, "m1", null));

        // The v1 record's own expire timestamp applies once the retention check runs.
        kit.Advance(kit.Options.OffsetsRetentionCheckIntervalMs);
        Assert.Equal(-1, kit.Fetch("old", "t", 1).Offset);
    }
}

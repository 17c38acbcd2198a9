using Broker.Metadata.Image;
using Broker.Metadata.Records;

namespace Broker.Metadata.Tests;

/// <summary>PartitionChangeRecord's LeaderEpoch (tagged field 0): encoding, compatibility and how replay applies it.</summary>
public class LeadershipRecordTests
{
    private static readonly Guid Orders = Guid.Parse("11111111-2222-3333-4444-555555555555");

    /// <summary>The body as it was written before LeaderEpoch existed (no tagged fields).</summary>
    private static byte[] LegacyEncoding(int partition, Guid topicId, int leader, int[]? isr, int[]? replicas, Action<BodyWriter>? taggedFields = null)
    {
        var w = new BodyWriter();
        w.WriteUVarint(1);
        w.WriteUVarint((uint)MetadataRecordType.PartitionChange);
        w.WriteUVarint(0);
        w.WriteInt32(partition);
        w.WriteUuid(topicId);
        w.WriteInt32(leader);
        w.WriteNullableInt32Array(isr);
        w.WriteNullableInt32Array(replicas);
        if (taggedFields is null) w.WriteEmptyTaggedFields();
        else taggedFields(w);
        return w.WrittenSpan.ToArray();
    }

    [Fact]
    public void Leader_epoch_survives_a_round_trip()
    {
        var decoded = (PartitionChangeRecord)MetadataRecordSerde.Deserialize(MetadataRecordSerde.Serialize(
            new PartitionChangeRecord(3, Orders, 2, [2, 1], null, LeaderEpoch: 9)));
        Assert.Equal((3, Orders, 2, 9), (decoded.PartitionId, decoded.TopicId, decoded.Leader, decoded.LeaderEpoch));
        Assert.Equal(new[] { 2, 1 }, decoded.Isr!);
        Assert.Null(decoded.Replicas);
    }

    [Fact]
    public void Without_an_exact_epoch_the_encoding_is_the_old_one()
    {
        var record = new PartitionChangeRecord(3, Orders, 2, [2], [1, 2]);
        Assert.Equal(MetadataConstants.BumpLeaderEpoch, record.LeaderEpoch);
        Assert.Equal(LegacyEncoding(3, Orders, 2, [2], [1, 2]), MetadataRecordSerde.Serialize(record));
    }

    [Fact]
    public void Old_records_read_as_bump_on_leader_change()
    {
        var decoded = (PartitionChangeRecord)MetadataRecordSerde.Deserialize(LegacyEncoding(0, Orders, 5, null, null));
        Assert.Equal(-1, decoded.LeaderEpoch);
        Assert.Equal(5, decoded.Leader);
    }

    [Fact]
    public void Unknown_tagged_fields_are_skipped_next_to_the_epoch()
    {
        var bytes = LegacyEncoding(0, Orders, 5, [5], null, w =>
        {
            w.WriteUVarint(2);
            w.WriteUVarint(0); w.WriteUVarint(4); w.WriteInt32(12);          // LeaderEpoch
            w.WriteUVarint(7); w.WriteUVarint(3); w.WriteInt8(1); w.WriteInt16(2); // a future field
        });
        var decoded = (PartitionChangeRecord)MetadataRecordSerde.Deserialize(bytes);
        Assert.Equal(12, decoded.LeaderEpoch);
    }

    [Theory]
    [InlineData(0u, 2u)]  // the epoch tag with a wrong size for an int32
    [InlineData(7u, 40u)] // an unknown tag longer than the record
    public void A_malformed_tagged_field_is_a_format_error(uint tag, uint size)
    {
        var bytes = LegacyEncoding(0, Orders, 5, [5], null, w =>
        {
            w.WriteUVarint(1);
            w.WriteUVarint(tag); w.WriteUVarint(size); w.WriteInt32(12);
        });
        Assert.Throws<MetadataFormatException>(() => MetadataRecordSerde.Deserialize(bytes));
    }

    [Fact]
    public void A_negative_exact_epoch_below_minus_one_is_a_format_error()
    {
        var bytes = LegacyEncoding(0, Orders, 5, [5], null, w =>
        {
            w.WriteUVarint(1);
            w.WriteUVarint(0); w.WriteUVarint(4); w.WriteInt32(-5);
        });
        Assert.Throws<MetadataFormatException>(() => MetadataRecordSerde.Deserialize(bytes));
    }

    private static MetadataImage Apply(MetadataImage image, params MetadataRecord[] records)
    {
        long next = image.LastAppliedOffset + 1;
        return new MetadataStateMachine().Apply(image, records.Select(r => (next++, r)));
    }

    private static MetadataImage WithOrders() => Apply(MetadataImage.Empty("c1", 1),
        new TopicRecord("orders", Orders),
        new PartitionRecord(0, Orders, [1, 2, 3], [1, 2, 3], 1, 4, 0));

    [Fact]
    public void An_exact_epoch_is_set_as_given()
    {
        var image = Apply(WithOrders(), new PartitionChangeRecord(0, Orders, 2, [2, 3], null, LeaderEpoch: 9));
        var p = image.GetPartition("orders", 0)!;
        Assert.Equal((2, 9, 1), (p.Leader, p.LeaderEpoch, p.PartitionEpoch));
        Assert.Equal(new[] { 2, 3 }, p.Isr);
    }

    [Fact]
    public void An_exact_epoch_applies_even_when_the_leader_is_unchanged()
    {
        // The same node won a later election (a new Raft term): only the epoch moves.
        var image = Apply(WithOrders(), new PartitionChangeRecord(0, Orders, 1, null, null, LeaderEpoch: 6));
        var p = image.GetPartition("orders", 0)!;
        Assert.Equal((1, 6, 1), (p.Leader, p.LeaderEpoch, p.PartitionEpoch));
        Assert.Equal(new[] { 1, 2, 3 }, p.Isr);
    }

    [Fact]
    public void Without_an_exact_epoch_a_leader_change_still_bumps_by_one()
    {
        var image = Apply(WithOrders(), new PartitionChangeRecord(0, Orders, 3, null, null));
        Assert.Equal((3, 5), (image.GetPartition("orders", 0)!.Leader, image.GetPartition("orders", 0)!.LeaderEpoch));
        image = Apply(image, new PartitionChangeRecord(0, Orders, MetadataConstants.NoLeaderChange, [3], null));
        Assert.Equal(5, image.GetPartition("orders", 0)!.LeaderEpoch);
    }
}

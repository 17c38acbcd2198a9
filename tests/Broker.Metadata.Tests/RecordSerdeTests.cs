using Broker.Core.Encoding;
using Broker.Metadata.Image;
using Broker.Metadata.Records;

namespace Broker.Metadata.Tests;

public class RecordSerdeTests
{
    private static readonly Guid TopicId = Guid.Parse("0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0");

    public static TheoryData<MetadataRecord> AllRecords() => new()
    {
        new RegisterBrokerRecord(3, Guid.NewGuid(), 42,
            [new BrokerEndpoint("PLAINTEXT", "host-ü.example", 9092, 0), new BrokerEndpoint("SSL", "h", 65535, 1)], "rack-a", true),
        new RegisterBrokerRecord(0, Guid.NewGuid(), 0, [], null, false),
        new UnregisterBrokerRecord(7, 99),
        new TopicRecord("orders", TopicId),
        new PartitionRecord(5, TopicId, [1, 2, 3], [1, 3], 1, 4, 9),
        new ConfigRecord(ConfigResourceType.Topic, "orders", "retention.ms", "1000"),
        new ConfigRecord(ConfigResourceType.Broker, "", "log.retention.hours", null),
        new PartitionChangeRecord(2, TopicId, MetadataConstants.NoLeaderChange, [2], null),
        new PartitionChangeRecord(2, TopicId, 3, null, [3, 4]),
        new PartitionChangeRecord(2, TopicId, 3, [3, 4], null, LeaderEpoch: 0),
        new PartitionChangeRecord(2, TopicId, MetadataConstants.NoLeaderChange, [4, 3], null, LeaderEpoch: 70000),
        new FenceBrokerRecord(1, 10),
        new UnfenceBrokerRecord(1, 10),
        new RemoveTopicRecord(TopicId),
        new FeatureLevelRecord("metadata.version", 19),
        new ProducerIdsRecord(1, 10, 5000),
        new BrokerRegistrationChangeRecord(1, 10, -1, 1),
    };

    [Theory]
    [MemberData(nameof(AllRecords))]
    public void Every_record_type_round_trips(MetadataRecord record)
    {
        var bytes = MetadataRecordSerde.Serialize(record);
        Assert.Equal(1, bytes[0]); // frame version
        Assert.Equal((int)record.Type, bytes[1]);
        Assert.Equal(0, bytes[2]); // record version
        var decoded = MetadataRecordSerde.Deserialize(bytes);
        RecordAssert.SameRecord(record, decoded);
    }

    [Fact]
    public void Fields_survive_a_round_trip()
    {
        var incarnation = Guid.NewGuid();
        var register = (RegisterBrokerRecord)MetadataRecordSerde.Deserialize(MetadataRecordSerde.Serialize(
            new RegisterBrokerRecord(3, incarnation, 42, [new BrokerEndpoint("PLAINTEXT", "broker-3", 9092, 0)], "r1", true)));
        Assert.Equal(3, register.BrokerId);
        Assert.Equal(incarnation, register.IncarnationId);
        Assert.Equal(42, register.BrokerEpoch);
        Assert.Equal(new BrokerEndpoint("PLAINTEXT", "broker-3", 9092, 0), Assert.Single(register.Endpoints));
        Assert.Equal("r1", register.Rack);
        Assert.True(register.Fenced);

        var partition = (PartitionRecord)MetadataRecordSerde.Deserialize(MetadataRecordSerde.Serialize(
            new PartitionRecord(5, TopicId, [1, 2, 3], [1, 3], 1, 4, 9)));
        Assert.Equal((5, TopicId, 1, 4, 9), (partition.PartitionId, partition.TopicId, partition.Leader, partition.LeaderEpoch, partition.PartitionEpoch));
        Assert.Equal([1, 2, 3], partition.Replicas);
        Assert.Equal([1, 3], partition.Isr);

        var config = (ConfigRecord)MetadataRecordSerde.Deserialize(MetadataRecordSerde.Serialize(
            new ConfigRecord(ConfigResourceType.Broker, "", "x", null)));
        Assert.Equal(ConfigResourceType.Broker, config.ResourceType);
        Assert.Equal("", config.ResourceName);
        Assert.Null(config.Value);
    }

    [Fact]
    public void Uuid_is_written_big_endian()
    {
        var bytes = MetadataRecordSerde.Serialize(new RemoveTopicRecord(TopicIds.MetadataTopicId));
        // frame(3 bytes) + 16 uuid bytes + tagged-field count
        Assert.Equal(new byte[] { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 }, bytes[3..19]);
        Assert.Equal("AAAAAAAAAAAAAAAAAAAAAQ", TopicIds.ToKafkaString(TopicIds.MetadataTopicId));
    }

    [Fact]
    public void Unknown_type_and_newer_version_decode_as_unknown()
    {
        var unknownType = MetadataRecordSerde.Deserialize([1, 99, 0, 0xAB, 0xCD]);
        Assert.Equal(new UnknownMetadataRecord(99, 0), unknownType);

        var newer = MetadataRecordSerde.Serialize(new FenceBrokerRecord(1, 2));
        newer[2] = 5;
        Assert.Equal(new UnknownMetadataRecord((int)MetadataRecordType.FenceBroker, 5), MetadataRecordSerde.Deserialize(newer));
    }

    [Fact]
    public void Wrong_frame_version_is_rejected_clearly()
    {
        var bytes = MetadataRecordSerde.Serialize(new TopicRecord("t", TopicId));
        bytes[0] = 2;
        var ex = Assert.Throws<MetadataFormatException>(() => MetadataRecordSerde.Deserialize(bytes));
        Assert.Contains("frame version 2", ex.Message);
    }

    [Fact]
    public void Truncated_and_padded_bodies_are_rejected()
    {
        var bytes = MetadataRecordSerde.Serialize(new PartitionRecord(0, TopicId, [1], [1], 1, 0, 0));
        for (int cut = 1; cut < bytes.Length; cut++)
            Assert.Throws<MetadataFormatException>(() => MetadataRecordSerde.Deserialize(bytes.AsSpan(0, cut)));
        var padded = bytes.Concat(new byte[] { 0 }).ToArray();
        Assert.Contains("trailing", Assert.Throws<MetadataFormatException>(() => MetadataRecordSerde.Deserialize(padded)).Message);
        Assert.Throws<MetadataFormatException>(() => MetadataRecordSerde.Deserialize([]));
    }

    [Fact]
    public void Absurd_array_length_is_rejected_without_allocating()
    {
        var writer = new BodyWriter();
        writer.WriteUVarint(1);
        writer.WriteUVarint((uint)MetadataRecordType.Partition);
        writer.WriteUVarint(0);
        writer.WriteInt32(0);
        writer.WriteUuid(TopicId);
        writer.WriteUVarint(int.MaxValue); // replicas: ~2 billion elements, 0 bytes follow
        var ex = Assert.Throws<MetadataFormatException>(() => MetadataRecordSerde.Deserialize(writer.WrittenSpan));
        Assert.Contains("exceeds", ex.Message);
    }

    [Fact]
    public void Unknown_tagged_fields_are_skipped()
    {
        var bytes = MetadataRecordSerde.Serialize(new FenceBrokerRecord(4, 8)).ToList();
        bytes.RemoveAt(bytes.Count - 1); // empty tagged-field section
        var tagged = new BodyWriter();
        tagged.WriteUVarint(2);                   // two tagged fields
        tagged.WriteUVarint(0); tagged.WriteUVarint(3); tagged.WriteInt8(1); tagged.WriteInt16(2);
        tagged.WriteUVarint(7); tagged.WriteUVarint(0);
        bytes.AddRange(tagged.WrittenSpan.ToArray());
        Assert.Equal(new FenceBrokerRecord(4, 8), MetadataRecordSerde.Deserialize(bytes.ToArray()));
    }

    [Fact]
    public void Varint_fields_use_the_core_encoding()
    {
        // A type id above 127 needs two varint bytes; decoding must still find it unknown, not crash.
        Span<byte> frame = stackalloc byte[8];
        int n = Varint.WriteUnsigned(frame, 1);
        n += Varint.WriteUnsigned(frame[n..], 300);
        n += Varint.WriteUnsigned(frame[n..], 0);
        Assert.Equal(new UnknownMetadataRecord(300, 0), MetadataRecordSerde.Deserialize(frame[..n]));
    }
}

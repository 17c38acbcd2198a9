using Broker.Core.Encoding;
using Broker.Metadata.Image;

namespace Broker.Metadata.Records;

/// <summary>
/// Encodes and decodes metadata record values:
/// <c>[frame_version:uvarint=1][record_type:uvarint][record_version:uvarint][body]</c>.
/// A wrong frame version or a malformed body throws <see cref="MetadataFormatException"/>; an unknown record type
/// or a version newer than this node understands decodes to <see cref="UnknownMetadataRecord"/>.
/// </summary>
public static class MetadataRecordSerde
{
    public const int FrameVersion = 1;
    /// <summary>Highest record version this node reads (all types are at version 0 for now).</summary>
    public const int MaxSupportedVersion = 0;

    public static byte[] Serialize(MetadataRecord record)
    {
        var writer = new BodyWriter();
        Write(record, writer);
        return writer.WrittenSpan.ToArray();
    }

    /// <summary>Appends the framed value of <paramref name="record"/> to <paramref name="writer"/>.</summary>
    public static void Write(MetadataRecord record, BodyWriter writer)
    {
        writer.WriteUVarint(FrameVersion);
        writer.WriteUVarint((uint)(ushort)record.Type);
        writer.WriteUVarint(0); // record version
        switch (record)
        {
            case RegisterBrokerRecord r: WriteRegisterBroker(r, writer); break;
            case UnregisterBrokerRecord r: writer.WriteInt32(r.BrokerId); writer.WriteInt64(r.BrokerEpoch); break;
            case TopicRecord r: writer.WriteString(r.Name); writer.WriteUuid(r.TopicId); break;
            case PartitionRecord r: WritePartition(r, writer); break;
            case ConfigRecord r:
                writer.WriteInt8((sbyte)r.ResourceType);
                writer.WriteString(r.ResourceName);
                writer.WriteString(r.Name);
                writer.WriteNullableString(r.Value);
                break;
            case PartitionChangeRecord r:
                WritePartitionChange(r, writer);
                return; // writes its own tagged fields
            case FenceBrokerRecord r: writer.WriteInt32(r.Id); writer.WriteInt64(r.Epoch); break;
            case UnfenceBrokerRecord r: writer.WriteInt32(r.Id); writer.WriteInt64(r.Epoch); break;
            case RemoveTopicRecord r: writer.WriteUuid(r.TopicId); break;
            case FeatureLevelRecord r: writer.WriteString(r.Name); writer.WriteInt16(r.FeatureLevel); break;
            case ProducerIdsRecord r:
                writer.WriteInt32(r.BrokerId);
                writer.WriteInt64(r.BrokerEpoch);
                writer.WriteInt64(r.NextProducerId);
                break;
            case BrokerRegistrationChangeRecord r:
                writer.WriteInt32(r.BrokerId);
                writer.WriteInt64(r.BrokerEpoch);
                writer.WriteInt8(r.Fenced);
                writer.WriteInt8(r.InControlledShutdown);
                break;
            default:
                throw new ArgumentException($"cannot serialize metadata record {record.GetType().Name}", nameof(record));
        }
        writer.WriteEmptyTaggedFields();
    }

    /// <summary>Decodes one record value. Throws <see cref="MetadataFormatException"/> on malformed input.</summary>
    public static MetadataRecord Deserialize(ReadOnlySpan<byte> value)
    {
        var reader = new BodyReader(value);
        uint frameVersion = reader.ReadUVarint();
        if (frameVersion != FrameVersion)
            throw new MetadataFormatException($"unsupported metadata frame version {frameVersion} (expected {FrameVersion})");
        uint type = reader.ReadUVarint();
        uint version = reader.ReadUVarint();
        if (type > short.MaxValue || version > MaxSupportedVersion)
            return new UnknownMetadataRecord((int)Math.Min(type, int.MaxValue), (int)Math.Min(version, int.MaxValue));
        var record = (MetadataRecordType)(short)type == MetadataRecordType.PartitionChange
            ? ReadPartitionChange(ref reader) // reads its own tagged fields
            : ReadBody((MetadataRecordType)(short)type, ref reader);
        if (record is null) return new UnknownMetadataRecord((int)type, (int)version);
        if (record is not PartitionChangeRecord) reader.SkipTaggedFields();
        if (reader.Remaining != 0)
            throw new MetadataFormatException($"{reader.Remaining} unexpected trailing bytes after {(MetadataRecordType)(short)type} record");
        return record;
    }

    private static MetadataRecord? ReadBody(MetadataRecordType type, ref BodyReader reader) => type switch
    {
        MetadataRecordType.RegisterBroker => ReadRegisterBroker(ref reader),
        MetadataRecordType.UnregisterBroker => new UnregisterBrokerRecord(reader.ReadInt32(), reader.ReadInt64()),
        MetadataRecordType.Topic => new TopicRecord(reader.ReadString(), reader.ReadUuid()),
        MetadataRecordType.Partition => ReadPartition(ref reader),
        MetadataRecordType.Config => ReadConfig(ref reader),
        MetadataRecordType.FenceBroker => new FenceBrokerRecord(reader.ReadInt32(), reader.ReadInt64()),
        MetadataRecordType.UnfenceBroker => new UnfenceBrokerRecord(reader.ReadInt32(), reader.ReadInt64()),
        MetadataRecordType.RemoveTopic => new RemoveTopicRecord(reader.ReadUuid()),
        MetadataRecordType.FeatureLevel => new FeatureLevelRecord(reader.ReadString(), reader.ReadInt16()),
        MetadataRecordType.ProducerIds => new ProducerIdsRecord(reader.ReadInt32(), reader.ReadInt64(), reader.ReadInt64()),
        MetadataRecordType.BrokerRegistrationChange => new BrokerRegistrationChangeRecord(
            reader.ReadInt32(), reader.ReadInt64(), reader.ReadInt8(), reader.ReadInt8()),
        _ => null,
    };

    /// <summary>Reads only the frame header (for diagnostics); false when the frame cannot be parsed.</summary>
    public static bool TryReadFrameHeader(ReadOnlySpan<byte> value, out uint frameVersion, out uint type, out uint version)
    {
        type = version = 0;
        int n = Varint.ReadUnsigned(value, out frameVersion);
        if (n <= 0) return false;
        int m = Varint.ReadUnsigned(value[n..], out type);
        if (m <= 0) return false;
        return Varint.ReadUnsigned(value[(n + m)..], out version) > 0;
    }

    private static void WriteRegisterBroker(RegisterBrokerRecord r, BodyWriter writer)
    {
        writer.WriteInt32(r.BrokerId);
        writer.WriteUuid(r.IncarnationId);
        writer.WriteInt64(r.BrokerEpoch);
        writer.WriteArrayLength(r.Endpoints.Length);
        foreach (var e in r.Endpoints)
        {
            writer.WriteString(e.Name);
            writer.WriteString(e.Host);
            writer.WriteInt16(unchecked((short)(ushort)e.Port));
            writer.WriteInt16(e.SecurityProtocol);
            writer.WriteEmptyTaggedFields();
        }
        writer.WriteNullableString(r.Rack);
        writer.WriteBool(r.Fenced);
    }

    private static RegisterBrokerRecord ReadRegisterBroker(ref BodyReader reader)
    {
        int brokerId = reader.ReadInt32();
        var incarnation = reader.ReadUuid();
        long epoch = reader.ReadInt64();
        int count = reader.ReadArrayLength(minElementSize: 7);
        if (count < 0) throw new MetadataFormatException("RegisterBrokerRecord has a null endpoint array");
        var endpoints = new BrokerEndpoint[count];
        for (int i = 0; i < count; i++)
        {
            string name = reader.ReadString();
            string host = reader.ReadString();
            int port = (ushort)reader.ReadInt16();
            short protocol = reader.ReadInt16();
            reader.SkipTaggedFields();
            endpoints[i] = new BrokerEndpoint(name, host, port, protocol);
        }
        string? rack = reader.ReadNullableString();
        bool fenced = reader.ReadBool();
        return new RegisterBrokerRecord(brokerId, incarnation, epoch, endpoints, rack, fenced);
    }

    /// <summary>Tagged field of PartitionChangeRecord carrying an exact leader epoch (absent = bump on leader change).</summary>
    private const uint LeaderEpochTag = 0;

    private static void WritePartitionChange(PartitionChangeRecord r, BodyWriter writer)
    {
        writer.WriteInt32(r.PartitionId);
        writer.WriteUuid(r.TopicId);
        writer.WriteInt32(r.Leader);
        writer.WriteNullableInt32Array(r.Isr);
        writer.WriteNullableInt32Array(r.Replicas);
        if (r.LeaderEpoch == MetadataConstants.BumpLeaderEpoch)
        {
            writer.WriteEmptyTaggedFields();
            return;
        }
        writer.WriteUVarint(1); // one tagged field
        writer.WriteUVarint(LeaderEpochTag);
        writer.WriteUVarint(4);
        writer.WriteInt32(r.LeaderEpoch);
    }

    private static PartitionChangeRecord ReadPartitionChange(ref BodyReader reader)
    {
        int partitionId = reader.ReadInt32();
        var topicId = reader.ReadUuid();
        int leader = reader.ReadInt32();
        int[]? isr = reader.ReadNullableInt32Array();
        int[]? replicas = reader.ReadNullableInt32Array();
        int leaderEpoch = MetadataConstants.BumpLeaderEpoch;
        uint count = reader.ReadUVarint();
        for (uint i = 0; i < count; i++)
        {
            uint tag = reader.ReadUVarint();
            uint size = reader.ReadUVarint();
            if (tag == LeaderEpochTag)
            {
                if (size != 4) throw new MetadataFormatException($"PartitionChangeRecord LeaderEpoch tag has size {size}, expected 4");
                leaderEpoch = reader.ReadInt32();
                if (leaderEpoch < MetadataConstants.BumpLeaderEpoch)
                    throw new MetadataFormatException($"PartitionChangeRecord has invalid LeaderEpoch {leaderEpoch}");
            }
            else reader.Skip(size, "tagged field");
        }
        return new PartitionChangeRecord(partitionId, topicId, leader, isr, replicas, leaderEpoch);
    }

    private static void WritePartition(PartitionRecord r, BodyWriter writer)
    {
        writer.WriteInt32(r.PartitionId);
        writer.WriteUuid(r.TopicId);
        writer.WriteInt32Array(r.Replicas);
        writer.WriteInt32Array(r.Isr);
        writer.WriteInt32(r.Leader);
        writer.WriteInt32(r.LeaderEpoch);
        writer.WriteInt32(r.PartitionEpoch);
    }

    private static PartitionRecord ReadPartition(ref BodyReader reader) => new(
        reader.ReadInt32(), reader.ReadUuid(), reader.ReadInt32Array(), reader.ReadInt32Array(),
        reader.ReadInt32(), reader.ReadInt32(), reader.ReadInt32());

    private static ConfigRecord ReadConfig(ref BodyReader reader)
    {
        sbyte type = reader.ReadInt8();
        return new ConfigRecord((ConfigResourceType)type, reader.ReadString(), reader.ReadString(), reader.ReadNullableString());
    }
}

using System.Buffers.Binary;

namespace Broker.Core.Records;

/// <summary>
/// A read-only view of the 61-byte header of a Kafka record batch (magic 2). The on-disk format is the wire
/// format, so storage, replication and the Kafka handlers all read batches through this one type.
/// Layout (big-endian): baseOffset:8 batchLength:4 partitionLeaderEpoch:4 magic:1 crc:4 attributes:2
/// lastOffsetDelta:4 baseTimestamp:8 maxTimestamp:8 producerId:8 producerEpoch:2 baseSequence:4 recordsCount:4.
/// </summary>
public readonly struct RecordBatchHeader
{
    public const int Size = 61;
    /// <summary>Bytes before the part that batchLength counts (baseOffset + batchLength).</summary>
    public const int LogOverhead = 12;
    public const int BaseOffsetOffset = 0;
    public const int BatchLengthOffset = 8;
    public const int PartitionLeaderEpochOffset = 12;
    public const int MagicOffset = 16;
    public const int CrcOffset = 17;
    /// <summary>The CRC covers everything from the attributes field to the end of the batch.</summary>
    public const int AttributesOffset = 21;
    public const int LastOffsetDeltaOffset = 23;
    public const int BaseTimestampOffset = 27;
    public const int MaxTimestampOffset = 35;
    public const int ProducerIdOffset = 43;
    public const int ProducerEpochOffset = 51;
    public const int BaseSequenceOffset = 53;
    public const int RecordsCountOffset = 57;

    public const short CompressionMask = 0x07;
    public const short TimestampTypeMask = 0x08;
    public const short TransactionalMask = 0x10;
    public const short ControlMask = 0x20;

    public long BaseOffset { get; }
    public int BatchLength { get; }
    public int PartitionLeaderEpoch { get; }
    public sbyte Magic { get; }
    public uint Crc { get; }
    public short Attributes { get; }
    public int LastOffsetDelta { get; }
    public long BaseTimestamp { get; }
    public long MaxTimestamp { get; }
    public long ProducerId { get; }
    public short ProducerEpoch { get; }
    public int BaseSequence { get; }
    public int RecordsCount { get; }

    private RecordBatchHeader(ReadOnlySpan<byte> b)
    {
        BaseOffset = BinaryPrimitives.ReadInt64BigEndian(b);
        BatchLength = BinaryPrimitives.ReadInt32BigEndian(b[BatchLengthOffset..]);
        PartitionLeaderEpoch = BinaryPrimitives.ReadInt32BigEndian(b[PartitionLeaderEpochOffset..]);
        Magic = (sbyte)b[MagicOffset];
        Crc = BinaryPrimitives.ReadUInt32BigEndian(b[CrcOffset..]);
        Attributes = BinaryPrimitives.ReadInt16BigEndian(b[AttributesOffset..]);
        LastOffsetDelta = BinaryPrimitives.ReadInt32BigEndian(b[LastOffsetDeltaOffset..]);
        BaseTimestamp = BinaryPrimitives.ReadInt64BigEndian(b[BaseTimestampOffset..]);
        MaxTimestamp = BinaryPrimitives.ReadInt64BigEndian(b[MaxTimestampOffset..]);
        ProducerId = BinaryPrimitives.ReadInt64BigEndian(b[ProducerIdOffset..]);
        ProducerEpoch = BinaryPrimitives.ReadInt16BigEndian(b[ProducerEpochOffset..]);
        BaseSequence = BinaryPrimitives.ReadInt32BigEndian(b[BaseSequenceOffset..]);
        RecordsCount = BinaryPrimitives.ReadInt32BigEndian(b[RecordsCountOffset..]);
    }

    /// <summary>Total size of the batch in bytes, header included.</summary>
    public int TotalSize => BatchLength + LogOverhead;
    public long LastOffset => BaseOffset + LastOffsetDelta;
    public CompressionCodec Compression => (CompressionCodec)(Attributes & CompressionMask);
    public bool IsLogAppendTime => (Attributes & TimestampTypeMask) != 0;
    public bool IsTransactional => (Attributes & TransactionalMask) != 0;
    public bool IsControl => (Attributes & ControlMask) != 0;
    public bool HasProducerId => ProducerId >= 0;

    /// <summary>Parses the header if at least <see cref="Size"/> bytes are present; checks nothing else.</summary>
    public static bool TryRead(ReadOnlySpan<byte> batch, out RecordBatchHeader header)
    {
        if (batch.Length < Size) { header = default; return false; }
        header = new RecordBatchHeader(batch);
        return true;
    }

    public static void WriteBaseOffset(Span<byte> batch, long baseOffset) =>
        BinaryPrimitives.WriteInt64BigEndian(batch, baseOffset);

    public static void WritePartitionLeaderEpoch(Span<byte> batch, int epoch) =>
        BinaryPrimitives.WriteInt32BigEndian(batch[PartitionLeaderEpochOffset..], epoch);
}

public enum CompressionCodec : byte
{
    None = 0,
    Gzip = 1,
    Snappy = 2,
    Lz4 = 3,
    Zstd = 4,
}

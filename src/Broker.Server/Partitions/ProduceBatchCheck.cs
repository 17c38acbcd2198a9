using Broker.Core.Model;
using Broker.Core.Records;

namespace Broker.Server.Partitions;

/// <summary>
/// Validates the records of one partition of a Produce request (v3+) before they are appended, with Kafka's error
/// codes (ProduceRequest.validateRecords, UnifiedLog.analyzeAndValidateRecords, LogValidator):
/// no batch / magic != 2 / more than one batch / inconsistent counts / control batch / malformed record →
/// INVALID_RECORD; too short, truncated or CRC mismatch → CORRUPT_MESSAGE; zstd below Produce v7 →
/// UNSUPPORTED_COMPRESSION_TYPE; batch bigger than max.message.bytes → MESSAGE_TOO_LARGE; transactional batch →
/// INVALID_TXN_STATE (no transaction support yet); idempotent batch (producer id set) without a base sequence →
/// INVALID_RECORD. Sequence and epoch rules are the replica's (producer state, checked with the append).
/// Allocation-free on success.
/// </summary>
public static class ProduceBatchCheck
{
    public static ErrorCode Check(ReadOnlySpan<byte> records, short version, int maxMessageBytes, out string? message)
    {
        message = null;
        if (records.IsEmpty)
            return Fail(ErrorCode.InvalidRecord, "produce requests must carry one record batch per partition", out message);
        if (records.Length <= RecordBatchHeader.MagicOffset)
            return Fail(ErrorCode.CorruptMessage, "record batch is truncated", out message);
        if (records[RecordBatchHeader.MagicOffset] != 2)
            return Fail(ErrorCode.InvalidRecord, "only record batches with magic 2 are accepted", out message);
        if (!RecordBatchHeader.TryRead(records, out var header) ||
            header.BatchLength < RecordBatchHeader.Size - RecordBatchHeader.LogOverhead)
            return Fail(ErrorCode.CorruptMessage, "record batch is truncated or has an invalid length", out message);
        if (header.Compression == CompressionCodec.Zstd && version < 7)
            return Fail(ErrorCode.UnsupportedCompressionType, "zstd needs Produce v7 or later", out message);
        if (header.Compression > CompressionCodec.Zstd)
            return Fail(ErrorCode.InvalidRecord, "unknown compression codec", out message);
        if (header.TotalSize > records.Length)
            return Fail(ErrorCode.CorruptMessage, "record batch is truncated", out message);
        if (header.TotalSize < records.Length)
            return Fail(ErrorCode.InvalidRecord, "produce requests must carry exactly one record batch per partition", out message);
        if (header.TotalSize > maxMessageBytes)
            return Fail(ErrorCode.MessageTooLarge, "record batch is larger than max.message.bytes", out message);

        switch (RecordBatchValidator.ValidateOne(records, int.MaxValue, out header))
        {
            case BatchError.None:
                break;
            case BatchError.CrcMismatch:
                return Fail(ErrorCode.CorruptMessage, "record batch CRC mismatch", out message);
            case BatchError.BadRecordCount:
                return Fail(ErrorCode.InvalidRecord, "record batch has an invalid record count", out message);
            default:
                return Fail(ErrorCode.CorruptMessage, "record batch is corrupt", out message);
        }
        if (header.RecordsCount <= 0 || header.RecordsCount != header.LastOffsetDelta + 1L)
            return Fail(ErrorCode.InvalidRecord, "record count does not match the batch's offset range", out message);
        if (header.IsControl)
            return Fail(ErrorCode.InvalidRecord, "clients may not write control batches", out message);
        if (header.HasProducerId && header.BaseSequence < 0)
            return Fail(ErrorCode.InvalidRecord, "idempotent batch without a base sequence", out message);
        if (header.Compression == CompressionCodec.None && !RecordReader.Validate(records, out _))
            return Fail(ErrorCode.InvalidRecord, "malformed record in batch", out message);
        if (header.IsTransactional)
            return Fail(ErrorCode.InvalidTxnState, "transactions are not supported by this broker", out message);
        return ErrorCode.None;
    }

    private static ErrorCode Fail(ErrorCode error, string text, out string? message)
    {
        message = text;
        return error;
    }
}

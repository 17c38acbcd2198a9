using System.Text;
using Broker.Compression;
using Broker.Core.Records;

namespace Broker.Storage.Tests;

/// <summary>One record as read back from a log (key/value as strings, null for null).</summary>
internal readonly record struct KeyedRecord(long Offset, string? Key, string? Value);

/// <summary>Keyed batches and record-level reads for the compaction tests.</summary>
internal static class Keyed
{
    /// <summary>A batch of keyed records (a null value is a tombstone), all at <paramref name="timestamp"/>.</summary>
    public static byte[] Batch(long timestamp, params (string? Key, string? Value)[] records) =>
        Batch(timestamp, -1, -1, -1, records);

    public static byte[] Batch(long timestamp, long producerId, short epoch, int baseSequence, params (string? Key, string? Value)[] records)
    {
        var builder = new RecordBatchBuilder();
        builder.Reset(timestamp, producerId, epoch, baseSequence);
        foreach (var (key, value) in records)
        {
            builder.Add(timestamp, key is null ? default : Encoding.UTF8.GetBytes(key),
                value is null ? default : Encoding.UTF8.GetBytes(value), keyIsNull: key is null, valueIsNull: value is null);
        }
        return builder.ToArray();
    }

    /// <summary>The same batch compressed with <paramref name="codec"/> (a real codec stream).</summary>
    public static byte[] Compressed(byte[] batch, CompressionCodec codec) => RecordBatchCompression.Compress(batch, codec);

    /// <summary>The same batch marked as gzip-compressed without compressing it: a body no codec can decode.</summary>
    public static byte[] AsUndecodable(byte[] batch)
    {
        var copy = (byte[])batch.Clone();
        copy[RecordBatchHeader.AttributesOffset + 1] |= (byte)CompressionCodec.Gzip;
        RecordBatchValidator.RewriteCrc(copy);
        return copy;
    }

    /// <summary>Every record of every batch from <paramref name="offset"/> (compressed ones decompressed), batches
    /// CRC-checked. <paramref name="skipUndecodable"/>: leave out compressed batches that do not decompress.</summary>
    public static List<KeyedRecord> ReadRecords(IPartitionLog log, long offset = 0, bool skipUndecodable = false) =>
        RecordsOf(LogTestBase.ReadAll(log, Math.Max(offset, log.LogStartOffset)), skipUndecodable);

    public static List<KeyedRecord> RecordsOf(byte[] bytes, bool skipUndecodable = false)
    {
        var result = new List<KeyedRecord>();
        int pos = 0;
        foreach (var header in BatchBuilder.ParseValid(bytes))
        {
            var batch = bytes.AsSpan(pos, header.TotalSize);
            pos += header.TotalSize;
            if (header.Compression != CompressionCodec.None)
            {
                try
                {
                    batch = RecordBatchCompression.Decompress(batch);
                }
                catch (CompressionException) when (skipUndecodable)
                {
                    continue;
                }
            }
            var reader = new RecordReader(batch);
            while (reader.TryRead(out var r))
            {
                result.Add(new KeyedRecord(r.Offset, r.KeyIsNull ? null : Encoding.UTF8.GetString(r.Key),
                    r.ValueIsNull ? null : Encoding.UTF8.GetString(r.Value)));
            }
        }
        return result;
    }

    /// <summary>(base offset, last offset delta, leader epoch, producer id, producer epoch, base sequence, attributes,
    /// base and max timestamp) of every batch: what compaction must never change.</summary>
    public static List<(long, int, int, long, short, int, short, long, long)> Shapes(IPartitionLog log) =>
        BatchBuilder.ParseValid(LogTestBase.ReadAll(log, log.LogStartOffset))
            .Select(h => (h.BaseOffset, h.LastOffsetDelta, h.PartitionLeaderEpoch, h.ProducerId, h.ProducerEpoch,
                h.BaseSequence, h.Attributes, h.BaseTimestamp, h.MaxTimestamp))
            .ToList();
}

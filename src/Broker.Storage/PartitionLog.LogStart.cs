using System.Buffers.Binary;
using Broker.Core.Hashing;

namespace Broker.Storage;

/// <summary>
/// Kafka's log start offset inside a segment (DeleteRecords): <see cref="_logStartFloor"/> is the offset below which
/// records were deleted; the effective log start is the larger of it and the oldest segment's base offset, capped
/// at the log end. It is persisted in `log-start-offset` in the partition directory (written with a temporary file,
/// fsync and rename before the new value becomes visible, so neither a restart nor kill -9 brings deleted records
/// back). Layout, big-endian: magic "LSO1", offset:i64, crc32c:u32 of the first 12 bytes. Segments wholly below the
/// log start are deleted by retention; a stale file whose offset is below the oldest segment is simply outvoted.
/// </summary>
public sealed partial class PartitionLog
{
    public const string LogStartFileName = "log-start-offset";
    private const uint LogStartMagic = 0x4C534F31; // "LSO1"
    private const int LogStartFileSize = 16;

    /// <summary>Offsets below this were deleted by DeleteRecords (0 when never used). Written under the lock.</summary>
    private long _logStartFloor;

    private string LogStartPath => Path.Combine(Directory, LogStartFileName);

    /// <summary>The log start offset for a segment list and end offset read together.</summary>
    private long EffectiveStart(Segment[] segments, long end) =>
        Math.Max(segments[0].BaseOffset, Math.Min(Volatile.Read(ref _logStartFloor), end));

    public bool AdvanceLogStartOffset(long newStartOffset)
    {
        lock (_writeLock)
        {
            ThrowIfDisposed();
            if (newStartOffset > _logEndOffset)
                throw new ArgumentOutOfRangeException(nameof(newStartOffset),
                    $"{Partition}: log start offset {newStartOffset} is beyond the log end offset {_logEndOffset}");
            if (newStartOffset <= LogStartOffset) return false;
            WriteLogStartFile(newStartOffset); // durable before any reader can see the new start
            Volatile.Write(ref _logStartFloor, newStartOffset);
            Logger.Info($"{Partition}: log start offset moved to {newStartOffset} (records below it are deleted)");
            return true;
        }
    }

    /// <summary>On open: the persisted floor; a missing file is 0, a damaged one is reported and ignored.</summary>
    private void LoadLogStartFile()
    {
        string path = LogStartPath;
        if (!File.Exists(path)) return;
        try
        {
            byte[] data = File.ReadAllBytes(path);
            if (data.Length != LogStartFileSize || BinaryPrimitives.ReadUInt32BigEndian(data) != LogStartMagic
                || Crc32C.Compute(data.AsSpan(0, 12)) != BinaryPrimitives.ReadUInt32BigEndian(data.AsSpan(12)))
                throw new InvalidDataException($"{path} is damaged ({data.Length} bytes, bad magic or checksum)");
            long offset = BinaryPrimitives.ReadInt64BigEndian(data.AsSpan(4));
            if (offset < 0) throw new InvalidDataException($"{path} holds a negative offset {offset}");
            _logStartFloor = offset;
            if (offset > _logEndOffset)
                Logger.Warn($"{Partition}: log start offset {offset} is beyond the recovered log end {_logEndOffset}; " +
                            "offsets below it stay deleted as the log grows back");
        }
        catch (Exception ex) when (ex is IOException or InvalidDataException or UnauthorizedAccessException)
        {
            Logger.Error($"{Partition}: ignoring the log start offset checkpoint: {ex.Message}");
        }
    }

    /// <summary>Makes <paramref name="offset"/> the persisted floor (temp file, fsync, rename, directory fsync). Under the lock.</summary>
    private void WriteLogStartFile(long offset)
    {
        var data = new byte[LogStartFileSize];
        BinaryPrimitives.WriteUInt32BigEndian(data, LogStartMagic);
        BinaryPrimitives.WriteInt64BigEndian(data.AsSpan(4), offset);
        BinaryPrimitives.WriteUInt32BigEndian(data.AsSpan(12), Crc32C.Compute(data.AsSpan(0, 12)));
        DurableFile.WriteAtomic(LogStartPath, data);
    }

    /// <summary>
    /// A full reset restarts the log at <paramref name="newStartOffset"/>: a persisted floor is rewritten first, so a
    /// crash in the middle of the reset cannot expose records the old floor hid. Under the lock.
    /// </summary>
    private void ResetLogStartFloor(long newStartOffset)
    {
        if (File.Exists(LogStartPath)) WriteLogStartFile(newStartOffset);
        Volatile.Write(ref _logStartFloor, newStartOffset);
    }
}

using Broker.Core.Model;

namespace Broker.Server.Partitions;

/// <summary>The free-space floor of the produce path (storage.min.free.bytes), see <see cref="DiskSpaceGuard"/>.</summary>
public sealed partial class PartitionManager
{
    private DiskSpaceGuard? _diskSpace;

    /// <summary>The guard of the log directory; null when storage.min.free.bytes is 0 (no floor).</summary>
    public DiskSpaceGuard? DiskSpace
    {
        get => Volatile.Read(ref _diskSpace);
        set => Volatile.Write(ref _diskSpace, value);
    }

    /// <summary>Sets the floor for the log directory of this manager's logs (0 or less: none).</summary>
    public void SetStorageMinFreeBytes(long minFreeBytes) =>
        DiskSpace = minFreeBytes > 0 ? new DiskSpaceGuard(_logs.LogDir, minFreeBytes) : null;

    /// <summary>
    /// Called by produce before appending <paramref name="bytes"/>: NONE, or KAFKA_STORAGE_ERROR with the reason
    /// when the log directory is below its free-space floor. Cheap: no system call unless a new reading is due.
    /// </summary>
    public ErrorCode CheckFreeSpace(long bytes, out string? message)
    {
        var guard = DiskSpace;
        if (guard is null || guard.TryAdmit(bytes, out message))
        {
            message = null;
            return ErrorCode.None;
        }
        return ErrorCode.KafkaStorageError;
    }
}

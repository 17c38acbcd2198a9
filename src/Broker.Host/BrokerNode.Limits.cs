using Broker.Storage;

namespace Broker.Host;

// Limits of a node with many partitions (docs/limits.md): the open-files soft limit raised to the hard limit, the
// idle sweep that bounds the segment write handles (one fd each) and mappings the logs keep open, sized from those
// limits, and the produce floor on free space (storage.min.free.bytes).
public sealed partial class BrokerNode
{
    private void ApplyStorageLimits()
    {
        var (soft, hard) = ProcessLimits.RaiseOpenFilesLimit();
        long maxMaps = ProcessLimits.MaxMapCount();
        var policy = new IdleHandlePolicy
        {
            // An eighth of the fd limit for segment writers leaves the rest to sockets and short-lived opens.
            MaxOpenWriters = soft > 0 ? (int)Math.Clamp(soft / 8, 64, 2048) : IdleHandlePolicy.Default.MaxOpenWriters,
            // A quarter of vm.max_map_count for segment mappings (the runtime and libraries use a few hundred), and
            // at most a quarter of the fd limit: a mapping that a plaintext fetch sent with sendfile also holds the
            // segment's read handle until it is unmapped.
            MaxMappedSegments = MappingCap(soft, maxMaps),
        };
        _logs!.StartIdleSweeper(policy);
        Logger.Info($"open files limit {Describe(soft)} (hard {Describe(hard)}), vm.max_map_count {Describe(maxMaps)}: at most " +
                    $"{policy.MaxOpenWriters} segment write handles and {policy.MaxMappedSegments} segment mappings kept open, " +
                    $"idle ones closed after {policy.IdleTimeout.TotalSeconds:F0} s");
        if (Config.IsBroker)
        {
            _partitions!.SetStorageMinFreeBytes(Config.StorageMinFreeBytes);
            if (Config.StorageMinFreeBytes > 0)
                Logger.Info($"produce is refused while {_logs.LogDir} has less than {Config.StorageMinFreeBytes} bytes free (storage.min.free.bytes)");
        }
    }

    private static int MappingCap(long openFilesLimit, long maxMapCount)
    {
        long cap = maxMapCount > 0 ? maxMapCount / 4 : IdleHandlePolicy.Default.MaxMappedSegments;
        if (openFilesLimit > 0) cap = Math.Min(cap, openFilesLimit / 4);
        return (int)Math.Clamp(cap, 256, 65536);
    }

    private static string Describe(long value) => value < 0 ? "unknown" : value.ToString(System.Globalization.CultureInfo.InvariantCulture);
}

using System.Globalization;
using System.Runtime.InteropServices;

namespace Broker.Host;

/// <summary>
/// Process resource limits that bound how many partitions one node can hold: the open-files limit (RLIMIT_NOFILE,
/// raised from its soft to its hard value at start-up, as Kafka's and Redpanda's service units do) and the kernel's
/// cap on memory mappings (vm.max_map_count). Linux only; elsewhere the readings are unknown (-1).
/// </summary>
internal static partial class ProcessLimits
{
    private const int RlimitNoFile = 7; // RLIMIT_NOFILE on Linux (x64 and arm64)
    private const string MaxMapCountPath = "/proc/sys/vm/max_map_count";

    [StructLayout(LayoutKind.Sequential)]
    private struct RLimit
    {
        public ulong Current;
        public ulong Maximum;
    }

    /// <summary>
    /// Raises the soft open-files limit to the hard one. Returns the (soft, hard) limits in force afterwards, -1 when
    /// unknown; a refusal leaves the soft limit as it was.
    /// </summary>
    public static (long Soft, long Hard) RaiseOpenFilesLimit()
    {
        if (!OperatingSystem.IsLinux()) return (-1, -1);
        if (GetRLimit(RlimitNoFile, out var limit) != 0) return (-1, -1);
        if (limit.Current < limit.Maximum)
        {
            var raised = new RLimit { Current = limit.Maximum, Maximum = limit.Maximum };
            if (SetRLimit(RlimitNoFile, in raised) == 0) limit = raised;
        }
        return (Clamp(limit.Current), Clamp(limit.Maximum));
    }

    /// <summary>vm.max_map_count, or -1 when it cannot be read.</summary>
    public static long MaxMapCount()
    {
        try
        {
            return long.TryParse(File.ReadAllText(MaxMapCountPath).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out long value)
                ? value
                : -1;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return -1;
        }
    }

    private static long Clamp(ulong value) => value > long.MaxValue ? long.MaxValue : (long)value;

    [LibraryImport("libc.so.6", EntryPoint = "getrlimit", SetLastError = true)]
    private static partial int GetRLimit(int resource, out RLimit limit);

    [LibraryImport("libc.so.6", EntryPoint = "setrlimit", SetLastError = true)]
    private static partial int SetRLimit(int resource, in RLimit limit);
}

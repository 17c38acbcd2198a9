using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Broker.Core.Metrics;

// Process and runtime basics, read when scraped: the standard process_* names of Prometheus client libraries
// (public), broker_uptime_seconds (public) and dotnet_* runtime figures (full /metrics only).
public static partial class BrokerMeters
{
    private const string FdDirectory = "/proc/self/fd";
    private const string LimitsFile = "/proc/self/limits";

    private static readonly KeyValuePair<string, object?>[] s_generationTags =
    [
        new("generation", "0"), new("generation", "1"), new("generation", "2"),
    ];

    /// <summary>Process start, Unix seconds (read once).</summary>
    public static double ProcessStartTimeSeconds { get; } = ReadStartTime();

    private static void CreateProcessInstruments()
    {
        Meter.CreateObservableCounter("process_cpu_seconds_total", static () => Environment.CpuUsage.TotalTime.TotalSeconds,
            "s", "Total user and system CPU time spent, in seconds.", PublicTags);
        Meter.CreateObservableGauge("process_resident_memory_bytes", static () => Environment.WorkingSet,
            "By", "Resident memory size, in bytes.", PublicTags);
        Meter.CreateObservableGauge("process_start_time_seconds", static () => ProcessStartTimeSeconds,
            "s", "Start time of the process since the Unix epoch, in seconds.", PublicTags);
        Meter.CreateObservableGauge("process_open_fds", static () => OpenFileDescriptors(),
            null, "Open file descriptors (Linux).", PublicTags);
        Meter.CreateObservableGauge("process_max_fds", static () => MaxFileDescriptors(),
            null, "Soft limit of open file descriptors (Linux).", PublicTags);
        Meter.CreateObservableGauge("broker_uptime_seconds",
            static () => Math.Round(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0 - ProcessStartTimeSeconds, 3),
            "s", "Seconds since the broker process started.", PublicTags);

        Meter.CreateObservableGauge("dotnet_gc_heap_bytes", static () => GC.GetTotalMemory(false),
            "By", "Bytes currently thought to be allocated on the managed heap.");
        Meter.CreateObservableCounter("dotnet_gc_allocated_bytes_total", static () => GC.GetTotalAllocatedBytes(false),
            "By", "Bytes allocated on the managed heap since the process started.");
        Meter.CreateObservableCounter("dotnet_gc_collections_total", static () => GcCollections(),
            null, "Garbage collections since the process started, by generation.");
        Meter.CreateObservableCounter("dotnet_gc_pause_seconds_total", static () => GC.GetTotalPauseDuration().TotalSeconds,
            "s", "Total time the runtime was paused for garbage collection.");
        Meter.CreateObservableGauge("dotnet_threadpool_threads", static () => ThreadPool.ThreadCount,
            null, "Thread-pool threads.");
        Meter.CreateObservableGauge("dotnet_threadpool_queue_length", static () => ThreadPool.PendingWorkItemCount,
            null, "Work items queued to the thread pool and not started yet.");
    }

    private static Measurement<long>[] GcCollections() =>
    [
        new(GC.CollectionCount(0), s_generationTags[0]),
        new(GC.CollectionCount(1), s_generationTags[1]),
        new(GC.CollectionCount(2), s_generationTags[2]),
    ];

    private static double ReadStartTime()
    {
        try
        {
            using var self = Process.GetCurrentProcess();
            return new DateTimeOffset(self.StartTime.ToUniversalTime()).ToUnixTimeMilliseconds() / 1000.0;
        }
        catch (Exception ex) when (ex is InvalidOperationException or NotSupportedException or System.ComponentModel.Win32Exception)
        {
            return DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0;
        }
    }

    /// <summary>Entries of /proc/self/fd; nothing on systems without it.</summary>
    private static IEnumerable<Measurement<long>> OpenFileDescriptors()
    {
        if (!Directory.Exists(FdDirectory)) return [];
        try
        {
            long count = 0;
            foreach (var _ in Directory.EnumerateFileSystemEntries(FdDirectory)) count++;
            return [new Measurement<long>(count)];
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    /// <summary>The soft "Max open files" limit from /proc/self/limits; nothing when absent or unlimited.</summary>
    private static IEnumerable<Measurement<long>> MaxFileDescriptors()
    {
        try
        {
            if (!File.Exists(LimitsFile)) return [];
            foreach (var line in File.ReadLines(LimitsFile))
            {
                if (!line.StartsWith("Max open files", StringComparison.Ordinal)) continue;
                var fields = line["Max open files".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (fields.Length > 0 && long.TryParse(fields[0], out long soft)) return [new Measurement<long>(soft)];
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }
        return [];
    }
}

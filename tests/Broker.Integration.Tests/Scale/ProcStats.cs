using System.Globalization;

namespace Broker.Integration.Tests.Scale;

/// <summary>
/// Resource figures of a running process read from /proc: open file descriptors, memory mappings, resident memory
/// and CPU time (utime + stime, in clock ticks of 100 Hz, the Linux USER_HZ).
/// </summary>
internal static class ProcStats
{
    private const double TicksPerSecond = 100.0;

    public static int OpenFds(int pid) => Directory.GetFileSystemEntries($"/proc/{pid}/fd").Length;

    public static int Mappings(int pid)
    {
        int lines = 0;
        foreach (string _ in File.ReadLines($"/proc/{pid}/maps")) lines++;
        return lines;
    }

    /// <summary>Resident set size in MiB (VmRSS of /proc/pid/status).</summary>
    public static double RssMiB(int pid)
    {
        foreach (string line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (!line.StartsWith("VmRSS:", StringComparison.Ordinal)) continue;
            string[] parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            return long.Parse(parts[1], CultureInfo.InvariantCulture) / 1024.0;
        }
        return -1;
    }

    /// <summary>CPU seconds (user + system) the process used so far.</summary>
    public static double CpuSeconds(int pid)
    {
        string stat = File.ReadAllText($"/proc/{pid}/stat");
        // Fields after the command name (in parentheses, which may contain spaces): state is field 3, utime 14, stime 15.
        string[] rest = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        long utime = long.Parse(rest[11], CultureInfo.InvariantCulture);
        long stime = long.Parse(rest[12], CultureInfo.InvariantCulture);
        return (utime + stime) / TicksPerSecond;
    }

    /// <summary>Average CPU use in percent of one core over <paramref name="window"/>.</summary>
    public static async Task<double> CpuPercentAsync(int pid, TimeSpan window)
    {
        double before = CpuSeconds(pid);
        var sw = System.Diagnostics.Stopwatch.StartNew();
        await Task.Delay(window);
        double after = CpuSeconds(pid);
        return (after - before) / sw.Elapsed.TotalSeconds * 100.0;
    }

    public static string Describe(int pid) =>
        $"fds {OpenFds(pid)}, mappings {Mappings(pid)}, RSS {RssMiB(pid):F0} MiB, CPU so far {CpuSeconds(pid):F1} s";
}

using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Broker.Benchmarks.ZeroCopy;

/// <summary>
/// `--zerocopy-cpu`: runs every send path for a fixed time per round (paths interleaved, several rounds, because the
/// machine is shared) and prints a Markdown table of throughput and CPU seconds per GB: for the whole process and for
/// the sending side alone (process CPU minus the draining thread's). Options: --seconds S (3), --rounds R (3),
/// --regions 65536,1048576, --paths Copy,Mmap,... (all), --out FILE (also write the table there).
/// </summary>
public static class ZeroCopyCpuRunner
{
    private readonly record struct Sample(double MbPerSecond, double CpuSecondsPerGb, double SenderCpuSecondsPerGb, double AllocatedPerOp);

    public static int Run(ReadOnlySpan<string> args)
    {
        double seconds = 3;
        int rounds = 3;
        int[] regions = [64 * 1024, 1024 * 1024];
        SendPath[] paths = Enum.GetValues<SendPath>();
        string? output = null;
        for (int i = 0; i + 1 < args.Length; i += 2)
        {
            string value = args[i + 1];
            switch (args[i])
            {
                case "--seconds": seconds = double.Parse(value, CultureInfo.InvariantCulture); break;
                case "--rounds": rounds = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--regions": regions = Array.ConvertAll(value.Split(','), s => int.Parse(s, CultureInfo.InvariantCulture)); break;
                case "--paths": paths = Array.ConvertAll(value.Split(','), s => Enum.Parse<SendPath>(s, ignoreCase: true)); break;
                case "--out": output = value; break;
                default:
                    Console.Error.WriteLine($"unknown option {args[i]}");
                    return 2;
            }
        }

        var samples = new Dictionary<(SendPath, int), List<Sample>>();
        for (int round = 1; round <= rounds; round++)
        {
            foreach (int region in regions)
            {
                foreach (SendPath path in paths)
                {
                    Sample s = Measure(path, region, seconds);
                    if (!samples.TryGetValue((path, region), out var list)) samples[(path, region)] = list = new();
                    list.Add(s);
                    Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"round {round} {path,-20} {region / 1024,5} KiB: {s.MbPerSecond,8:F0} MB/s, {s.CpuSecondsPerGb:F3} CPU s/GB (sender {s.SenderCpuSecondsPerGb:F3}), {s.AllocatedPerOp:F0} B allocated/op"));
                }
            }
        }

        string table = Format(samples, regions, paths, seconds, rounds);
        Console.WriteLine(table);
        if (output is not null) File.WriteAllText(output, table);
        return 0;
    }

    private static Sample Measure(SendPath path, int region, double seconds)
    {
        using var fixture = new SendPathFixture(path);
        // Warm-up: JIT, socket buffers autotuning, page cache.
        long sent = 0;
        var warm = Stopwatch.StartNew();
        while (warm.Elapsed.TotalSeconds < 0.5)
        {
            fixture.SendAsync(fixture.NextOffset(region), region).AsTask().GetAwaiter().GetResult();
            sent += region;
        }
        fixture.WaitReceived(sent);

        var process = Process.GetCurrentProcess();
        process.Refresh();
        TimeSpan cpuStart = process.TotalProcessorTime;
        TimeSpan receiverStart = fixture.ReceiverCpu;
        long allocatedStart = GC.GetTotalAllocatedBytes(precise: true);
        long startBytes = sent;
        long ops = 0;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed.TotalSeconds < seconds)
        {
            for (int i = 0; i < 16; i++)
            {
                ValueTask send = fixture.SendAsync(fixture.NextOffset(region), region);
                if (!send.IsCompletedSuccessfully) send.AsTask().GetAwaiter().GetResult();
                sent += region;
                ops++;
            }
        }
        fixture.WaitReceived(sent);
        double elapsed = clock.Elapsed.TotalSeconds;
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedStart;
        process.Refresh();
        double cpu = (process.TotalProcessorTime - cpuStart).TotalSeconds;
        double receiverCpu = (fixture.ReceiverCpu - receiverStart).TotalSeconds;
        double gb = (sent - startBytes) / 1e9;
        return new Sample((sent - startBytes) / elapsed / 1e6, cpu / gb, (cpu - receiverCpu) / gb, (double)allocated / ops);
    }

    private static string Format(Dictionary<(SendPath, int), List<Sample>> samples, int[] regions, SendPath[] paths,
        double seconds, int rounds)
    {
        var sb = new StringBuilder();
        var inv = CultureInfo.InvariantCulture;
        sb.AppendLine(inv, $"Send paths, {seconds:F1} s per run, {rounds} rounds (median, [min–max] of MB/s); CPU = process CPU seconds per 10^9 bytes sent; sender = process minus the draining thread.");
        sb.AppendLine();
        sb.AppendLine("| region | path | MB/s median | MB/s range | CPU s/GB | sender CPU s/GB | alloc B/op |");
        sb.AppendLine("|---|---|---:|---|---:|---:|---:|");
        foreach (int region in regions)
        {
            foreach (SendPath path in paths)
            {
                var list = samples[(path, region)];
                double[] mb = list.Select(s => s.MbPerSecond).Order().ToArray();
                sb.AppendLine(inv, $"| {region / 1024} KiB | {path} | {Median(mb):F0} | {mb[0]:F0}–{mb[^1]:F0} | {Median(list.Select(s => s.CpuSecondsPerGb)):F3} | {Median(list.Select(s => s.SenderCpuSecondsPerGb)):F3} | {Median(list.Select(s => s.AllocatedPerOp)):F0} |");
            }
        }
        return sb.ToString();
    }

    private static double Median(IEnumerable<double> values)
    {
        double[] sorted = values.Order().ToArray();
        int n = sorted.Length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }
}

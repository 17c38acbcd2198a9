using BenchmarkDotNet.Running;
using Broker.Benchmarks.ZeroCopy;

namespace Broker.Benchmarks;

/// <summary>
/// Entry point. `dotnet run -c Release --project perf/Broker.Benchmarks --artifacts-path /tmp/art-bdn -- --filter '*'`
/// runs BenchmarkDotNet's switcher with <see cref="BenchConfig"/>; `-- --zerocopy-cpu [options]` runs the CPU-time
/// measurement of the fetch send paths instead (<see cref="ZeroCopyCpuRunner"/>).
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "--zerocopy-cpu") return ZeroCopyCpuRunner.Run(args.AsSpan(1));
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, BenchConfig.Create());
        return 0;
    }
}

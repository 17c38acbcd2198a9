using BenchmarkDotNet.Running;

namespace Broker.Benchmarks;

/// <summary>Entry point: `dotnet run -c Release --project perf/Broker.Benchmarks -- --filter '*'` (BenchmarkDotNet's switcher).</summary>
public static class Program
{
    public static void Main(string[] args) => BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
}

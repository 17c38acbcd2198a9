using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Environments;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace Broker.Benchmarks;

/// <summary>
/// The suite's BenchmarkDotNet configuration: a short job (1 launch, 3 warmup + 3 measured iterations) so everything
/// runs in minutes on 2 cores, in-process (BenchmarkDotNet's default toolchain would build a generated project and
/// write obj/ next to the sources, which parallel builds in this repository must not do), the MB/s column, and
/// artifacts (logs, markdown export) outside the source tree unless --artifacts says otherwise.
/// </summary>
public static class BenchConfig
{
    public static readonly string DefaultArtifactsPath = Path.Combine(Path.GetTempPath(), "broker-bdn");

    public static IConfig Create() =>
        DefaultConfig.Instance
            .AddJob(Job.ShortRun.WithToolchain(InProcessEmitToolchain.Instance).WithRuntime(CurrentRuntime()).WithId("ShortRun-InProcess"))
            .AddColumn(new ThroughputColumn())
            .WithArtifactsPath(DefaultArtifactsPath)
            .WithOptions(ConfigOptions.DisableLogFile);

    /// <summary>
    /// The runtime this process runs on (RollForward may put it on a newer .NET than the target), named explicitly so
    /// the summary says which one measured.
    /// </summary>
    private static CoreRuntime CurrentRuntime()
    {
        var v = Environment.Version;
        return CoreRuntime.CreateForNewVersion($"net{v.Major}.{v.Minor}", $".NET {v.Major}.{v.Minor}");
    }
}

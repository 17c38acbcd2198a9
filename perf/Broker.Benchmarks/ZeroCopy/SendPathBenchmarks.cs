using BenchmarkDotNet.Attributes;

namespace Broker.Benchmarks.ZeroCopy;

/// <summary>
/// Fetch send paths: one operation moves one region (64 KiB or 1 MiB, at varying offsets) of a 64 MiB page-cached
/// file to a loopback TCP socket that a thread drains. Copy (pread + send) is the baseline; Mmap/MmapAsync send from
/// mapped pages (the broker's path); Sendfile/SendfileNonBlocking call sendfile(2); SendPackets is .NET's
/// Socket.SendPacketsAsync over a FileStream. MB/s is in the summary's MB/s column; CPU per GB comes from the
/// `--zerocopy-cpu` mode of Program (BenchmarkDotNet has no CPU-time diagnoser on Linux, and its ThreadingDiagnoser
/// refuses to run on .NET 10, which this machine runs the net9.0 build on).
/// </summary>
[MemoryDiagnoser]
public class SendPathBenchmarks
{
    private SendPathFixture? _fixture;

    [Params(64 * 1024, 1024 * 1024)]
    public int RegionBytes { get; set; }

    [ParamsAllValues]
    public SendPath Path { get; set; }

    [GlobalSetup]
    public void Setup() => _fixture = new SendPathFixture(Path);

    [GlobalCleanup]
    public void Cleanup() => _fixture?.Dispose();

    [Benchmark]
    [OperationBytes(Parameter = nameof(RegionBytes))]
    public ValueTask Send()
    {
        var f = _fixture!;
        return f.SendAsync(f.NextOffset(RegionBytes), RegionBytes);
    }
}

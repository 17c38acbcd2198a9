using BenchmarkDotNet.Attributes;
using Broker.Core.Diagnostics;
using Broker.Storage;

namespace Broker.Benchmarks.Storage;

/// <summary>Records per batch and value bytes per record; MB/s counts the values (payload).</summary>
public sealed record BatchShape(int Records, int ValueBytes) : IOperationBytes
{
    public long OperationBytes => (long)Records * ValueBytes;

    public override string ToString() =>
        ValueBytes % 1024 == 0 ? $"{Records}x{ValueBytes / 1024}KiB" : $"{Records}x{ValueBytes}B";
}

/// <summary>
/// PartitionLog.Append of one already validated, uncompressed batch per operation, into a log on a temporary
/// directory (the machine's ext4 disk, page cache, no fsync: write.caching as by default): 100 × 1 KiB records and
/// 10 × 100 B records per batch. 64 MiB segments; retention (by bytes) runs every 1024 appends so the run's disk
/// use stays bounded, and its cost is part of the figure. MB/s = record values appended per second.
/// </summary>
[MemoryDiagnoser]
public class AppendBenchmarks
{
    private TempLog? _log;
    private byte[] _batch = [];
    private int _appends;

    public static IEnumerable<BatchShape> Shapes => [new(100, 1024), new(10, 100)];

    [ParamsSource(nameof(Shapes))]
    public BatchShape Shape { get; set; } = new(100, 1024);

    [GlobalSetup]
    public void Setup()
    {
        _batch = SampleData.Batch(Shape.Records, Shape.ValueBytes);
        _log = new TempLog(new LogOptions { SegmentBytes = 64L << 20, RetentionBytes = 256L << 20 }, "append");
    }

    [GlobalCleanup]
    public void Cleanup() => _log?.Dispose();

    [Benchmark]
    [OperationBytes(Parameter = nameof(Shape))]
    public long Append()
    {
        var log = _log!.Log;
        var info = log.Append(_batch, leaderEpoch: 1);
        if ((++_appends & 1023) == 0) log.ApplyRetention(SystemClock.Instance.UnixTimeMilliseconds);
        return info.LastOffset;
    }
}

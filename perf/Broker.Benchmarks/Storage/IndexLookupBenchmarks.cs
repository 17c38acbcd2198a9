using BenchmarkDotNet.Attributes;
using Broker.Storage;

namespace Broker.Benchmarks.Storage;

/// <summary>
/// Sparse index lookups of one segment, in memory as the broker keeps them: OffsetIndex.Lookup (offset → file
/// position, every fetch) and TimeIndex.LookupStartOffset (timestamp → offset, ListOffsets by time). Entries: 1,024
/// (a 4 MiB segment at index.interval.bytes 4096) and 262,144 (a full 1 GiB segment). Each operation does 1,024
/// lookups at random keys; the table shows the time of one lookup.
/// </summary>
public class IndexLookupBenchmarks
{
    private const int LookupsPerOperation = 1024;
    private const long BaseOffset = 1_000_000;
    private const long BaseTimestamp = 1_790_000_000_000;
    private string _directory = "";
    private OffsetIndex? _offsets;
    private TimeIndex? _times;
    private long[] _offsetKeys = [];
    private long[] _timeKeys = [];

    [Params(1024, 262_144)]
    public int Entries { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _directory = Path.Combine(Path.GetTempPath(), $"bench-index-{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(_directory);
        // In-memory indexes (never opened for append, so nothing is written to these paths).
        _offsets = new OffsetIndex(IndexFile<OffsetEntry>.CreateEmpty(Path.Combine(_directory, "0.index")), BaseOffset);
        _times = new TimeIndex(IndexFile<TimeEntry>.CreateEmpty(Path.Combine(_directory, "0.timeindex")), BaseOffset);
        var rng = new Random(3);
        long offset = BaseOffset;
        long timestamp = BaseTimestamp;
        for (int i = 0; i < Entries; i++)
        {
            _offsets.Append(offset, i * 4096);
            _times.MaybeAppend(timestamp, offset);
            offset += 4 + rng.Next(8);      // ~4 KiB of 1 KiB records between entries
            timestamp += 1 + rng.Next(20);
        }
        _offsetKeys = new long[LookupsPerOperation];
        _timeKeys = new long[LookupsPerOperation];
        for (int i = 0; i < LookupsPerOperation; i++)
        {
            _offsetKeys[i] = BaseOffset + rng.NextInt64(offset - BaseOffset);
            _timeKeys[i] = BaseTimestamp + rng.NextInt64(timestamp - BaseTimestamp);
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _offsets?.Dispose();
        _times?.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    [Benchmark(OperationsPerInvoke = LookupsPerOperation)]
    public long OffsetLookup()
    {
        long sum = 0;
        var index = _offsets!;
        foreach (long key in _offsetKeys) sum += index.Lookup(key);
        return sum;
    }

    [Benchmark(OperationsPerInvoke = LookupsPerOperation)]
    public long TimeLookup()
    {
        long sum = 0;
        var index = _times!;
        foreach (long key in _timeKeys) sum += index.LookupStartOffset(key);
        return sum;
    }
}

using System.Buffers.Binary;
using BenchmarkDotNet.Attributes;
using Broker.Core.Records;
using Broker.Storage;

namespace Broker.Benchmarks.Storage;

/// <summary>
/// PartitionLog.Read (the zero-copy fetch read: index lookup, batch-header scan, a lease on the mapped segment; no
/// bytes are copied) over a 256 MiB log of 16 × 1 KiB-record batches (about 16.6 KB each, a producer's default
/// batch.size) in 64 MiB segments, in the page cache. Random: any offset of the log; Sequential: a consumer reading
/// on from where the previous read ended. MaxBytes is the fetch's partition limit (a read returns whole batches up
/// to it).
/// </summary>
[MemoryDiagnoser]
public class ReadBenchmarks
{
    private const long LogBytes = 256L << 20;
    private TempLog? _log;
    private Random _rng = new(1);
    private long _cursor;
    private long _end;

    [Params(64 * 1024, 1024 * 1024)]
    public int MaxBytes { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _log = new TempLog(new LogOptions { SegmentBytes = 64L << 20 }, "read");
        byte[] batch = SampleData.Batch(16, 1024);
        for (long written = 0; written < LogBytes; written += batch.Length) _log.Log.Append(batch, leaderEpoch: 1);
        _end = _log.Log.LogEndOffset;
        _rng = new Random(1);
        _cursor = 0;
        // Map every segment and warm the page cache once.
        for (long offset = 0; offset < _end;)
        {
            using var r = _log.Log.Read(offset, 8 << 20, _end, minOneBatch: true);
            offset = NextOffsetAfter(r.Records.Span, offset + 1);
        }
    }

    [GlobalCleanup]
    public void Cleanup() => _log?.Dispose();

    [Benchmark]
    public int RandomOffset()
    {
        long offset = _rng.NextInt64(_end);
        using var result = _log!.Log.Read(offset, MaxBytes, _end, minOneBatch: true);
        return result.Records.Length;
    }

    [Benchmark]
    public int Sequential()
    {
        using var result = _log!.Log.Read(_cursor, MaxBytes, _end, minOneBatch: true);
        long next = NextOffsetAfter(result.Records.Span, _cursor + 1);
        _cursor = next >= _end ? 0 : next;
        return result.Records.Length;
    }

    /// <summary>The offset after the last batch in <paramref name="batches"/> (<paramref name="fallback"/> when empty).</summary>
    private static long NextOffsetAfter(ReadOnlySpan<byte> batches, long fallback)
    {
        long next = fallback;
        for (int pos = 0; pos + RecordBatchHeader.Size <= batches.Length;)
        {
            var batch = batches[pos..];
            next = BinaryPrimitives.ReadInt64BigEndian(batch) + BinaryPrimitives.ReadInt32BigEndian(batch[RecordBatchHeader.LastOffsetDeltaOffset..]) + 1;
            pos += RecordBatchHeader.LogOverhead + BinaryPrimitives.ReadInt32BigEndian(batch[RecordBatchHeader.BatchLengthOffset..]);
        }
        return next;
    }
}

using System.Diagnostics;
using System.Text;
using Broker.Compression;
using Broker.Core.Records;
using Xunit.Abstractions;

namespace Broker.Storage.Tests.Compaction;

/// <summary>
/// The cleaner never serialises appends or reads behind a whole pass: while a multi-megabyte compaction runs, a
/// writer keeps appending and a reader keeps reading, and no append waits for more than a fraction of the pass (the
/// write lock is only taken for the per-segment swap). Also prints the cleaner's throughput.
/// </summary>
public sealed class NonBlockingCompactionTests(ITestOutputHelper output) : LogTestBase
{
    private static readonly LogOptions Options = new() { Compact = true, SegmentBytes = 1 << 20, IndexIntervalBytes = 4096 };

    /// <summary>A log of ~<paramref name="megabytes"/> MB stored: 100-record batches over 2000 keys, values of 200 bytes
    /// (half random, half repeated: compressible about 2:1).</summary>
    private PartitionLog Fill(int megabytes, CompressionCodec codec)
    {
        var log = Open(Options);
        var builder = new RecordBatchBuilder(64 * 1024);
        var value = new byte[200];
        var rng = new Random(7);
        while (log.SizeInBytes < megabytes * (1L << 20))
        {
            builder.Reset(Clock.Now - 1000);
            for (int i = 0; i < 100; i++)
            {
                rng.NextBytes(value.AsSpan(0, 100));
                builder.Add(Clock.Now - 1000, Encoding.UTF8.GetBytes($"key-{rng.Next(2000)}"), value);
            }
            var bytes = builder.ToArray();
            if (codec != CompressionCodec.None) bytes = RecordBatchCompression.Compress(bytes, codec);
            log.Append(bytes, 1);
        }
        return log;
    }

    [Theory]
    [InlineData(CompressionCodec.None, 24)]
    [InlineData(CompressionCodec.Zstd, 12)]
    public void Appends_and_reads_go_on_while_a_large_compaction_runs(CompressionCodec codec, int megabytes)
    {
        var log = Fill(megabytes, codec);
        long bound = log.LogEndOffset;
        long sizeBefore = log.SizeInBytes;
        var tail = Keyed.Batch(Clock.Now, ("tail-key", "tail-value"));

        using var stop = new CancellationTokenSource();
        var appendLatencies = new List<double>();
        long appendsDuringPass = 0, readsDuringPass = 0, appends = 0;
        int passRunning = 0;
        double maxRead = 0;
        Exception? failure = null;
        var writer = new Thread(() => Guard(ref failure, () =>
        {
            while (!stop.IsCancellationRequested)
            {
                long start = Stopwatch.GetTimestamp();
                log.Append(tail, 1);
                appends++;
                double ms = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                if (Volatile.Read(ref passRunning) == 1)
                {
                    appendLatencies.Add(ms);
                    appendsDuringPass++;
                }
                Thread.Sleep(1);
            }
        }));
        var reader = new Thread(() => Guard(ref failure, () =>
        {
            var rng = new Random(3);
            while (!stop.IsCancellationRequested)
            {
                long offset = rng.NextInt64(0, bound);
                long start = Stopwatch.GetTimestamp();
                using (var read = log.Read(offset, 64 * 1024, long.MaxValue, minOneBatch: true))
                {
                    if (read.Records.IsEmpty) throw new InvalidOperationException($"empty read at offset {offset}");
                }
                double ms = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                if (Volatile.Read(ref passRunning) == 1)
                {
                    maxRead = Math.Max(maxRead, ms);
                    readsDuringPass++;
                }
                Thread.Sleep(1);
            }
        }));
        writer.Start();
        reader.Start();
        Thread.Sleep(50);

        Volatile.Write(ref passRunning, 1);
        var result = log.Compact(bound, Clock.Now);
        Volatile.Write(ref passRunning, 0);
        stop.Cancel();
        writer.Join();
        reader.Join();
        if (failure != null) throw new InvalidOperationException("a writer or reader thread failed", failure);

        double seconds = result.Duration.TotalSeconds;
        double maxAppend = appendLatencies.Count == 0 ? 0 : appendLatencies.Max();
        output.WriteLine($"{codec}: {sizeBefore / 1e6:F1} MB log, pass {result}");
        output.WriteLine($"{codec}: cleaned {result.BytesBefore / 1e6:F1} MB in {seconds:F2} s = {result.BytesBefore / 1e6 / seconds:F1} MB/s; " +
                         $"{appendsDuringPass} appends during the pass (max {maxAppend:F1} ms), {readsDuringPass} reads (max {maxRead:F1} ms)");

        Assert.True(result.SegmentsRewritten >= 5, result.ToString());
        // Appends kept flowing: with 1 ms pauses, a pass of this length leaves room for many; a pass holding the write
        // lock throughout would allow none (or one).
        Assert.True(appendsDuringPass >= 10, $"only {appendsDuringPass} appends during a {seconds:F2} s pass");
        Assert.True(readsDuringPass >= 10, $"only {readsDuringPass} reads during a {seconds:F2} s pass");
        // No append waited for a large part of the pass (generous: the machine is shared), and the lock was held briefly.
        Assert.True(maxAppend < Math.Max(250, result.Duration.TotalMilliseconds / 3), $"an append waited {maxAppend:F1} ms during a {seconds:F2} s pass");
        Assert.True(result.LongestSwap < TimeSpan.FromMilliseconds(250), $"a swap held the write lock for {result.LongestSwap.TotalMilliseconds:F1} ms");
        Assert.True(result.Duration > 3 * result.LongestSwap, result.ToString());

        // And the log is right: every key's latest value is still there, the tail appends too.
        var records = Keyed.ReadRecords(log);
        Assert.Equal(appends, records.Count(r => r.Key == "tail-key" && r.Offset >= bound)); // above the bound: untouched
        var cleaned = records.Where(r => r.Offset < result.CleanedUpTo).ToList();
        Assert.Equal(cleaned.Count, cleaned.Select(r => r.Key).Distinct().Count()); // at most one record per key in the cleaned part
        Assert.InRange(cleaned.Count, 1, 2000);
    }

    private static void Guard(ref Exception? failure, Action body)
    {
        try
        {
            body();
        }
        catch (Exception ex)
        {
            Interlocked.CompareExchange(ref failure, ex, null);
        }
    }
}

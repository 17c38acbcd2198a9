using System.Diagnostics;
using Broker.Core.Records;
using Xunit;
using Xunit.Abstractions;

namespace Broker.Compression.Tests;

/// <summary>
/// Informational figures: compress and decompress MB/s of a 1 MiB record batch of log-like records per codec, by wall
/// clock and by process CPU time (the machine is shared, so CPU time is the steadier figure). Printed, not asserted;
/// the round trips are.
/// </summary>
public sealed class ThroughputTests(ITestOutputHelper output)
{
    [Fact]
    public void OneMegabyteBatchFigures()
    {
        byte[] text = TestData.Compressible(2 << 20, seed: 11);
        var builder = new RecordBatchBuilder(1 << 20);
        builder.Reset(1_700_000_000_000);
        var random = new Random(4);
        int position = 0;
        while (builder.Length < 1 << 20)
        {
            int length = random.Next(80, 240);
            builder.Add(1_700_000_000_000 + builder.RecordCount, [], text.AsSpan(position, length), keyIsNull: true);
            position += length;
        }
        byte[] batch = builder.ToArray();
        foreach (var codec in TestData.RealCodecs)
        {
            byte[] compressed = RecordBatchCompression.Compress(batch, codec);
            Assert.Equal(batch, RecordBatchCompression.Decompress(compressed)); // warm-up and correctness
            int rounds = codec == CompressionCodec.Gzip ? 3 : 10;
            var (compressWall, compressCpu) = Measure(rounds, () => RecordBatchCompression.Compress(batch, codec));
            var (decompressWall, decompressCpu) = Measure(rounds * 2, () => RecordBatchCompression.Decompress(compressed));
            double mb = batch.Length / 1e6;
            output.WriteLine($"{Codecs.Name(codec),-6} {mb:F2} MB -> {compressed.Length / 1e3,6:F1} kB (ratio {(double)batch.Length / compressed.Length:F1}): " +
                             $"compress {rounds * mb / compressCpu,5:F0} MB/s CPU ({rounds * mb / compressWall,5:F0} wall), " +
                             $"decompress {rounds * 2 * mb / decompressCpu,5:F0} MB/s CPU ({rounds * 2 * mb / decompressWall,5:F0} wall)");
        }
    }

    private static (double WallSeconds, double CpuSeconds) Measure(int rounds, Action action)
    {
        using var process = Process.GetCurrentProcess();
        var cpu = process.TotalProcessorTime;
        var sw = Stopwatch.StartNew();
        for (int i = 0; i < rounds; i++) action();
        double wall = sw.Elapsed.TotalSeconds;
        process.Refresh();
        return (wall, Math.Max((process.TotalProcessorTime - cpu).TotalSeconds, 1e-6));
    }
}

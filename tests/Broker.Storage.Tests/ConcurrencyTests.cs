namespace Broker.Storage.Tests;

public class ConcurrencyTests : LogTestBase
{
    [Fact]
    public void Readers_racing_a_writer_only_see_whole_valid_batches()
    {
        // Small segments and a small first mapping force rolls and remaps while readers are active.
        var log = Open(new LogOptions { SegmentBytes = 2_500_000, IndexIntervalBytes = 512, RetentionBytes = 3_000_000, RetentionMs = -1 });
        const int Batches = 5000;
        var stop = new CancellationTokenSource();
        var errors = new List<Exception>();
        long reads = 0;

        var readers = Enumerable.Range(0, 2).Select(_ => Task.Run(() =>
        {
            var rnd = new Random();
            try
            {
                while (!stop.IsCancellationRequested)
                {
                    long end = log.LogEndOffset;
                    long start = log.LogStartOffset;
                    if (end == start) continue;
                    long offset = start + rnd.NextInt64(end - start);
                    using var r = log.Read(offset, 64 * 1024, end, true);
                    if (r.OutOfRange) continue; // retention moved the start after we sampled it
                    var headers = BatchBuilder.ParseValid(r.Records.Span);
                    if (headers.Count == 0) throw new Exception($"no data at {offset} below end {end}");
                    if (offset < headers[0].BaseOffset || offset > headers[0].LastOffset)
                        throw new Exception($"read {offset} got batch {headers[0].BaseOffset}-{headers[0].LastOffset}");
                    for (int i = 1; i < headers.Count; i++)
                        if (headers[i].BaseOffset != headers[i - 1].LastOffset + 1) throw new Exception("gap in a read");
                    Interlocked.Increment(ref reads);
                }
            }
            catch (Exception ex)
            {
                lock (errors) errors.Add(ex);
            }
        })).ToArray();

        var writer = Task.Run(() =>
        {
            for (int i = 0; i < Batches; i++)
            {
                log.Append(BatchBuilder.Build(1 + i % 5, valueSize: 100 + i % 900), 1);
                if (i % 500 == 0)
                {
                    log.ApplyRetention(Clock.Now);
                    // Make sure the readers really run between appends, even on a busy 2-core machine.
                    long seen = Interlocked.Read(ref reads);
                    SpinWait.SpinUntil(() => Interlocked.Read(ref reads) > seen || errors.Count > 0, TimeSpan.FromSeconds(5));
                }
            }
        });

        writer.Wait(TimeSpan.FromSeconds(60));
        stop.Cancel();
        Task.WaitAll(readers, TimeSpan.FromSeconds(10));
        Assert.True(writer.IsCompletedSuccessfully, writer.Exception?.ToString());
        Assert.Empty(errors);
        Assert.True(Interlocked.Read(ref reads) > 0);
        Assert.True(log.SegmentCount > 1);
        Assert.True(log.LogStartOffset > 0, "retention ran");
    }
}

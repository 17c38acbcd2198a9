using System.Diagnostics.Metrics;
using Broker.Core.Metrics;
using Xunit;

namespace Broker.Core.Tests.Metrics;

/// <summary>Writers on several threads while scrapes run: nothing is lost, histograms stay self-consistent, and a
/// measurement on an existing series allocates nothing.</summary>
public sealed class MetricsConcurrencyTests : IDisposable
{
    private readonly Meter _meter = new("Test.Concurrency." + Guid.NewGuid().ToString("N"));
    private readonly MetricsCollector _collector;

    public MetricsConcurrencyTests() => _collector = new MetricsCollector(m => m == _meter);

    public void Dispose()
    {
        _collector.Dispose();
        _meter.Dispose();
    }

    [Fact]
    public async Task ConcurrentWritersAndScrapes_LoseNothing()
    {
        const int Threads = 4;
        const int PerThread = 50_000;
        var counter = _meter.CreateCounter<long>("app_ops_total");
        var fractional = _meter.CreateCounter<double>("app_work_seconds_total");
        var histogram = _meter.CreateHistogram<double>("app_op_seconds", "s", null, null,
            new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.001, 0.01] });
        string[] apis = ["Produce", "Fetch", "Metadata"];
        var tags = apis.Select(a => new KeyValuePair<string, object?>("api", a)).ToArray();

        using var stop = new CancellationTokenSource();
        int scrapes = 0;
        var scraper = Task.Run(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                var parsed = PrometheusTextParser.Parse(PrometheusExposition.Render(_collector, MetricsScope.All));
                foreach (string api in apis)
                {
                    // +Inf and _count are the same snapshot of the buckets, whatever the writers do meanwhile.
                    var inf = parsed.Find("app_op_seconds_bucket", ("api", api), ("le", "+Inf")).SingleOrDefault();
                    var count = parsed.Find("app_op_seconds_count", ("api", api)).SingleOrDefault();
                    Assert.Equal(inf?.Value, count?.Value);
                }
                Interlocked.Increment(ref scrapes);
            }
        });
        var writers = Enumerable.Range(0, Threads).Select(t => Task.Run(() =>
        {
            for (int i = 0; i < PerThread; i++)
            {
                // Half-way, wait for a scrape to complete so at least one runs while the writers are still writing.
                if (i == PerThread / 2) SpinWait.SpinUntil(() => Volatile.Read(ref scrapes) > 0, TimeSpan.FromSeconds(10));
                var tag = tags[(t + i) % tags.Length];
                counter.Add(1, tag);
                fractional.Add(0.5, tag);
                histogram.Record((i % 3) switch { 0 => 0.0005, 1 => 0.005, _ => 0.5 }, tag);
            }
        })).ToArray();
        await Task.WhenAll(writers);
        stop.Cancel();
        await scraper;

        var final = PrometheusTextParser.Parse(PrometheusExposition.Render(_collector, MetricsScope.All));
        Assert.Equal(Threads * PerThread, final.Find("app_ops_total").Sum(s => s.Value));
        Assert.Equal(Threads * PerThread * 0.5, final.Find("app_work_seconds_total").Sum(s => s.Value));
        Assert.Equal(Threads * PerThread, final.Find("app_op_seconds_count").Sum(s => s.Value));
        long expectedFast = Enumerable.Range(0, PerThread).Count(i => i % 3 == 0) * (long)Threads;
        Assert.Equal(expectedFast, final.Find("app_op_seconds_bucket", ("le", "0.001")).Sum(s => s.Value));
        Assert.True(scrapes > 0, "the scraper never completed a scrape");
    }

    [Fact]
    public void MeasurementOnAnExistingSeries_AllocatesNothing()
    {
        var counter = _meter.CreateCounter<long>("app_hot_total");
        var histogram = _meter.CreateHistogram<double>("app_hot_seconds");
        var api = new KeyValuePair<string, object?>("api", "Produce");
        counter.Add(1, api);
        histogram.Record(0.001, api);
        counter.Add(1, new KeyValuePair<string, object?>("topic", "orders"));
        // A different string instance with equal content (as a parsed request brings) finds the same series.
        string topicName = new("orders".AsSpan());

        void Measure()
        {
            for (int i = 0; i < 10_000; i++)
            {
                counter.Add(1, api);
                histogram.Record(0.001, api);
                counter.Add(1, new KeyValuePair<string, object?>("topic", topicName));
            }
        }
        Measure(); // warm-up (tiering, one-time runtime allocations)
        long before = GC.GetAllocatedBytesForCurrentThread();
        Measure();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        // 30,000 measurements: even 8 bytes each would be 240 KB; allow a one-off runtime allocation.
        Assert.True(allocated < 1024, $"{allocated} bytes allocated by 30,000 measurements");
        var parsed = PrometheusTextParser.Parse(PrometheusExposition.Render(_collector, MetricsScope.All));
        Assert.Equal(20_001, parsed.Value("app_hot_total", ("api", "Produce")));
        Assert.Equal(20_001, parsed.Value("app_hot_total", ("topic", "orders")));
    }

    [Fact]
    public void NewLabelValuesBeyondTheCap_AreDropped()
    {
        var counter = _meter.CreateCounter<long>("app_wide_total");
        for (int i = 0; i < InstrumentStateCap + 10; i++) counter.Add(1, new KeyValuePair<string, object?>("id", i));
        var family = Assert.Single(_collector.Collect(MetricsScope.All));
        Assert.Equal(InstrumentStateCap, family.Samples.Count);
        counter.Add(5, new KeyValuePair<string, object?>("id", 0)); // existing series still count
        Assert.Equal(6, _collector.Collect(MetricsScope.All)[0].Samples.Single(s => s.Label("id") == "0").Value);
    }

    private const int InstrumentStateCap = 10_000;
}

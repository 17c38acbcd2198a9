using System.Diagnostics.Metrics;
using Broker.Core.Metrics;
using Xunit;

namespace Broker.Core.Tests.Metrics;

/// <summary>Histogram math: inclusive upper bounds, cumulative buckets, +Inf, _sum and _count, advised and default bounds.</summary>
public sealed class HistogramTests : IDisposable
{
    private readonly Meter _meter = new("Test.Histogram." + Guid.NewGuid().ToString("N"));
    private readonly MetricsCollector _collector;

    public HistogramTests() => _collector = new MetricsCollector(m => m == _meter);

    public void Dispose()
    {
        _collector.Dispose();
        _meter.Dispose();
    }

    private Histogram<double> Create(string name, double[]? bounds) =>
        _meter.CreateHistogram<double>(name, "s", "Latency.", null,
            bounds is null ? null : new InstrumentAdvice<double> { HistogramBucketBoundaries = bounds });

    [Fact]
    public void Buckets_AreCumulative_WithInclusiveUpperBounds()
    {
        var h = Create("app_latency_seconds", [0.1, 0.5, 1]);
        var tag = new KeyValuePair<string, object?>("api", "Fetch");
        foreach (double v in new[] { 0.05, 0.1, 0.2, 0.5, 0.7, 1.0, 3.0, 0.0 }) h.Record(v, tag);

        string text = PrometheusExposition.Render(_collector, MetricsScope.All);
        Assert.Equal(
            "# HELP app_latency_seconds Latency.\n" +
            "# TYPE app_latency_seconds histogram\n" +
            "app_latency_seconds_bucket{api=\"Fetch\",le=\"0.1\"} 3\n" +
            "app_latency_seconds_bucket{api=\"Fetch\",le=\"0.5\"} 5\n" +
            "app_latency_seconds_bucket{api=\"Fetch\",le=\"1\"} 7\n" +
            "app_latency_seconds_bucket{api=\"Fetch\",le=\"+Inf\"} 8\n" +
            "app_latency_seconds_sum{api=\"Fetch\"} 5.55\n" +
            "app_latency_seconds_count{api=\"Fetch\"} 8\n", text);
        PrometheusTextParser.Parse(text);
    }

    [Fact]
    public void CollectedValue_ExposesBoundsCountsAndSum()
    {
        var h = Create("app_sizes", [10, 100]);
        h.Record(5);
        h.Record(50);
        h.Record(500);
        h.Record(double.NaN); // ignored
        var family = Assert.Single(_collector.Collect(MetricsScope.All));
        Assert.Equal(MetricType.Histogram, family.Type);
        var value = Assert.Single(family.Samples).Histogram!;
        Assert.Equal([10.0, 100.0], value.Bounds);
        Assert.Equal([1L, 2L, 3L], value.CumulativeCounts);
        Assert.Equal(3, value.Count);
        Assert.Equal(555, value.Sum);
    }

    [Fact]
    public void WithoutAdvice_DefaultBucketsAreUsed_AndIntegerHistogramsWork()
    {
        Create("app_default_seconds", null).Record(0.003);
        _meter.CreateHistogram<long>("app_batch_records", null, null, null, new InstrumentAdvice<long> { HistogramBucketBoundaries = [1, 10] }).Record(10);
        var parsed = PrometheusTextParser.Parse(PrometheusExposition.Render(_collector, MetricsScope.All));
        Assert.Equal(12, parsed.Find("app_default_seconds_bucket").Count()); // 11 default bounds + +Inf
        Assert.Equal(1, parsed.Value("app_default_seconds_bucket", ("le", "0.005")));
        Assert.Equal(0, parsed.Value("app_batch_records_bucket", ("le", "1")));
        Assert.Equal(1, parsed.Value("app_batch_records_bucket", ("le", "10")));
        Assert.Equal(10, parsed.Value("app_batch_records_sum"));
    }

    [Fact]
    public void EmptyHistogramFamily_HasTypeButNoSamples()
    {
        Create("app_unused_seconds", [1]);
        var parsed = PrometheusTextParser.Parse(PrometheusExposition.Render(_collector, MetricsScope.All));
        Assert.Equal("histogram", parsed.Types["app_unused_seconds"]);
        Assert.Empty(parsed.Samples);
    }

    [Theory]
    [InlineData(-1.0, 0)]
    [InlineData(0.1, 0)]
    [InlineData(0.1000001, 1)]
    [InlineData(1.0, 2)]
    [InlineData(1.5, 3)]
    [InlineData(double.PositiveInfinity, 3)]
    public void AValue_LandsInTheFirstBucketNotBelowIt(double value, int expected)
    {
        Create("app_one_seconds", [0.1, 0.5, 1]).Record(value);
        var histogram = Assert.Single(Assert.Single(_collector.Collect(MetricsScope.All)).Samples).Histogram!;
        for (int i = 0; i < histogram.CumulativeCounts.Count; i++)
            Assert.Equal(i >= expected ? 1 : 0, histogram.CumulativeCounts[i]);
    }
}

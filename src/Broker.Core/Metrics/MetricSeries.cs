namespace Broker.Core.Metrics;

/// <summary>
/// The live value of one labelled series of an instrument, updated lock-free by any thread: a sum (counters and
/// up-down counters: integral deltas in a long, fractional ones in a double), a last value (gauges), or histogram
/// buckets (non-cumulative counts per bound plus +Inf, and the sum of observations).
/// </summary>
internal sealed class MetricSeries
{
    private readonly long[]? _buckets;
    private long _long;
    private double _double;
    private double _sum;

    public MetricSeries(KeyValuePair<string, string>[] labels, string labelText, double[]? bounds)
    {
        Labels = labels;
        LabelText = labelText;
        if (bounds is not null) _buckets = new long[bounds.Length + 1];
    }

    /// <summary>Sorted by name.</summary>
    public KeyValuePair<string, string>[] Labels { get; }
    public string LabelText { get; }

    public void Add(long delta) => Interlocked.Add(ref _long, delta);

    public void Add(double delta)
    {
        double current = Volatile.Read(ref _double);
        while (true)
        {
            double seen = Interlocked.CompareExchange(ref _double, current + delta, current);
            if (seen.Equals(current)) return;
            current = seen;
        }
    }

    /// <summary>Gauge: replaces the value (gauges never use the long part).</summary>
    public void Set(double value) => Interlocked.Exchange(ref _double, value);

    public double Value => Interlocked.Read(ref _long) + Volatile.Read(ref _double);

    /// <summary>Histogram: counts <paramref name="value"/> in the first bucket whose bound is ≥ it (NaN is ignored).</summary>
    public void Observe(double value, double[] bounds)
    {
        if (double.IsNaN(value)) return;
        int index = BucketIndex(value, bounds);
        Interlocked.Increment(ref _buckets![index]);
        double current = Volatile.Read(ref _sum);
        while (true)
        {
            double seen = Interlocked.CompareExchange(ref _sum, current + value, current);
            if (seen.Equals(current)) return;
            current = seen;
        }
    }

    /// <summary>Index of the first bound ≥ <paramref name="value"/>; bounds.Length (+Inf) when above them all.</summary>
    internal static int BucketIndex(double value, double[] bounds)
    {
        int lo = 0, hi = bounds.Length;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (bounds[mid] >= value) hi = mid;
            else lo = mid + 1;
        }
        return lo;
    }

    /// <summary>Adds this histogram's non-cumulative bucket counts into <paramref name="counts"/>; returns its sum.</summary>
    public double AddBucketsTo(long[] counts)
    {
        var buckets = _buckets!;
        for (int i = 0; i < buckets.Length; i++) counts[i] += Interlocked.Read(ref buckets[i]);
        return Volatile.Read(ref _sum);
    }
}

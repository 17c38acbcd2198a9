namespace Broker.Core.Metrics;

/// <summary>Prometheus metric types this exposition produces.</summary>
public enum MetricType
{
    Counter,
    Gauge,
    Histogram,
}

/// <summary>One metric name with its HELP, TYPE and samples, as collected at one scrape (immutable).</summary>
public sealed class MetricFamily(string name, MetricType type, string help, bool isPublic, IReadOnlyList<MetricSample> samples)
{
    /// <summary>The Prometheus name (counters end in <c>_total</c>; histogram samples add _bucket/_sum/_count).</summary>
    public string Name { get; } = name;
    public MetricType Type { get; } = type;
    public string Help { get; } = help;
    /// <summary>Part of the stable <c>/public_metrics</c> subset.</summary>
    public bool IsPublic { get; } = isPublic;
    /// <summary>Samples ordered by their label text (ordinal).</summary>
    public IReadOnlyList<MetricSample> Samples { get; } = samples;

    public string TypeName => Type switch
    {
        MetricType.Counter => "counter",
        MetricType.Histogram => "histogram",
        _ => "gauge",
    };
}

/// <summary>One labelled value of a family. For histograms <see cref="Histogram"/> is set and <see cref="Value"/>
/// is the observation count.</summary>
public sealed class MetricSample(IReadOnlyList<KeyValuePair<string, string>> labels, string labelText, double value, HistogramValue? histogram = null)
{
    /// <summary>Labels sorted by name (values unescaped).</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Labels { get; } = labels;
    /// <summary>The labels as rendered between the braces (escaped), empty when there are none.</summary>
    public string LabelText { get; } = labelText;
    public double Value { get; } = value;
    public HistogramValue? Histogram { get; } = histogram;

    /// <summary>The value of label <paramref name="name"/>, or null.</summary>
    public string? Label(string name)
    {
        foreach (var l in Labels)
            if (l.Key == name) return l.Value;
        return null;
    }
}

/// <summary>A histogram's state: cumulative counts per upper bound (the last one is +Inf = <see cref="Count"/>).</summary>
public sealed class HistogramValue(double[] bounds, long[] cumulativeCounts, double sum)
{
    /// <summary>Finite upper bounds, ascending.</summary>
    public IReadOnlyList<double> Bounds { get; } = bounds;
    /// <summary>Observations ≤ each bound; one more entry than <see cref="Bounds"/> for +Inf.</summary>
    public IReadOnlyList<long> CumulativeCounts { get; } = cumulativeCounts;
    public double Sum { get; } = sum;
    public long Count => CumulativeCounts[^1];
}

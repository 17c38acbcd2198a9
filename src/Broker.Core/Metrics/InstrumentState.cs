using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;
using Broker.Core.Diagnostics;

namespace Broker.Core.Metrics;

/// <summary>What kind of System.Diagnostics.Metrics instrument a state aggregates.</summary>
internal enum InstrumentKind
{
    Counter,
    UpDownCounter,
    Gauge,
    Histogram,
    ObservableCounter,
    ObservableUpDownCounter,
    ObservableGauge,
}

/// <summary>
/// The aggregation of one instrument for one collector: its Prometheus name, type and help, and its series by tag
/// values. Synchronous instruments update series from any thread (lock-free lookup, a series is created once per
/// new tag set, at most <see cref="MaxSeries"/>); observable instruments report absolute values during a scrape
/// into a fresh per-scrape map (so series of vanished objects disappear), guarded by the collector's scrape lock.
/// </summary>
internal sealed class InstrumentState
{
    /// <summary>Cardinality guard: new tag sets beyond this many are dropped (with one warning).</summary>
    public const int MaxSeries = 10_000;

    private static readonly Logger Logger = Log.For("metrics");
    private static readonly double[] DefaultBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    private readonly ConcurrentDictionary<SeriesKey, MetricSeries> _series = new();
    private readonly KeyValuePair<string, string>[] _constantLabels;
    private Dictionary<string, MetricSeries> _observed = new(StringComparer.Ordinal);
    private int _overflowWarned;

    public InstrumentState(Instrument instrument, InstrumentKind kind, double[]? adviceBounds)
    {
        Instrument = instrument;
        Kind = kind;
        Type = kind switch
        {
            InstrumentKind.Counter or InstrumentKind.ObservableCounter => MetricType.Counter,
            InstrumentKind.Histogram => MetricType.Histogram,
            _ => MetricType.Gauge,
        };
        string name = PrometheusText.SanitizeMetricName(instrument.Name);
        if (Type == MetricType.Counter && !name.EndsWith("_total", StringComparison.Ordinal)) name += "_total";
        Name = name;
        Help = instrument.Description ?? "";
        if (kind == InstrumentKind.Histogram) Bounds = ValidBounds(adviceBounds) ?? DefaultBuckets;

        var constant = new List<KeyValuePair<string, string>>();
        if (instrument.Tags is { } tags)
        {
            foreach (var tag in tags)
            {
                if (tag.Key == BrokerMeters.ScopeTagName)
                {
                    IsPublic = string.Equals(tag.Value as string, "public", StringComparison.Ordinal);
                    continue;
                }
                constant.Add(new(tag.Key, PrometheusText.FormatLabelValue(tag.Value)));
            }
        }
        _constantLabels = [.. constant];
    }

    public Instrument Instrument { get; }
    public InstrumentKind Kind { get; }
    public MetricType Type { get; }
    public string Name { get; }
    public string Help { get; }
    public bool IsPublic { get; }
    /// <summary>Histogram bucket upper bounds (ascending, finite); null for other kinds.</summary>
    public double[]? Bounds { get; }
    public bool IsObservable => Kind >= InstrumentKind.ObservableCounter;

    public void Record(long value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        switch (Kind)
        {
            case InstrumentKind.Counter:
                if (value > 0) GetSeries(tags)?.Add(value);
                break;
            case InstrumentKind.UpDownCounter:
                GetSeries(tags)?.Add(value);
                break;
            case InstrumentKind.Gauge:
                GetSeries(tags)?.Set(value);
                break;
            case InstrumentKind.Histogram:
                GetSeries(tags)?.Observe(value, Bounds!);
                break;
            default:
                Observed(value, tags);
                break;
        }
    }

    public void Record(double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        switch (Kind)
        {
            case InstrumentKind.Counter:
                if (value > 0) GetSeries(tags)?.Add(value);
                break;
            case InstrumentKind.UpDownCounter:
                GetSeries(tags)?.Add(value);
                break;
            case InstrumentKind.Gauge:
                GetSeries(tags)?.Set(value);
                break;
            case InstrumentKind.Histogram:
                GetSeries(tags)?.Observe(value, Bounds!);
                break;
            default:
                Observed(value, tags);
                break;
        }
    }

    /// <summary>Called (under the scrape lock) before the observable callbacks run.</summary>
    public void BeginScrape()
    {
        if (IsObservable) _observed = new Dictionary<string, MetricSeries>(StringComparer.Ordinal);
    }

    /// <summary>The current series: live ones, or for observable instruments the ones reported at this scrape.</summary>
    public IEnumerable<MetricSeries> CurrentSeries => IsObservable ? _observed.Values : _series.Values;

    private void Observed(double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var (labels, text) = BuildLabels(tags);
        var series = new MetricSeries(labels, text, null);
        series.Set(value);
        _observed[text] = series; // a repeated tag set: the last report wins
    }

    private MetricSeries? GetSeries(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var key = new SeriesKey(tags);
        if (_series.TryGetValue(key, out var series)) return series;
        if (_series.Count >= MaxSeries)
        {
            if (Interlocked.Exchange(ref _overflowWarned, 1) == 0)
                Logger.Warn($"metric {Name} has {MaxSeries} series; measurements with new label values are dropped");
            return null;
        }
        var (labels, text) = BuildLabels(tags);
        return _series.GetOrAdd(key, new MetricSeries(labels, text, Bounds));
    }

    /// <summary>Measurement tags plus the instrument's constant labels, sanitized, sorted by name, rendered.</summary>
    private (KeyValuePair<string, string>[] Labels, string Text) BuildLabels(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var labels = new List<KeyValuePair<string, string>>(tags.Length + _constantLabels.Length);
        foreach (var tag in tags)
        {
            if (tag.Key is null || tag.Key == BrokerMeters.ScopeTagName) continue;
            string name = PrometheusText.SanitizeLabelName(tag.Key);
            if (Type == MetricType.Histogram && name == "le") name = "_le"; // "le" is the bucket label
            Put(labels, name, PrometheusText.FormatLabelValue(tag.Value));
        }
        foreach (var c in _constantLabels) Put(labels, PrometheusText.SanitizeLabelName(c.Key), c.Value);
        labels.Sort(static (a, b) => string.CompareOrdinal(a.Key, b.Key));

        var text = new StringBuilder();
        foreach (var l in labels)
        {
            if (text.Length > 0) text.Append(',');
            text.Append(l.Key).Append("=\"");
            PrometheusText.AppendEscapedLabelValue(text, l.Value);
            text.Append('"');
        }
        return ([.. labels], text.ToString());
    }

    /// <summary>Adds a label unless one of that name is there already (the first one wins).</summary>
    private static void Put(List<KeyValuePair<string, string>> labels, string name, string value)
    {
        foreach (var l in labels)
            if (l.Key == name) return;
        labels.Add(new(name, value));
    }

    private static double[]? ValidBounds(IReadOnlyList<double>? advice)
    {
        if (advice is null || advice.Count == 0) return null;
        var bounds = new List<double>(advice.Count);
        foreach (double b in advice)
        {
            if (double.IsNaN(b) || double.IsInfinity(b)) continue;
            if (bounds.Count > 0 && b <= bounds[^1]) return null; // not strictly ascending: use the defaults
            bounds.Add(b);
        }
        return bounds.Count == 0 ? null : [.. bounds];
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Name} ({Kind})");
}

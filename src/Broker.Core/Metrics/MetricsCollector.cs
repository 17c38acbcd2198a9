using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Broker.Core.Diagnostics;

namespace Broker.Core.Metrics;

/// <summary>
/// Aggregates System.Diagnostics.Metrics instruments through a <see cref="MeterListener"/>: every instrument of a
/// meter accepted by the filter gets an <see cref="InstrumentState"/> (passed back as the listener's state, so a
/// measurement costs no registry lookup). <see cref="Collect"/> runs the observable callbacks and returns the
/// families sorted by name, samples sorted by labels, ready for <see cref="PrometheusExposition"/>.
/// Instruments with the same Prometheus name (e.g. two meters of the same name) merge into one family: counters
/// and up-down counters add up per label set, gauges keep the last value, histograms with equal bounds add up.
/// Supported value types: long, int, short, byte, double, float (others are ignored).
/// <see cref="Default"/> collects the meters named <c>Broker</c> and <c>Broker.*</c> for the whole process.
/// </summary>
public sealed class MetricsCollector : IDisposable
{
    private static readonly Logger Logger = Log.For("metrics");

    private readonly MeterListener _listener;
    private readonly Func<Meter, bool> _meterFilter;
    private readonly ConcurrentDictionary<Instrument, InstrumentState> _instruments = new();
    private readonly Lock _scrapeLock = new();
    private bool _disposed;

    /// <summary>The process-wide collector of the broker's meters, started on first use (see <see cref="BrokerMeters"/>).</summary>
    public static MetricsCollector Default { get; } = new(IsBrokerMeter);

    public static bool IsBrokerMeter(Meter meter) =>
        meter.Name == BrokerMeters.MeterName || meter.Name.StartsWith(BrokerMeters.MeterName + ".", StringComparison.Ordinal);

    /// <param name="meterFilter">Which meters to collect (checked once per published instrument).</param>
    public MetricsCollector(Func<Meter, bool> meterFilter)
    {
        ArgumentNullException.ThrowIfNull(meterFilter);
        _meterFilter = meterFilter;
        _listener = new MeterListener
        {
            InstrumentPublished = OnInstrumentPublished,
            MeasurementsCompleted = (instrument, _) => _instruments.TryRemove(instrument, out InstrumentState? _),
        };
        _listener.SetMeasurementEventCallback<long>(static (_, value, tags, state) => ((InstrumentState)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<int>(static (_, value, tags, state) => ((InstrumentState)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<short>(static (_, value, tags, state) => ((InstrumentState)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<byte>(static (_, value, tags, state) => ((InstrumentState)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<double>(static (_, value, tags, state) => ((InstrumentState)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<float>(static (_, value, tags, state) => ((InstrumentState)state!).Record(value, tags));
        _listener.Start();
    }

    /// <summary>Instruments currently collected.</summary>
    public int InstrumentCount => _instruments.Count;

    private void OnInstrumentPublished(Instrument instrument, MeterListener listener)
    {
        if (!_meterFilter(instrument.Meter)) return;
        var state = CreateState(instrument);
        if (state is null) return;
        _instruments[instrument] = state;
        listener.EnableMeasurementEvents(instrument, state);
    }

    private static InstrumentState? CreateState(Instrument instrument)
    {
        return Create<long>(instrument) ?? Create<int>(instrument) ?? Create<short>(instrument) ?? Create<byte>(instrument)
            ?? Create<double>(instrument) ?? Create<float>(instrument);

        static InstrumentState? Create<T>(Instrument instrument) where T : struct
        {
            InstrumentKind? kind = instrument switch
            {
                Counter<T> => InstrumentKind.Counter,
                UpDownCounter<T> => InstrumentKind.UpDownCounter,
                Gauge<T> => InstrumentKind.Gauge,
                Histogram<T> => InstrumentKind.Histogram,
                ObservableCounter<T> => InstrumentKind.ObservableCounter,
                ObservableUpDownCounter<T> => InstrumentKind.ObservableUpDownCounter,
                ObservableGauge<T> => InstrumentKind.ObservableGauge,
                _ => null,
            };
            if (kind is null) return null;
            double[]? bounds = null;
            if (instrument is Histogram<T> { Advice.HistogramBucketBoundaries: { } advised })
            {
                bounds = new double[advised.Count];
                for (int i = 0; i < bounds.Length; i++) bounds[i] = Convert.ToDouble(advised[i], System.Globalization.CultureInfo.InvariantCulture);
            }
            return new InstrumentState(instrument, kind.Value, bounds);
        }
    }

    /// <summary>
    /// Runs the observable instruments' callbacks and returns every family in <paramref name="scope"/>, sorted by
    /// name, each with its samples sorted by label text. Scrapes are serialised; measurements go on meanwhile.
    /// A failing observable callback is logged and its instrument reports what it reported before failing.
    /// </summary>
    public IReadOnlyList<MetricFamily> Collect(MetricsScope scope)
    {
        lock (_scrapeLock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var states = new List<InstrumentState>(_instruments.Count);
            foreach (var entry in _instruments) states.Add(entry.Value);
            foreach (var state in states) state.BeginScrape();
            try
            {
                _listener.RecordObservableInstruments();
            }
            catch (Exception ex)
            {
                Logger.Warn($"an observable metric callback failed: {ex.GetBaseException().Message}");
            }

            var families = new Dictionary<string, FamilyBuilder>(StringComparer.Ordinal);
            foreach (var state in states)
            {
                if (scope == MetricsScope.Public && !state.IsPublic) continue;
                if (!families.TryGetValue(state.Name, out var family))
                    families[state.Name] = family = new FamilyBuilder(state);
                else if (family.Type != state.Type || !SameBounds(family.Bounds, state.Bounds))
                    continue; // a name clash between incompatible instruments: the first one registered wins
                family.Add(state);
            }

            var result = new List<MetricFamily>(families.Count);
            foreach (var family in families.Values) result.Add(family.Build());
            result.Sort(static (a, b) => string.CompareOrdinal(a.Name, b.Name));
            return result;
        }
    }

    private static bool SameBounds(double[]? a, double[]? b) =>
        a is null ? b is null : b is not null && a.AsSpan().SequenceEqual(b);

    public void Dispose()
    {
        lock (_scrapeLock)
        {
            if (_disposed) return;
            _disposed = true;
        }
        _listener.Dispose();
        _instruments.Clear();
    }

    /// <summary>Merges the series of the instruments sharing one name.</summary>
    private sealed class FamilyBuilder(InstrumentState first)
    {
        private readonly Dictionary<string, Accumulator> _samples = new(StringComparer.Ordinal);

        public MetricType Type { get; } = first.Type;
        public double[]? Bounds { get; } = first.Bounds;

        public void Add(InstrumentState state)
        {
            foreach (var series in state.CurrentSeries)
            {
                if (!_samples.TryGetValue(series.LabelText, out var acc))
                    _samples[series.LabelText] = acc = new Accumulator(series.Labels, Bounds);
                if (Type == MetricType.Histogram)
                    acc.Sum += series.AddBucketsTo(acc.Buckets!);
                else if (state.Kind is InstrumentKind.Gauge or InstrumentKind.ObservableGauge)
                    acc.Value = series.Value;
                else
                    acc.Value += series.Value;
            }
        }

        public MetricFamily Build()
        {
            var keys = new List<string>(_samples.Keys);
            keys.Sort(StringComparer.Ordinal);
            var samples = new List<MetricSample>(keys.Count);
            foreach (string key in keys)
            {
                var acc = _samples[key];
                if (Type != MetricType.Histogram)
                {
                    samples.Add(new MetricSample(acc.Labels, key, acc.Value));
                    continue;
                }
                var cumulative = new long[acc.Buckets!.Length];
                long running = 0;
                for (int i = 0; i < cumulative.Length; i++) cumulative[i] = running += acc.Buckets[i];
                samples.Add(new MetricSample(acc.Labels, key, running, new HistogramValue(Bounds!, cumulative, acc.Sum)));
            }
            return new MetricFamily(first.Name, Type, first.Help, first.IsPublic, samples);
        }
    }

    private sealed class Accumulator(KeyValuePair<string, string>[] labels, double[]? bounds)
    {
        public KeyValuePair<string, string>[] Labels { get; } = labels;
        public long[]? Buckets { get; } = bounds is null ? null : new long[bounds.Length + 1];
        public double Value { get; set; }
        public double Sum { get; set; }
    }
}

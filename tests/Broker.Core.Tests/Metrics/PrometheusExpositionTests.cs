using System.Diagnostics.Metrics;
using Broker.Core.Metrics;
using Xunit;

namespace Broker.Core.Tests.Metrics;

/// <summary>The text format: HELP/TYPE lines, names, labels, escaping, ordering, scopes, merging, observables.</summary>
public sealed class PrometheusExpositionTests : IDisposable
{
    private readonly Meter _meter = new("Test.Exposition." + Guid.NewGuid().ToString("N"));
    private readonly MetricsCollector _collector;

    public PrometheusExpositionTests() => _collector = new MetricsCollector(m => m == _meter);

    public void Dispose()
    {
        _collector.Dispose();
        _meter.Dispose();
    }

    private string Render(MetricsScope scope = MetricsScope.All) => PrometheusExposition.Render(_collector, scope);

    [Fact]
    public void Counter_HasHelpTypeAndLabelledSamples()
    {
        var counter = _meter.CreateCounter<long>("app_requests_total", null, "Requests served.");
        counter.Add(3, new KeyValuePair<string, object?>("api", "Produce"));
        counter.Add(2, new KeyValuePair<string, object?>("api", "Produce"));
        counter.Add(1, new KeyValuePair<string, object?>("api", "Fetch"));

        string text = Render();
        Assert.Equal(
            "# HELP app_requests_total Requests served.\n" +
            "# TYPE app_requests_total counter\n" +
            "app_requests_total{api=\"Fetch\"} 1\n" +
            "app_requests_total{api=\"Produce\"} 5\n", text);
        var parsed = PrometheusTextParser.Parse(text);
        Assert.Equal(5, parsed.Value("app_requests_total", ("api", "Produce")));
    }

    [Fact]
    public void CounterName_GetsTotalSuffix_AndInvalidCharactersAreReplaced()
    {
        _meter.CreateCounter<long>("app.bytes-sent").Add(7);
        _meter.CreateObservableGauge("9lives", () => 1);
        string text = Render();
        Assert.Contains("# TYPE app_bytes_sent_total counter\napp_bytes_sent_total 7\n", text);
        Assert.Contains("# TYPE _9lives gauge\n_9lives 1\n", text);
        Assert.DoesNotContain("# HELP app_bytes_sent_total", text); // no description, no HELP line
        PrometheusTextParser.Parse(text);
    }

    [Fact]
    public void LabelValuesAndHelp_AreEscaped_LabelNamesSanitized()
    {
        var counter = _meter.CreateCounter<long>("app_escapes_total", null, "Back\\slash and\nnew line.");
        counter.Add(1, new KeyValuePair<string, object?>("path", "C:\\dir \"quoted\"\nnext"), new KeyValuePair<string, object?>("client.id", 42));

        string text = Render();
        Assert.Contains("# HELP app_escapes_total Back\\\\slash and\\nnew line.\n", text);
        Assert.Contains("app_escapes_total{client_id=\"42\",path=\"C:\\\\dir \\\"quoted\\\"\\nnext\"} 1\n", text);
        var parsed = PrometheusTextParser.Parse(text);
        Assert.Equal("Back\\slash and\nnew line.", parsed.Help["app_escapes_total"]);
        var sample = Assert.Single(parsed.Find("app_escapes_total"));
        Assert.Equal("C:\\dir \"quoted\"\nnext", sample["path"]);
        Assert.Equal("42", sample["client_id"]);
    }

    [Fact]
    public void Output_IsSortedAndDeterministic()
    {
        var b = _meter.CreateCounter<long>("app_b_total");
        var a = _meter.CreateUpDownCounter<long>("app_a");
        b.Add(1, new KeyValuePair<string, object?>("topic", "zeta"));
        b.Add(1, new KeyValuePair<string, object?>("topic", "alpha"));
        // Same labels given in two orders are one series.
        a.Add(1, new KeyValuePair<string, object?>("x", "1"), new KeyValuePair<string, object?>("y", "2"));
        a.Add(1, new KeyValuePair<string, object?>("y", "2"), new KeyValuePair<string, object?>("x", "1"));

        string first = Render();
        Assert.Equal(first, Render());
        var parsed = PrometheusTextParser.Parse(first);
        Assert.Equal(["app_a", "app_b_total"], parsed.FamilyOrder);
        Assert.Equal(["alpha", "zeta"], parsed.Find("app_b_total").Select(s => s["topic"]!).ToArray());
        Assert.Equal(2, parsed.Value("app_a", ("x", "1"), ("y", "2")));
    }

    [Fact]
    public void UpDownCounter_GoesBothWays_CounterIgnoresNegativeDeltas()
    {
        var active = _meter.CreateUpDownCounter<int>("app_active");
        var total = _meter.CreateCounter<double>("app_seconds_total");
        active.Add(5);
        active.Add(-7);
        total.Add(1.5);
        total.Add(-1);
        total.Add(0.25);
        var parsed = PrometheusTextParser.Parse(Render());
        Assert.Equal(-2, parsed.Value("app_active"));
        Assert.Equal(1.75, parsed.Value("app_seconds_total"));
        Assert.Equal("gauge", parsed.Types["app_active"]);
    }

    [Fact]
    public void ObservableGauge_ReportsCurrentValues_AndVanishedSeriesDisappear()
    {
        var partitions = new Dictionary<string, long> { ["t-0"] = 10, ["t-1"] = 20 };
        _meter.CreateObservableGauge("app_high_watermark", () =>
            partitions.Select(p => new Measurement<long>(p.Value, new KeyValuePair<string, object?>("partition", p.Key))).ToArray());
        var parsed = PrometheusTextParser.Parse(Render());
        Assert.Equal(10, parsed.Value("app_high_watermark", ("partition", "t-0")));
        Assert.Equal(20, parsed.Value("app_high_watermark", ("partition", "t-1")));

        partitions.Remove("t-0");
        partitions["t-1"] = 25;
        parsed = PrometheusTextParser.Parse(Render());
        Assert.Empty(parsed.Find("app_high_watermark", ("partition", "t-0")));
        Assert.Equal(25, parsed.Value("app_high_watermark", ("partition", "t-1")));
    }

    [Fact]
    public void FailingObservableCallback_DoesNotBreakTheScrape()
    {
        _meter.CreateObservableGauge<long>("app_broken", (Func<long>)(() => throw new InvalidOperationException("boom")));
        _meter.CreateObservableCounter("app_fine_total", () => 4L);
        var parsed = PrometheusTextParser.Parse(Render());
        Assert.Equal(4, parsed.Value("app_fine_total"));
        Assert.Empty(parsed.Find("app_broken"));
        Assert.Equal("gauge", parsed.Types["app_broken"]);
    }

    [Fact]
    public void PublicScope_ContainsOnlyInstrumentsTaggedPublic_AndTheTagIsNoLabel()
    {
        _meter.CreateCounter<long>("app_public_total", null, null, BrokerMeters.PublicTags).Add(1);
        _meter.CreateCounter<long>("app_internal_total").Add(1);
        _meter.CreateCounter<long>("app_constant_total", null, null, [new("node", "3")]).Add(2);

        var all = PrometheusTextParser.Parse(Render(MetricsScope.All));
        var pub = PrometheusTextParser.Parse(Render(MetricsScope.Public));
        Assert.Equal(["app_constant_total", "app_internal_total", "app_public_total"], all.FamilyOrder);
        Assert.Equal(["app_public_total"], pub.FamilyOrder);
        Assert.Empty(Assert.Single(pub.Samples).Labels);
        Assert.Equal(2, all.Value("app_constant_total", ("node", "3"))); // other instrument tags are constant labels
    }

    [Fact]
    public void SameNameFromTwoMeters_MergesIntoOneFamily()
    {
        using var other = new Meter(_meter.Name);
        using var collector = new MetricsCollector(m => m.Name == _meter.Name);
        _meter.CreateCounter<long>("app_merged_total").Add(2, new KeyValuePair<string, object?>("k", "v"));
        other.CreateCounter<long>("app_merged_total").Add(3, new KeyValuePair<string, object?>("k", "v"));
        var parsed = PrometheusTextParser.Parse(PrometheusExposition.Render(collector, MetricsScope.All));
        Assert.Equal(5, parsed.Value("app_merged_total", ("k", "v")));
    }

    [Fact]
    public void DisposedMeter_LeavesTheExposition()
    {
        var meter = new Meter(_meter.Name);
        using var collector = new MetricsCollector(m => m.Name == _meter.Name);
        meter.CreateCounter<long>("app_gone_total").Add(1);
        Assert.Contains("app_gone_total 1", PrometheusExposition.Render(collector, MetricsScope.All));
        meter.Dispose();
        Assert.DoesNotContain("app_gone_total", PrometheusExposition.Render(collector, MetricsScope.All));
    }

    [Fact]
    public void ValuesUseGoFloatSyntax()
    {
        Assert.Equal("+Inf", PrometheusText.FormatValue(double.PositiveInfinity));
        Assert.Equal("-Inf", PrometheusText.FormatValue(double.NegativeInfinity));
        Assert.Equal("NaN", PrometheusText.FormatValue(double.NaN));
        Assert.Equal("123", PrometheusText.FormatValue(123.0));
        Assert.Equal("0.25", PrometheusText.FormatValue(0.25));
        Assert.Equal(1e-5, PrometheusTextParser.ParseValue(PrometheusText.FormatValue(1e-5)));
        Assert.Equal("9007199254740993", PrometheusText.FormatValue(9007199254740993L));
    }

    [Fact]
    public void ContentType_IsTextFormat004() =>
        Assert.Equal("text/plain; version=0.0.4; charset=utf-8", PrometheusExposition.ContentType);
}

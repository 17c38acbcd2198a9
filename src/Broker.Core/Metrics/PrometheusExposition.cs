using System.Text;

namespace Broker.Core.Metrics;

/// <summary>Which metric set to expose: everything (<c>/metrics</c>) or the stable public subset (<c>/public_metrics</c>).</summary>
public enum MetricsScope
{
    All,
    Public,
}

// CONTRACT (lead): the metrics helper implements this; the Admin API serves its output on /metrics and /public_metrics.
/// <summary>Renders the process's metrics (System.Diagnostics.Metrics instruments) in the Prometheus text format 0.0.4.</summary>
public static partial class PrometheusExposition
{
    /// <summary>Content type of <see cref="Render"/>'s output.</summary>
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    /// <summary>The current values of every metric in <paramref name="scope"/>, as Prometheus text.</summary>
    public static string Render(MetricsScope scope)
    {
        BrokerMeters.EnsureInitialized();
        return Render(MetricsCollector.Default, scope);
    }

    /// <summary>The metrics of <paramref name="collector"/> in <paramref name="scope"/>, as Prometheus text.</summary>
    public static string Render(MetricsCollector collector, MetricsScope scope)
    {
        ArgumentNullException.ThrowIfNull(collector);
        return Write(collector.Collect(scope));
    }

    /// <summary>
    /// Families in the order given: a HELP line (when there is help text) and a TYPE line per family, then its
    /// samples; histograms as cumulative <c>_bucket</c> samples with an <c>le</c> label (ending in +Inf), then
    /// <c>_sum</c> and <c>_count</c>.
    /// </summary>
    public static string Write(IReadOnlyList<MetricFamily> families)
    {
        ArgumentNullException.ThrowIfNull(families);
        var sb = new StringBuilder(4096);
        foreach (var family in families)
        {
            if (family.Help.Length > 0)
            {
                sb.Append("# HELP ").Append(family.Name).Append(' ');
                PrometheusText.AppendEscapedHelp(sb, family.Help);
                sb.Append('\n');
            }
            sb.Append("# TYPE ").Append(family.Name).Append(' ').Append(family.TypeName).Append('\n');
            foreach (var sample in family.Samples)
            {
                if (sample.Histogram is { } histogram)
                {
                    WriteHistogram(sb, family.Name, sample, histogram);
                    continue;
                }
                sb.Append(family.Name);
                if (sample.LabelText.Length > 0) sb.Append('{').Append(sample.LabelText).Append('}');
                sb.Append(' ').Append(PrometheusText.FormatValue(sample.Value)).Append('\n');
            }
        }
        return sb.ToString();
    }

    private static void WriteHistogram(StringBuilder sb, string name, MetricSample sample, HistogramValue histogram)
    {
        string prefix = sample.LabelText.Length > 0 ? sample.LabelText + "," : "";
        for (int i = 0; i <= histogram.Bounds.Count; i++)
        {
            string le = i < histogram.Bounds.Count ? PrometheusText.FormatValue(histogram.Bounds[i]) : "+Inf";
            sb.Append(name).Append("_bucket{").Append(prefix).Append("le=\"").Append(le).Append("\"} ")
                .Append(PrometheusText.FormatValue(histogram.CumulativeCounts[i])).Append('\n');
        }
        string labels = sample.LabelText.Length > 0 ? "{" + sample.LabelText + "}" : "";
        sb.Append(name).Append("_sum").Append(labels).Append(' ').Append(PrometheusText.FormatValue(histogram.Sum)).Append('\n');
        sb.Append(name).Append("_count").Append(labels).Append(' ').Append(PrometheusText.FormatValue(histogram.Count)).Append('\n');
    }
}

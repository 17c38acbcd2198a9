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
    public static string Render(MetricsScope scope) => throw new NotImplementedException();
}

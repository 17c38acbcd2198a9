using System.Globalization;

namespace Broker.LoadGen.Output;

/// <summary>The one-line live progress printed on stderr once per second.</summary>
public static class Progress
{
    public static string Line(Options o, RunClock clock, long now, double prodRecPerSec, double prodBytesPerSec,
        double consRecPerSec, double consBytesPerSec, long producedTotal, long consumedTotal, long errors)
    {
        var ci = CultureInfo.InvariantCulture;
        double t = (now - clock.StartTicks) / (double)System.Diagnostics.Stopwatch.Frequency;
        string phase = now < clock.MeasureStartTicks ? "warmup" : clock.IsOver(now) ? "drain" : "run";
        var sb = new System.Text.StringBuilder();
        sb.Append(ci, $"[{t,6:F1}s {phase,-6}]");
        if (o.Scenario is Scenario.Produce or Scenario.E2E)
            sb.Append(ci, $" produce {prodRecPerSec,10:N0} rec/s {prodBytesPerSec / 1e6,8:F1} MB/s (total {producedTotal:N0})");
        if (o.Scenario is Scenario.Consume or Scenario.E2E)
            sb.Append(ci, $" consume {consRecPerSec,10:N0} rec/s {consBytesPerSec / 1e6,8:F1} MB/s (total {consumedTotal:N0})");
        sb.Append(ci, $" errors {errors}");
        return sb.ToString();
    }
}

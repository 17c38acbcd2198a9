using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Broker.LoadGen.Output;

/// <summary>Renders a <see cref="RunResult"/> as the stdout table, a JSON document and a Markdown report.</summary>
public static class Reports
{
    private static readonly CultureInfo Ci = CultureInfo.InvariantCulture;

    /// <summary>The latency histograms worth showing for this run, with their labels and JSON names.</summary>
    public static List<(string Label, string JsonName, LatencyHistogram H)> Latencies(RunResult r)
    {
        var list = new List<(string, string, LatencyHistogram)>();
        if (r.HasProduce && r.Options.Acks != 0)
        {
            list.Add((r.Options.Rate > 0 ? "produce per record (intended send -> ack)" : "produce per record (batch built -> ack)",
                "produceLatencyMs", r.Produce.Latency));
            list.Add(("produce per request (send -> ack)", "produceRequestLatencyMs", r.Produce.RequestLatency));
        }
        if (r.Options.Scenario == Scenario.E2E)
            list.Add(("e2e per record (intended send -> fetched)", "e2eLatencyMs", r.Consume.Latency));
        if (r.HasConsume)
            list.Add(("fetch per request (send -> response)", "fetchRequestLatencyMs", r.Consume.RequestLatency));
        return list;
    }

    public static string Table(RunResult r)
    {
        var o = r.Options;
        var sb = new StringBuilder();
        sb.AppendLine(Ci, $"{Title(r)}: window {r.WindowSeconds:F2} s, topic {o.Topic} ({r.PartitionCount} partitions), record {o.RecordSize} B, acks {o.Acks}, batch {o.BatchRecords}, rate {(o.Rate > 0 ? o.Rate.ToString("N0", Ci) + "/s" : "unlimited")}");
        sb.AppendLine(Ci, $"{"side",-10} {"records",14} {"records/s",14} {"MB/s",10} {"batch MB/s",11} {"requests",10}");
        if (r.HasProduce) Side(sb, "produce", r, r.Produce);
        if (r.HasConsume) Side(sb, "consume", r, r.Consume);
        sb.AppendLine(Ci, $"{"latency (ms)",-44} {"count",12} {"p50",9} {"p90",9} {"p99",9} {"p99.9",9} {"max",9} {"mean",9}");
        foreach (var (label, _, h) in Latencies(r))
            sb.AppendLine(Ci, $"{label,-44} {h.Count,12:N0} {Ms(h.Percentile(50)),9:F3} {Ms(h.Percentile(90)),9:F3} {Ms(h.Percentile(99)),9:F3} {Ms(h.Percentile(99.9)),9:F3} {Ms(h.Max),9:F3} {h.Mean / 1e6,9:F3}");
        if (o.Scenario == Scenario.Consume && r.CaughtUp) sb.AppendLine("consumers reached the end offsets seen at the start; the window ended there");
        if (r.Errors.Length == 0) sb.AppendLine("errors: none");
        else foreach (var e in r.Errors) sb.AppendLine(Ci, $"error: {e.Key}: {e.Value}");
        if (r.Failure is not null) sb.AppendLine("FAILED: " + r.Failure);
        return sb.ToString();
    }

    public static void WriteJson(RunResult r, string path)
    {
        using var stream = File.Create(path);
        using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        var o = r.Options;
        w.WriteStartObject();
        w.WriteString("label", o.Label ?? Title(r));
        w.WriteString("scenario", o.Scenario.ToString().ToLowerInvariant());
        w.WriteString("startedAt", r.StartedAt.ToString("O", Ci));
        w.WriteBoolean("ok", r.Ok);
        if (r.Failure is null) w.WriteNull("failure"); else w.WriteString("failure", r.Failure);
        w.WriteStartObject("config");
        w.WriteString("bootstrap", o.Bootstrap);
        w.WriteString("topic", o.Topic);
        w.WriteNumber("partitions", r.PartitionCount);
        w.WriteNumber("recordSize", o.RecordSize);
        w.WriteNumber("keyCardinality", o.KeyCardinality);
        w.WriteNumber("acks", o.Acks);
        w.WriteNumber("batchRecords", o.BatchRecords);
        w.WriteNumber("lingerMs", o.LingerMs);
        w.WriteNumber("producers", o.Producers);
        w.WriteNumber("consumers", o.Consumers);
        w.WriteNumber("rate", o.Rate);
        w.WriteNumber("warmupSeconds", o.WarmupSeconds);
        w.WriteNumber("durationSeconds", o.DurationSeconds);
        w.WriteNumber("maxInflight", o.MaxInflight);
        w.WriteString("versions", r.Versions);
        w.WriteEndObject();
        w.WriteNumber("windowSeconds", Math.Round(r.WindowSeconds, 3));
        if (r.HasProduce) SideJson(w, "produce", r, r.Produce);
        if (r.HasConsume) SideJson(w, "consume", r, r.Consume);
        foreach (var (_, name, h) in Latencies(r)) HistJson(w, name, h);
        w.WriteNumber("errorCount", r.ErrorCount);
        w.WriteStartObject("errors");
        foreach (var e in r.Errors) w.WriteNumber(e.Key, e.Value);
        w.WriteEndObject();
        w.WriteEndObject();
    }

    public static string Markdown(RunResult r)
    {
        var o = r.Options;
        var sb = new StringBuilder();
        sb.AppendLine(Ci, $"# Load test: {Title(r)}");
        sb.AppendLine();
        sb.AppendLine(Ci, $"Started {r.StartedAt:yyyy-MM-dd HH:mm:ss zzz} against `{o.Bootstrap}` ({r.Versions}); {Environment.ProcessorCount} cores.");
        sb.AppendLine();
        sb.AppendLine("| setting | value |\n|---|---|");
        sb.AppendLine(Ci, $"| topic | {o.Topic} ({r.PartitionCount} partitions) |");
        sb.AppendLine(Ci, $"| record value size | {o.RecordSize} B, keys: {(o.KeyCardinality > 0 ? o.KeyCardinality + " distinct (8 B)" : "null")} |");
        sb.AppendLine(Ci, $"| acks / batch / linger | {o.Acks} / {o.BatchRecords} records / {o.LingerMs} ms |");
        sb.AppendLine(Ci, $"| producers / consumers / in flight | {o.Producers} / {o.Consumers} / {o.MaxInflight} |");
        sb.AppendLine(Ci, $"| rate | {(o.Rate > 0 ? o.Rate.ToString("N0", Ci) + " records/s (open model)" : "unlimited (closed loop)")} |");
        sb.AppendLine(Ci, $"| warmup / window | {o.WarmupSeconds} s / {r.WindowSeconds:F2} s measured |");
        sb.AppendLine();
        sb.AppendLine("| side | records | records/s | MB/s | batch MB/s | requests |\n|---|---:|---:|---:|---:|---:|");
        foreach (var (name, s) in Sides(r))
            sb.AppendLine(Ci, $"| {name} | {s.Records:N0} | {r.RecordsPerSec(s):N0} | {r.MBPerSec(s):F1} | {r.BatchMBPerSec(s):F1} | {s.Requests:N0} |");
        sb.AppendLine();
        sb.AppendLine("| latency (ms) | count | p50 | p90 | p99 | p99.9 | max | mean |\n|---|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var (label, _, h) in Latencies(r))
            sb.AppendLine(Ci, $"| {label} | {h.Count:N0} | {Ms(h.Percentile(50)):F3} | {Ms(h.Percentile(90)):F3} | {Ms(h.Percentile(99)):F3} | {Ms(h.Percentile(99.9)):F3} | {Ms(h.Max):F3} | {h.Mean / 1e6:F3} |");
        sb.AppendLine();
        if (r.Errors.Length == 0) sb.AppendLine("Errors: none.");
        else
        {
            sb.AppendLine("| error | count |\n|---|---:|");
            foreach (var e in r.Errors) sb.AppendLine(Ci, $"| {e.Key.Replace("|", "/")} | {e.Value} |");
        }
        if (r.Failure is not null) sb.AppendLine().AppendLine("**Run failed:** " + r.Failure);
        return sb.ToString();
    }

    private static IEnumerable<(string, SideStats)> Sides(RunResult r)
    {
        if (r.HasProduce) yield return ("produce", r.Produce);
        if (r.HasConsume) yield return ("consume", r.Consume);
    }

    private static string Title(RunResult r) =>
        r.Options.Label ?? (r.Options.Scenario == Scenario.Consume
            ? "consume"
            : $"{r.Options.Scenario.ToString().ToLowerInvariant()} {r.Options.RecordSize} B acks={r.Options.Acks}");

    private static void Side(StringBuilder sb, string name, RunResult r, SideStats s) =>
        sb.AppendLine(Ci, $"{name,-10} {s.Records,14:N0} {r.RecordsPerSec(s),14:N0} {r.MBPerSec(s),10:F1} {r.BatchMBPerSec(s),11:F1} {s.Requests,10:N0}");

    private static void SideJson(Utf8JsonWriter w, string name, RunResult r, SideStats s)
    {
        w.WriteStartObject(name);
        w.WriteNumber("records", s.Records);
        w.WriteNumber("payloadBytes", s.PayloadBytes);
        w.WriteNumber("batchBytes", s.BatchBytes);
        w.WriteNumber("requests", s.Requests);
        w.WriteNumber("failedRecords", s.FailedRecords);
        w.WriteNumber("recordsPerSec", Math.Round(r.RecordsPerSec(s), 1));
        w.WriteNumber("mbPerSec", Math.Round(r.MBPerSec(s), 3));
        w.WriteNumber("batchMbPerSec", Math.Round(r.BatchMBPerSec(s), 3));
        w.WriteEndObject();
    }

    private static void HistJson(Utf8JsonWriter w, string name, LatencyHistogram h)
    {
        w.WriteStartObject(name);
        w.WriteNumber("count", h.Count);
        w.WriteNumber("p50", Round(h.Percentile(50)));
        w.WriteNumber("p90", Round(h.Percentile(90)));
        w.WriteNumber("p99", Round(h.Percentile(99)));
        w.WriteNumber("p999", Round(h.Percentile(99.9)));
        w.WriteNumber("max", Round(h.Max));
        w.WriteNumber("mean", Math.Round(h.Mean / 1e6, 4));
        w.WriteEndObject();
    }

    private static double Ms(long ns) => ns / 1e6;
    private static double Round(long ns) => Math.Round(ns / 1e6, 4);
}

using System.Diagnostics;

namespace Broker.LoadGen.Output;

/// <summary>Everything one run measured, plus how it ended; the source of the table, the JSON and the report.</summary>
public sealed class RunResult(Options options)
{
    public Options Options { get; } = options;
    public DateTimeOffset StartedAt { get; set; }
    public string Versions { get; set; } = "";
    public int PartitionCount { get; set; }
    /// <summary>Consume: records between the earliest and latest offsets at the start.</summary>
    public long AvailableRecords { get; set; }
    /// <summary>Consume: the consumers reached the end offsets seen at the start (the window ended then).</summary>
    public bool CaughtUp { get; set; }
    public RunClock? Clock { get; set; }
    public long EndTicks { get; set; }
    public SideStats Produce { get; } = new();
    public SideStats Consume { get; } = new();
    public KeyValuePair<string, long>[] Errors { get; set; } = [];
    public string? Failure { get; set; }

    public bool HasProduce => Options.Scenario is Scenario.Produce or Scenario.E2E;
    public bool HasConsume => Options.Scenario is Scenario.Consume or Scenario.E2E;

    public long ErrorCount
    {
        get { long n = 0; foreach (var e in Errors) n += e.Value; return n; }
    }

    public bool Ok => Failure is null && ErrorCount == 0;

    /// <summary>Length of the measured window in seconds.</summary>
    public double WindowSeconds =>
        Clock is null ? 0 : Math.Max(0, Math.Min(EndTicks, Clock.MeasureEndTicks) - Clock.MeasureStartTicks) / (double)Stopwatch.Frequency;

    public double RecordsPerSec(SideStats s) => WindowSeconds > 0 ? s.Records / WindowSeconds : 0;

    /// <summary>Payload (keys + values) throughput in MB/s, MB = 10^6 bytes.</summary>
    public double MBPerSec(SideStats s) => WindowSeconds > 0 ? s.PayloadBytes / WindowSeconds / 1e6 : 0;

    /// <summary>Record batch bytes (what the broker stores and sends) in MB/s.</summary>
    public double BatchMBPerSec(SideStats s) => WindowSeconds > 0 ? s.BatchBytes / WindowSeconds / 1e6 : 0;
}

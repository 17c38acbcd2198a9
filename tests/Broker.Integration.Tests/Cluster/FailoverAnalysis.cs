using System.Globalization;
using System.Text;

namespace Broker.Integration.Tests.Cluster;

/// <summary>One acknowledged message: its id and the wall-clock time (ms since the epoch) of its delivery report.</summary>
public readonly record struct AckedId(long Id, long TimeMs);

/// <summary>
/// Judges a failover run: the producers' acked files ("&lt;id&gt; &lt;time-ms&gt;" lines), their error files
/// ("&lt;time-ms&gt; &lt;id&gt; &lt;text&gt;") and the ids the verifier read from the partition in offset order
/// ("&lt;offset&gt; &lt;id&gt;"). Every acked id must be present; the first occurrences of ids must increase
/// (one key, one request in flight); duplicates (at-least-once retries of a non-idempotent producer) and unacked
/// ids that made it into the log are counted, not failed. Also measures the failover gap around a kill.
/// </summary>
public sealed class FailoverAnalysis
{
    public required int Acked { get; init; }
    public required int LogRecords { get; init; }
    public required List<long> Missing { get; init; }
    public required int Duplicates { get; init; }
    public required int UnackedPresent { get; init; }
    /// <summary>Positions where an id appears for the first time after a larger id already appeared.</summary>
    public required List<string> OrderViolations { get; init; }
    public required int DeliveryErrors { get; init; }
    /// <summary>Kill time -> first delivery report after it, ms (-1: none after the kill).</summary>
    public required long FirstAckAfterKillMs { get; init; }
    /// <summary>Largest gap between consecutive delivery reports that ends after the kill, ms.</summary>
    public required long MaxGapAfterKillMs { get; init; }
    /// <summary>Kill time -> end of that largest gap, ms (the outage as the producer saw it).</summary>
    public required long KillToRecoveryMs { get; init; }
    public required int AckedAfterKill { get; init; }
    /// <summary>The kill time the gaps are measured from (0: no kill in this run).</summary>
    public required long KillTimeMs { get; init; }

    public bool Ok => Missing.Count == 0 && OrderViolations.Count == 0;

    public static List<AckedId> ReadAcked(string path)
    {
        var result = new List<AckedId>();
        if (!File.Exists(path)) return result;
        foreach (string line in ReadLines(path))
        {
            string[] parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 2 && long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out long id)
                && long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out long t))
                result.Add(new AckedId(id, t));
        }
        return result;
    }

    /// <summary>Number of complete lines (a producer may be writing the last one).</summary>
    public static int CountAcked(string path) => ReadAcked(path).Count;

    public static List<long> ReadErrorTimes(string path)
    {
        var result = new List<long>();
        if (!File.Exists(path)) return result;
        foreach (string line in ReadLines(path))
        {
            int sp = line.IndexOf(' ');
            if (sp > 0 && long.TryParse(line.AsSpan(0, sp), NumberStyles.None, CultureInfo.InvariantCulture, out long t)) result.Add(t);
        }
        return result;
    }

    /// <summary>Ids in offset order from the verifier's output.</summary>
    public static List<long> ReadLogIds(string path)
    {
        var result = new List<long>();
        foreach (string line in ReadLines(path))
        {
            string[] parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 2) result.Add(long.Parse(parts[1], CultureInfo.InvariantCulture));
        }
        return result;
    }

    public static FailoverAnalysis Analyze(List<AckedId> acked, List<long> logIds, List<long> errorTimes, long killTimeMs)
    {
        var counts = new Dictionary<long, int>();
        var order = new List<string>();
        long maxSeen = -1;
        for (int i = 0; i < logIds.Count; i++)
        {
            long id = logIds[i];
            counts.TryGetValue(id, out int c);
            counts[id] = c + 1;
            if (c == 0)
            {
                if (id < maxSeen && order.Count < 10) order.Add($"record #{i}: id {id} first appears after id {maxSeen}");
                maxSeen = Math.Max(maxSeen, id);
            }
        }
        var ackedSet = acked.Select(a => a.Id).ToHashSet();
        var missing = ackedSet.Where(id => !counts.ContainsKey(id)).Order().ToList();
        int duplicates = counts.Values.Sum(c => c - 1);
        int unacked = counts.Keys.Count(id => !ackedSet.Contains(id));

        var times = acked.Select(a => a.TimeMs).Order().ToList();
        long firstAfter = -1, maxGap = 0, recovery = -1;
        int afterKill = 0;
        for (int i = 0; i < times.Count; i++)
        {
            if (times[i] <= killTimeMs) continue;
            afterKill++;
            if (firstAfter < 0) firstAfter = times[i] - killTimeMs;
            long prev = i == 0 ? killTimeMs : Math.Max(times[i - 1], killTimeMs - 1000);
            long gap = times[i] - prev;
            if (gap > maxGap)
            {
                maxGap = gap;
                recovery = times[i] - killTimeMs;
            }
        }
        return new FailoverAnalysis
        {
            Acked = ackedSet.Count, LogRecords = logIds.Count, Missing = missing, Duplicates = duplicates,
            UnackedPresent = unacked, OrderViolations = order, DeliveryErrors = errorTimes.Count,
            FirstAckAfterKillMs = firstAfter, MaxGapAfterKillMs = maxGap, KillToRecoveryMs = recovery, AckedAfterKill = afterKill,
            KillTimeMs = killTimeMs,
        };
    }

    public override string ToString()
    {
        var sb = new StringBuilder();
        sb.Append($"acked {Acked} distinct ids, log has {LogRecords} records; missing {Missing.Count}");
        if (Missing.Count > 0) sb.Append(" (e.g. ").Append(string.Join(',', Missing.Take(10))).Append(')');
        sb.Append($", duplicates {Duplicates}, unacked-but-present {UnackedPresent}, order violations {OrderViolations.Count}");
        if (OrderViolations.Count > 0) sb.Append(" (").Append(string.Join("; ", OrderViolations)).Append(')');
        sb.Append($", delivery errors {DeliveryErrors}");
        if (KillTimeMs > 0)
            sb.Append($"; after the kill: {AckedAfterKill} acks, first ack {FirstAckAfterKillMs} ms, ")
              .Append($"largest delivery gap {MaxGapAfterKillMs} ms ending {KillToRecoveryMs} ms after the kill");
        return sb.ToString();
    }

    private static IEnumerable<string> ReadLines(string path)
    {
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(fs);
        string all = reader.ReadToEnd();
        // Only complete lines: a writer may be in the middle of the last one.
        int end = all.LastIndexOf('\n');
        if (end < 0) yield break;
        foreach (string line in all[..end].Split('\n'))
        {
            if (line.Length > 0) yield return line.TrimEnd('\r');
        }
    }
}

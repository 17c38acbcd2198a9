using System.Buffers.Binary;
using System.Diagnostics;

namespace Broker.LoadGen;

/// <summary>
/// The time frame of a run in Stopwatch ticks: warmup from <see cref="StartTicks"/>, then the measured window
/// [<see cref="MeasureStartTicks"/>, <see cref="MeasureEndTicks"/>). Workers count an event in the figures only when
/// it completes inside the window. The end can be pulled in (a consumer that caught up, a failure).
/// </summary>
public sealed class RunClock
{
    private long _measureEndTicks;

    public RunClock(double warmupSeconds, double durationSeconds)
    {
        StartTicks = Stopwatch.GetTimestamp();
        MeasureStartTicks = StartTicks + (long)(warmupSeconds * Stopwatch.Frequency);
        _measureEndTicks = MeasureStartTicks + (long)(durationSeconds * Stopwatch.Frequency);
    }

    public long StartTicks { get; }
    public long MeasureStartTicks { get; }
    public long MeasureEndTicks => Volatile.Read(ref _measureEndTicks);

    public bool InWindow(long ticks) => ticks >= MeasureStartTicks && ticks < MeasureEndTicks;
    public bool IsOver(long ticks) => ticks >= MeasureEndTicks;

    /// <summary>Ends the window early at <paramref name="ticks"/> (never later than planned, never before the start).</summary>
    public void EndAt(long ticks)
    {
        ticks = Math.Max(ticks, MeasureStartTicks);
        long cur;
        while ((cur = Volatile.Read(ref _measureEndTicks)) > ticks)
            if (Interlocked.CompareExchange(ref _measureEndTicks, ticks, cur) == cur) return;
    }

    /// <summary>Length of the measured window in seconds (up to <paramref name="nowTicks"/> if it has not ended).</summary>
    public double WindowSeconds(long nowTicks)
    {
        long end = Math.Min(MeasureEndTicks, nowTicks);
        return Math.Max(0, end - MeasureStartTicks) / (double)Stopwatch.Frequency;
    }

    public static double TicksToMs(long ticks) => ticks * 1000.0 / Stopwatch.Frequency;
    public static long TicksToNs(long ticks) => Stopwatch.Frequency == 1_000_000_000 ? ticks : (long)(ticks * (1e9 / Stopwatch.Frequency));
}

/// <summary>Errors of a run by name ("NOT_LEADER_OR_FOLLOWER (6)", "transport: ..."); thread-safe.</summary>
public sealed class ErrorCounter
{
    private readonly Dictionary<string, long> _counts = new(StringComparer.Ordinal);

    public void Add(string name, long count = 1)
    {
        lock (_counts) _counts[name] = _counts.GetValueOrDefault(name) + count;
    }

    public long Total { get { lock (_counts) { long t = 0; foreach (var v in _counts.Values) t += v; return t; } } }

    public KeyValuePair<string, long>[] Snapshot()
    {
        lock (_counts)
        {
            var a = _counts.ToArray();
            Array.Sort(a, (x, y) => y.Value.CompareTo(x.Value));
            return a;
        }
    }
}

/// <summary>Running totals read by the progress line once per second (all events, warmup included).</summary>
public sealed class LiveCounters
{
    private long _producedRecords, _producedBytes, _consumedRecords, _consumedBytes;

    public long ProducedRecords => Interlocked.Read(ref _producedRecords);
    public long ProducedBytes => Interlocked.Read(ref _producedBytes);
    public long ConsumedRecords => Interlocked.Read(ref _consumedRecords);
    public long ConsumedBytes => Interlocked.Read(ref _consumedBytes);

    public void Produced(long records, long bytes) { Interlocked.Add(ref _producedRecords, records); Interlocked.Add(ref _producedBytes, bytes); }
    public void Consumed(long records, long bytes) { Interlocked.Add(ref _consumedRecords, records); Interlocked.Add(ref _consumedBytes, bytes); }
}

/// <summary>Figures of one side (produce or consume) inside the measured window; one per worker, merged at the end.</summary>
public sealed class SideStats
{
    public long Records;
    public long PayloadBytes;      // keys + values
    public long BatchBytes;        // record batch bytes on the wire
    public long Requests;
    public long FailedRecords;
    /// <summary>Produce: per record, send (or intended send) → ack. Consume: per record, stamped send → fetched.</summary>
    public readonly LatencyHistogram Latency = new();
    /// <summary>Produce: per request, send → ack. Consume: per fetch request, send → response.</summary>
    public readonly LatencyHistogram RequestLatency = new();

    public void Add(SideStats o)
    {
        Records += o.Records;
        PayloadBytes += o.PayloadBytes;
        BatchBytes += o.BatchBytes;
        Requests += o.Requests;
        FailedRecords += o.FailedRecords;
        Latency.Add(o.Latency);
        RequestLatency.Add(o.RequestLatency);
    }
}

/// <summary>
/// The stamp at the start of every record value: a 4-byte run id and the 8-byte Stopwatch timestamp of the record's
/// (intended) send time, big-endian. Consumers of the same run compute produce→consume latency from it.
/// </summary>
public static class E2EStamp
{
    public const int Size = 12;

    public static void Write(Span<byte> value, uint runId, long ticks)
    {
        BinaryPrimitives.WriteUInt32BigEndian(value, runId);
        BinaryPrimitives.WriteInt64BigEndian(value[4..], ticks);
    }

    public static bool TryRead(ReadOnlySpan<byte> value, uint runId, out long ticks)
    {
        ticks = 0;
        if (value.Length < Size || BinaryPrimitives.ReadUInt32BigEndian(value) != runId) return false;
        ticks = BinaryPrimitives.ReadInt64BigEndian(value[4..]);
        return true;
    }
}

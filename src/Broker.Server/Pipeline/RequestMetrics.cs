namespace Broker.Server.Pipeline;

/// <summary>Per-API request counts and total latency; the metrics endpoint (later) reads these.</summary>
public sealed class RequestMetrics
{
    private readonly long[] _count = new long[128];
    private readonly long[] _totalMs = new long[128];

    public void Record(short apiKey, long elapsedMs)
    {
        if ((uint)apiKey >= (uint)_count.Length) return;
        Interlocked.Increment(ref _count[apiKey]);
        Interlocked.Add(ref _totalMs[apiKey], elapsedMs);
    }

    public long Count(short apiKey) => (uint)apiKey < (uint)_count.Length ? Volatile.Read(ref _count[apiKey]) : 0;
    public long TotalMilliseconds(short apiKey) => (uint)apiKey < (uint)_totalMs.Length ? Volatile.Read(ref _totalMs[apiKey]) : 0;
}

namespace Broker.Core.Diagnostics;

/// <summary>Time source, injectable so storage retention and timeouts can be tested without sleeping.</summary>
public interface IClock
{
    long UnixTimeMilliseconds { get; }
    /// <summary>Monotonic milliseconds (for timeouts and durations).</summary>
    long MonotonicMilliseconds { get; }
}

public sealed class SystemClock : IClock
{
    public static readonly SystemClock Instance = new();
    public long UnixTimeMilliseconds => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
    public long MonotonicMilliseconds => Environment.TickCount64;
}

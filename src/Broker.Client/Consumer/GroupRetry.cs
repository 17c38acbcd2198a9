using Broker.Core.Model;

namespace Broker.Client.Consumer;

/// <summary>
/// How group requests treat errors: which ones mean "find the coordinator again", which mean "wait and retry", and
/// the backoff between attempts (100 ms doubling to 1 s, with jitter so members do not retry in lockstep).
/// </summary>
internal static class GroupRetry
{
    /// <summary>The coordinator moved or is unknown: look it up again.</summary>
    public static bool IsCoordinatorMoved(ErrorCode error) =>
        error is ErrorCode.NotCoordinator or ErrorCode.CoordinatorNotAvailable;

    /// <summary>Worth retrying against the coordinator (moved, or still loading the group's offsets partition).</summary>
    public static bool IsCoordinatorRetriable(ErrorCode error) =>
        IsCoordinatorMoved(error) || error == ErrorCode.CoordinatorLoadInProgress;

    /// <summary>A client-side failure to reach a broker (connection refused or lost, request timed out).</summary>
    public static bool IsTransport(ErrorCode error) =>
        error is ErrorCode.NetworkException or ErrorCode.RequestTimedOut or ErrorCode.BrokerNotAvailable
            or ErrorCode.LeaderNotAvailable or ErrorCode.NotCoordinator or ErrorCode.CoordinatorNotAvailable;

    public static TimeSpan Backoff(int attempt)
    {
        int ms = Math.Min(1000, 100 << Math.Min(attempt, 4));
        return TimeSpan.FromMilliseconds(ms * (0.8 + 0.4 * Random.Shared.NextDouble()));
    }
}

using System.Diagnostics;
using Broker.Core.Model;

namespace Broker.Client;

/// <summary>Which Kafka errors are worth retrying, and which of those mean the cached metadata is stale.</summary>
public static class KafkaErrors
{
    /// <summary>Transient errors: the same request may succeed later (leader moves, timeouts, lost connections).</summary>
    public static bool IsRetriable(ErrorCode error) => error is
        ErrorCode.NetworkException or ErrorCode.RequestTimedOut or ErrorCode.BrokerNotAvailable or
        ErrorCode.LeaderNotAvailable or ErrorCode.NotLeaderOrFollower or ErrorCode.UnknownTopicOrPartition or
        ErrorCode.ReplicaNotAvailable or ErrorCode.NotEnoughReplicas or ErrorCode.NotEnoughReplicasAfterAppend or
        ErrorCode.KafkaStorageError or ErrorCode.FencedLeaderEpoch or ErrorCode.UnknownLeaderEpoch or
        ErrorCode.OffsetNotAvailable or ErrorCode.CoordinatorLoadInProgress or ErrorCode.CoordinatorNotAvailable or
        ErrorCode.NotCoordinator or ErrorCode.NotController or ErrorCode.ThrottlingQuotaExceeded or
        ErrorCode.PreferredLeaderNotAvailable or ErrorCode.EligibleLeadersNotAvailable;

    /// <summary>Errors after which the partition's leader (or the broker list) must be looked up again.</summary>
    public static bool NeedsMetadataRefresh(ErrorCode error) => error is
        ErrorCode.NetworkException or ErrorCode.RequestTimedOut or ErrorCode.BrokerNotAvailable or
        ErrorCode.LeaderNotAvailable or ErrorCode.NotLeaderOrFollower or ErrorCode.UnknownTopicOrPartition or
        ErrorCode.ReplicaNotAvailable or ErrorCode.FencedLeaderEpoch or ErrorCode.UnknownLeaderEpoch or
        ErrorCode.KafkaStorageError;
}

/// <summary>
/// The retry clock of one operation: retries are allowed until the budget is spent, with a backoff that starts at
/// 50 ms and doubles up to 1 s (never sleeping past the budget).
/// </summary>
internal sealed class RetryState(TimeSpan budget)
{
    private static readonly TimeSpan FirstBackoff = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(1);

    private readonly long _start = Stopwatch.GetTimestamp();
    private TimeSpan _backoff = FirstBackoff;

    /// <summary>Retries done so far.</summary>
    public int Attempts { get; private set; }

    public TimeSpan Elapsed => Stopwatch.GetElapsedTime(_start);

    public bool CanRetry => Elapsed < budget;

    public async Task BackoffAsync(CancellationToken cancellationToken)
    {
        Attempts++;
        var left = budget - Elapsed;
        var wait = _backoff < left ? _backoff : left;
        _backoff = _backoff * 2 < MaxBackoff ? _backoff * 2 : MaxBackoff;
        if (wait > TimeSpan.Zero) await Task.Delay(wait, cancellationToken).ConfigureAwait(false);
    }
}

using Broker.Core.Diagnostics;
using Broker.Core.Model;
using Broker.Metadata.Controller;
using Broker.Metadata.Image;
using Broker.Server.Admin;

namespace Broker.Server.Groups;

/// <summary>
/// Creates __consumer_offsets the first time a client looks for a group coordinator (Kafka creates it the same
/// way, on the first FindCoordinator). One attempt at a time: while one is running, or within
/// <see cref="RetryBackoffMs"/> of a failed one, further requests start nothing. The replication factor is
/// offsets.topic.replication.factor capped at the number of live brokers (Kafka would refuse instead; a capped
/// topic is logged as a warning so that a single node works out of the box). Configs: cleanup.policy=compact,
/// segment.bytes=offsets.topic.segment.bytes.
/// </summary>
public sealed class OffsetsTopicCreator
{
    public const long RetryBackoffMs = 1000;
    private static readonly Logger Logger = Log.For("groups");

    private readonly ITopicAdmin _admin;
    private readonly OffsetsTopicSettings _settings;
    private readonly IClock _clock;
    private readonly object _lock = new();
    private Task? _attempt;
    private long _retryAfter = long.MinValue;

    public OffsetsTopicCreator(ITopicAdmin admin, OffsetsTopicSettings settings, IClock? clock = null)
    {
        ArgumentNullException.ThrowIfNull(admin);
        ArgumentNullException.ThrowIfNull(settings);
        _admin = admin;
        _settings = settings;
        _clock = clock ?? SystemClock.Instance;
    }

    /// <summary>The attempt started last (tests await it); null before the first.</summary>
    public Task? LastAttempt
    {
        get { lock (_lock) return _attempt; }
    }

    /// <summary>Number of creation requests sent to the controller so far.</summary>
    public int Attempts { get; private set; }

    /// <summary>
    /// Starts creating the topic unless an attempt is running or backing off; returns at once (the caller answers
    /// COORDINATOR_NOT_AVAILABLE and the client retries). Returns true when an attempt was started.
    /// </summary>
    public bool RequestCreation(MetadataImage image)
    {
        int live = image.UnfencedBrokerIds.Length;
        if (live == 0) return false; // nobody could host it yet
        lock (_lock)
        {
            if (_attempt is { IsCompleted: false } || _clock.MonotonicMilliseconds < _retryAfter) return false;
            short rf = (short)Math.Min(_settings.ReplicationFactor, live);
            if (rf < _settings.ReplicationFactor)
                Logger.Warn($"creating {InternalTopics.ConsumerOffsets} with replication factor {rf}: offsets.topic.replication.factor is " +
                            $"{_settings.ReplicationFactor} but only {live} broker(s) are alive");
            var spec = new NewTopicSpec(InternalTopics.ConsumerOffsets, _settings.Partitions, rf, Configs: new Dictionary<string, string?>
            {
                ["cleanup.policy"] = "compact",
                ["segment.bytes"] = _settings.SegmentBytes.ToString(System.Globalization.CultureInfo.InvariantCulture),
            });
            Attempts++;
            _attempt = CreateAsync(spec);
            return true;
        }
    }

    private async Task CreateAsync(NewTopicSpec spec)
    {
        ErrorCode error;
        string? message;
        try
        {
            // The attempt runs detached from the request that triggered it; it must not be cut short by that client.
            var results = await _admin.CreateTopicsAsync([spec], validateOnly: false, CancellationToken.None).ConfigureAwait(false);
            (error, message) = results.Count == 1 ? (results[0].Error, results[0].Message) : (ErrorCode.UnknownServerError, "no result");
        }
        catch (Exception ex)
        {
            (error, message) = (ErrorCode.UnknownServerError, ex.Message);
        }
        if (error == ErrorCode.None)
            Logger.Info($"created {spec.Name} ({spec.NumPartitions} partitions, replication factor {spec.ReplicationFactor})");
        else if (error != ErrorCode.TopicAlreadyExists)
        {
            Logger.Warn($"creating {spec.Name} failed: {error} {message}; retrying on a later FindCoordinator");
            lock (_lock) _retryAfter = _clock.MonotonicMilliseconds + RetryBackoffMs;
        }
    }
}

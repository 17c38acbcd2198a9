using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using Broker.Consensus;
using Broker.Core.Diagnostics;
using Broker.Core.Model;
using Broker.Metadata.Records;
using Broker.Metadata.Image;
using Broker.Storage;

namespace Broker.Server.Partitions;

/// <summary>
/// The local replicas of data partitions. <see cref="ApplyImage"/> reconciles them with the metadata image: every
/// partition whose replica set contains this node gets a log (via the <see cref="LogManager"/>) wrapped in an
/// <see cref="IReplicatedLog"/>; changed topic configs are pushed to the logs; partitions that left the image (or
/// this node) are removed and their logs deleted. Lookups are lock-free (a concurrent map of immutable
/// <see cref="PartitionState"/>s); reconciliation and on-demand creation serialise on one lock.
/// The metadata log (__cluster_metadata) is never touched, even when it lives in the same LogManager.
/// Ownership: the LogManager is the caller's and closes the logs; <see cref="Dispose"/> only detaches.
/// </summary>
public sealed partial class PartitionManager : IDisposable
{
    private static readonly Logger Logger = Log.For("partitions");

    private readonly LogManager _logs;
    private Func<TopicImage, LogOptions> _logOptions;
    private Func<TopicImage, TopicSettings> _settings;
    private readonly Func<IPartitionLog, PartitionImage, IReplicatedLog> _replicaFactory;
    private readonly ConcurrentDictionary<TopicPartition, PartitionState> _states = new();
    private readonly object _applyLock = new();
    private MetadataImage? _image;
    private bool _disposed;

    /// <param name="logs">Creates, finds and deletes the partition logs.</param>
    /// <param name="localNodeId">This node's id (node.id).</param>
    /// <param name="logOptions">A topic's storage options (its configs over the broker's log.* defaults).</param>
    /// <param name="settings">A topic's message.timestamp.type / min.insync.replicas; default: the topic's configs
    /// over <see cref="TopicSettings.Default"/>.</param>
    /// <param name="replicaFactory">Wraps a log in its replicated log; default: a one-voter
    /// <see cref="LocalReplicatedLog"/> at the partition's leader epoch (the one place to swap in Raft).</param>
    public PartitionManager(
        LogManager logs,
        int localNodeId,
        Func<TopicImage, LogOptions> logOptions,
        Func<TopicImage, TopicSettings>? settings = null,
        Func<IPartitionLog, PartitionImage, IReplicatedLog>? replicaFactory = null)
    {
        ArgumentNullException.ThrowIfNull(logs);
        ArgumentNullException.ThrowIfNull(logOptions);
        _logs = logs;
        LocalNodeId = localNodeId;
        _logOptions = logOptions;
        _settings = settings ?? (static topic => TopicSettings.Resolve(topic.Configs, TopicSettings.Default));
        _replicaFactory = replicaFactory ?? ((log, partition) => new LocalReplicatedLog(log, partition.LeaderEpoch, partition.Leader == localNodeId));
    }

    public int LocalNodeId { get; }

    /// <summary>The image last applied (null before the first <see cref="ApplyImage"/>).</summary>
    public MetadataImage? Image => Volatile.Read(ref _image);

    /// <summary>Number of local replicas.</summary>
    public int Count => _states.Count;

    /// <summary>A snapshot of the local replicas (diagnostics, DescribeLogDirs).</summary>
    public IReadOnlyList<PartitionState> Partitions => [.. _states.Values];

    /// <summary>
    /// Reconciles the local replicas with <paramref name="image"/> (see the type comment). Call it with every new
    /// image, in order. Failures to open a log are logged and retried at the next image or first use.
    /// </summary>
    public void ApplyImage(MetadataImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        lock (_applyLock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            Volatile.Write(ref _image, image);
            var wanted = new HashSet<TopicPartition>();
            // Replicas to open (new here): opened below from several threads, their log and Raft state fsyncs overlap.
            var fresh = new List<(TopicPartition Id, TopicImage Topic, PartitionImage Partition, LogOptions Options, TopicSettings Settings)>();
            foreach (var topic in image.TopicsByName.Values)
            {
                if (IsMetadataTopic(topic.Name)) continue;
                LogOptions? options = null;
                TopicSettings? settings = null;
                foreach (var partition in topic.Partitions)
                {
                    if (!partition.Replicas.Contains(LocalNodeId)) continue;
                    var id = new TopicPartition(topic.Name, partition.PartitionId);
                    wanted.Add(id);
                    try
                    {
                        options ??= _logOptions(topic);
                        settings ??= _settings(topic);
                        if (_states.ContainsKey(id)) Ensure(id, topic, partition, options, settings);
                        else fresh.Add((id, topic, partition, options, settings));
                    }
                    catch (Exception ex)
                    {
                        Logger.Error($"could not open the local replica of {id}", ex);
                    }
                }
            }
            ParallelIo.ForEach(fresh, f =>
            {
                try
                {
                    Ensure(f.Id, f.Topic, f.Partition, f.Options, f.Settings);
                }
                catch (Exception ex)
                {
                    Logger.Error($"could not open the local replica of {f.Id}", ex);
                }
            });
            foreach (var entry in _states)
                if (!wanted.Contains(entry.Key)) RemoveAndDelete(entry.Key, entry.Value);
        }
    }

    /// <summary>
    /// Replaces how topics' storage options and settings are resolved (e.g. with dynamic broker configs layered over
    /// server.properties; the resolvers may read <see cref="Image"/>, which is set before they are called) and
    /// re-applies the current image, so the open logs get the new options at once. Later images use them too.
    /// </summary>
    public void SetOptionResolvers(Func<TopicImage, LogOptions> logOptions, Func<TopicImage, TopicSettings> settings)
    {
        ArgumentNullException.ThrowIfNull(logOptions);
        ArgumentNullException.ThrowIfNull(settings);
        lock (_applyLock)
        {
            _logOptions = logOptions;
            _settings = settings;
            if (_image is { } image && !_disposed) ApplyImage(image);
        }
    }

    /// <summary>
    /// The local replica of <paramref name="topic"/>-<paramref name="partition"/>. Lock-free when it exists; a
    /// partition that is in the image with a replica here but not opened yet is created on demand.
    /// </summary>
    public bool TryGetPartition(string topic, int partition, [MaybeNullWhen(false)] out PartitionState state)
    {
        if (_states.TryGetValue(new TopicPartition(topic, partition), out state)) return true;
        state = CreateOnDemand(new TopicPartition(topic, partition));
        return state is not null;
    }

    /// <summary>
    /// Like <see cref="TryGetPartition"/> but says why a partition is not served here: UNKNOWN_TOPIC_OR_PARTITION
    /// when the image does not have it, NOT_LEADER_OR_FOLLOWER when it has no replica on this node,
    /// KAFKA_STORAGE_ERROR when its log could not be opened. Leadership is not checked (see
    /// <see cref="PartitionState.IsLeader"/>).
    /// </summary>
    public ErrorCode Find(string topic, int partition, [NotNullWhen(true)] out PartitionState? state)
    {
        if (_states.TryGetValue(new TopicPartition(topic, partition), out state)) return ErrorCode.None;
        var image = Volatile.Read(ref _image);
        var partitionImage = image?.GetPartition(topic, partition);
        if (partitionImage is null || IsMetadataTopic(topic)) return ErrorCode.UnknownTopicOrPartition;
        if (!partitionImage.Replicas.Contains(LocalNodeId)) return ErrorCode.NotLeaderOrFollower;
        try
        {
            state = CreateOnDemand(new TopicPartition(topic, partition));
        }
        catch (Exception ex)
        {
            Logger.Error($"could not open the local replica of {topic}-{partition}", ex);
            return ErrorCode.KafkaStorageError;
        }
        return state is null ? ErrorCode.UnknownTopicOrPartition : ErrorCode.None;
    }

    /// <summary>Applies retention to every local replica; returns the number of segments deleted.</summary>
    public int RunRetention(long nowMs)
    {
        int deleted = 0;
        foreach (var entry in _states)
        {
            try
            {
                deleted += entry.Value.Replica.ApplyRetention(nowMs);
            }
            catch (ObjectDisposedException)
            {
                // removed concurrently
            }
            catch (Exception ex)
            {
                Logger.Error($"retention failed for {entry.Key}", ex);
            }
        }
        return deleted;
    }

    /// <summary>
    /// One log-cleaner round: compacts, up to its high watermark (only committed data), every local replica whose
    /// topic has cleanup.policy=compact and whose cleanable dirty ratio reached min.cleanable.dirty.ratio. Logs one
    /// line per compaction; returns how many logs were compacted.
    /// </summary>
    public int RunCompaction(long nowMs)
    {
        int compacted = 0;
        foreach (var entry in _states)
        {
            var state = entry.Value;
            if (!state.LogOptions.Compact) continue;
            try
            {
                long highWatermark = state.Replica.HighWatermark;
                double ratio = state.Log.CleanableDirtyRatio(highWatermark, nowMs);
                if (ratio <= 0 || ratio < state.LogOptions.MinCleanableDirtyRatio) continue;
                var result = state.Log.Compact(highWatermark, nowMs);
                if (!result.Ran) continue;
                compacted++;
                Logger.Info($"compacted {entry.Key} (dirty ratio {ratio:F2}): {result}");
            }
            catch (ObjectDisposedException)
            {
                // removed concurrently
            }
            catch (Exception ex)
            {
                Logger.Error($"compaction failed for {entry.Key}", ex);
            }
        }
        return compacted;
    }

    /// <summary>Flushes every local replica's log (from several threads: the fsyncs overlap).</summary>
    public void FlushAll()
    {
        ParallelIo.ForEach([.. _states], static entry =>
        {
            try
            {
                entry.Value.Log.Flush();
            }
            catch (ObjectDisposedException)
            {
                // removed concurrently
            }
            catch (Exception ex)
            {
                Logger.Error($"flush failed for {entry.Key}", ex);
            }
        });
    }

    /// <summary>
    /// Moves aside (never deletes) logs the LogManager loaded from disk that the current image does not place on
    /// this node: topics deleted while the broker was down, or (after an operator mistake) a lost or reset metadata
    /// log, where deleting would destroy every partition. Kafka renames such logs with a "-stray" suffix too.
    /// Call once, after the metadata log has been replayed and the resulting image applied. Returns how many moved.
    /// </summary>
    public int MoveStrayLogsAside()
    {
        lock (_applyLock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var image = _image ?? throw new InvalidOperationException("no metadata image applied yet");
            int moved = 0;
            foreach (var id in _logs.Partitions)
            {
                if (IsMetadataTopic(id.Topic) || _states.ContainsKey(id)) continue;
                var partition = image.GetPartition(id.Topic, id.Partition);
                if (partition is not null && partition.Replicas.Contains(LocalNodeId)) continue;
                string? target = _logs.MoveAside(id);
                if (target is null) continue;
                Logger.Warn($"log {id} is not a replica of this node in the metadata; moved it aside to {target} (delete it by hand if it is not needed)");
                moved++;
            }
            return moved;
        }
    }

    /// <summary>
    /// Closes every replica (a Raft group stops replicating and releases its state files; its log is closed too,
    /// which the LogManager tolerates). Call at shutdown before disposing the LogManager.
    /// </summary>
    public void CloseReplicas()
    {
        lock (_applyLock)
        {
            ParallelIo.ForEach([.. _states], static entry =>
            {
                try { entry.Value.Replica.Dispose(); }
                catch (Exception ex) { Logger.Error($"closing the replica of {entry.Key} failed", ex); }
            });
            _states.Clear();
        }
    }

    /// <summary>Detaches from the logs: later lookups find nothing. The LogManager (the caller's) closes them.</summary>
    public void Dispose()
    {
        lock (_applyLock)
        {
            _disposed = true;
            _states.Clear();
        }
    }

    private PartitionState? CreateOnDemand(TopicPartition id)
    {
        if (IsMetadataTopic(id.Topic)) return null;
        lock (_applyLock)
        {
            if (_disposed) return null;
            if (_states.TryGetValue(id, out var existing)) return existing;
            var topic = Volatile.Read(ref _image)?.GetTopic(id.Topic);
            var partition = topic?.GetPartition(id.Partition);
            if (topic is null || partition is null || !partition.Replicas.Contains(LocalNodeId)) return null;
            return Ensure(id, topic, partition, _logOptions(topic), _settings(topic));
        }
    }

    /// <summary>Creates or refreshes one replica's state. Caller holds <see cref="_applyLock"/>.</summary>
    private PartitionState Ensure(TopicPartition id, TopicImage topic, PartitionImage partition, LogOptions options, TopicSettings settings)
    {
        if (_states.TryGetValue(id, out var existing) && existing.Topic.TopicId != topic.TopicId)
        {
            // Same name, new topic (deleted and re-created between two images): the old data must go.
            RemoveAndDelete(id, existing);
            existing = null;
        }

        if (existing is null)
        {
            var log = _logs.GetOrCreate(id, options);
            if (!log.Options.Equals(options)) log.UpdateOptions(options);
            var created = new PartitionState(id, topic, partition, _replicaFactory(log, partition), options, settings, LocalNodeId);
            _states[id] = created;
            Logger.Info($"opened local replica {created}");
            return created;
        }

        if (ReferenceEquals(existing.Topic, topic) && existing.Image.Equals(partition)
            && existing.LogOptions.Equals(options) && existing.Settings.Equals(settings))
            return existing;

        if (!existing.LogOptions.Equals(options)) existing.Log.UpdateOptions(options);
        var replica = existing.Replica;
        if (replica is LocalReplicatedLog
            && (replica.LeaderEpoch != partition.LeaderEpoch || replica.IsLeader != (partition.Leader == LocalNodeId)))
        {
            // A replica without its own election has its leadership and epoch fixed at construction: wrap the same
            // log again as the image now says. The old wrapper is dropped, not disposed (disposing it would close
            // the shared log). Raft replicas follow leadership themselves and are kept.
            replica = _replicaFactory(replica.Log, partition);
        }
        var updated = new PartitionState(id, topic, partition, replica, options, settings, LocalNodeId);
        _states[id] = updated;
        return updated;
    }

    private void RemoveAndDelete(TopicPartition id, PartitionState state)
    {
        if (!_states.TryRemove(new KeyValuePair<TopicPartition, PartitionState>(id, state))) return;
        try
        {
            state.Replica.Dispose();
        }
        catch (Exception ex)
        {
            Logger.Error($"closing the replica of {id} failed", ex);
        }
        try
        {
            _logs.Delete(id);
        }
        catch (Exception ex)
        {
            Logger.Error($"deleting the log of {id} failed", ex);
        }
        Logger.Info($"removed local replica {id}");
    }

    private static bool IsMetadataTopic(string topic) =>
        string.Equals(topic, MetadataConstants.MetadataTopic, StringComparison.Ordinal);
}

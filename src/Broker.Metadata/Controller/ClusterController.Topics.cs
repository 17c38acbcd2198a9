using Broker.Core.Model;
using Broker.Metadata.Image;
using Broker.Metadata.Records;

namespace Broker.Metadata.Controller;

/// <summary>CreateTopics and DeleteTopics.</summary>
public sealed partial class ClusterController
{
    /// <summary>
    /// Validates and creates topics. All valid topics of the call are written in one batch; invalid ones get
    /// their own error. With <paramref name="validateOnly"/> nothing is written but results are as if it were.
    /// </summary>
    public async Task<IReadOnlyList<CreateTopicResult>> CreateTopicsAsync(
        IReadOnlyList<NewTopicSpec> topics, bool validateOnly, CancellationToken cancellationToken = default)
    {
        var results = new CreateTopicResult[topics.Count];
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var ready = await CatchUpAsync(cancellationToken).ConfigureAwait(false);
            if (!ready.IsSuccess) return FailAll(topics, ready);
            var image = _applier.Current;
            var duplicates = FindDuplicates(NamesOf(topics));
            var collisionKeys = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var topic in image.TopicsByName.Keys) collisionKeys.TryAdd(TopicNames.CollisionKey(topic), topic);

            var records = new List<MetadataRecord>();
            var written = new List<int>();
            for (int i = 0; i < topics.Count; i++)
            {
                var spec = topics[i];
                if (spec.Name is not null && duplicates.Contains(spec.Name))
                {
                    results[i] = CreateTopicResult.Failed(spec.Name, ErrorCode.InvalidRequest, $"Create topics request contains duplicate topic name '{spec.Name}'");
                    continue;
                }
                results[i] = PlanTopic(spec, image, collisionKeys, records);
                if (results[i].Error == ErrorCode.None) written.Add(i);
            }

            if (!validateOnly && records.Count > 0)
            {
                var commit = await CommitAsync(records, cancellationToken).ConfigureAwait(false);
                if (!commit.IsSuccess)
                    foreach (int i in written) results[i] = CreateTopicResult.Failed(topics[i].Name, commit.Error, commit.Message);
                else
                    foreach (int i in written) _logger.Info($"created topic '{results[i].Name}' ({results[i].TopicId}) with {results[i].NumPartitions} partitions, RF {results[i].ReplicationFactor}");
            }
            return results;
        }
        finally { _writeLock.Release(); }
    }

    /// <summary>Validates one topic; on success appends its records and returns the result to report.</summary>
    private CreateTopicResult PlanTopic(NewTopicSpec spec, MetadataImage image, Dictionary<string, string> collisionKeys, List<MetadataRecord> records)
    {
        string name = spec.Name ?? "";
        var nameError = TopicNames.Validate(spec.Name);
        if (nameError is not null) return CreateTopicResult.Failed(name, ErrorCode.InvalidTopicException, nameError);
        if (TopicNames.IsReserved(name))
            return CreateTopicResult.Failed(name, ErrorCode.InvalidTopicException, $"Topic name '{name}' is reserved");
        if (image.GetTopic(name) is not null)
            return CreateTopicResult.Failed(name, ErrorCode.TopicAlreadyExists, $"Topic '{name}' already exists.");
        if (collisionKeys.TryGetValue(TopicNames.CollisionKey(name), out var other))
            return CreateTopicResult.Failed(name, ErrorCode.InvalidTopicException, $"Topic '{name}' collides with existing topic: {other}");

        var configs = new Dictionary<string, string>(StringComparer.Ordinal);
        if (spec.Configs is not null)
        {
            foreach (var (key, value) in spec.Configs)
            {
                if (value is null)
                    return CreateTopicResult.Failed(name, ErrorCode.InvalidConfig, $"Null value not supported for topic config '{key}'");
                var configError = _validateTopicConfig(key, value);
                if (configError is not null) return CreateTopicResult.Failed(name, ErrorCode.InvalidConfig, configError);
                configs[key] = value;
            }
        }

        int[][] assignment;
        var planned = spec.ManualAssignment is not null
            ? ValidateManualAssignment(spec, image, out assignment)
            : PlaceReplicas(spec, image, out assignment);
        if (planned.Error != ErrorCode.None) return CreateTopicResult.Failed(name, planned.Error, planned.Message);

        var topicId = TopicIds.NewTopicId(image);
        records.Add(new TopicRecord(name, topicId));
        for (int p = 0; p < assignment.Length; p++) records.Add(NewPartitionRecord(topicId, p, assignment[p], image));
        foreach (var (key, value) in configs) records.Add(new ConfigRecord(ConfigResourceType.Topic, name, key, value));
        collisionKeys.TryAdd(TopicNames.CollisionKey(name), name);
        return new CreateTopicResult(name, ErrorCode.None, null, topicId, assignment.Length, (short)assignment[0].Length, configs);
    }

    private ControllerResult PlaceReplicas(NewTopicSpec spec, MetadataImage image, out int[][] assignment)
    {
        assignment = [];
        int partitions = spec.NumPartitions == -1 ? _options.NumPartitions : spec.NumPartitions;
        int replicationFactor = spec.ReplicationFactor == -1 ? _options.DefaultReplicationFactor : spec.ReplicationFactor;
        if (partitions < 1) return new(ErrorCode.InvalidPartitions, $"Number of partitions was set to an invalid non-positive value ({partitions}).");
        if (partitions > _options.MaxPartitionsPerTopic)
            return new(ErrorCode.InvalidPartitions, $"Number of partitions {partitions} exceeds the limit of {_options.MaxPartitionsPerTopic}.");
        if (replicationFactor < 1)
            return new(ErrorCode.InvalidReplicationFactor, $"Replication factor must be larger than 0, or -1 to use the default value ({replicationFactor}).");
        var brokers = image.UnfencedBrokerIds;
        if (replicationFactor > brokers.Length)
            return new(ErrorCode.InvalidReplicationFactor,
                $"Unable to replicate the partition {replicationFactor} time(s): only {brokers.Length} unfenced broker(s) are registered.");
        assignment = ReplicaPlacer.Place(brokers, partitions, replicationFactor, _placementCursor++);
        return ControllerResult.Ok;
    }

    private static ControllerResult ValidateManualAssignment(NewTopicSpec spec, MetadataImage image, out int[][] assignment)
    {
        assignment = [];
        var manual = spec.ManualAssignment!;
        if (spec.NumPartitions != -1 || spec.ReplicationFactor != -1)
            return new(ErrorCode.InvalidRequest, "Both numPartitions or replicationFactor and replicasAssignments were set. Both cannot be used at the same time.");
        if (manual.Count == 0) return new(ErrorCode.InvalidReplicaAssignment, "The manual replica assignment is empty.");
        var result = new int[manual.Count][];
        for (int p = 0; p < manual.Count; p++)
        {
            if (!manual.TryGetValue(p, out var replicas))
                return new(ErrorCode.InvalidReplicaAssignment, "Partitions in the manual assignment must be numbered consecutively from 0.");
            var error = ValidateReplicaList(p, replicas, result.Length > 0 && p > 0 ? result[0].Length : -1, image);
            if (!error.IsSuccess) return error;
            result[p] = (int[])replicas.Clone();
        }
        assignment = result;
        return ControllerResult.Ok;
    }

    /// <summary>Checks one manually assigned replica list: non-empty, distinct, registered brokers, one unfenced.</summary>
    private static ControllerResult ValidateReplicaList(int partition, int[]? replicas, int expectedLength, MetadataImage image)
    {
        if (replicas is null || replicas.Length == 0)
            return new(ErrorCode.InvalidReplicaAssignment, $"The manual partition assignment for partition {partition} is empty.");
        if (expectedLength >= 0 && replicas.Length != expectedLength)
            return new(ErrorCode.InvalidReplicaAssignment,
                $"The manual partition assignment includes a partition with {replicas.Length} replica(s), but this is not consistent with previous partitions, which have {expectedLength} replica(s).");
        bool anyUnfenced = false;
        for (int i = 0; i < replicas.Length; i++)
        {
            for (int j = 0; j < i; j++)
                if (replicas[j] == replicas[i])
                    return new(ErrorCode.InvalidReplicaAssignment, $"The manual partition assignment for partition {partition} contains duplicate replica {replicas[i]}.");
            var broker = image.GetBroker(replicas[i]);
            if (broker is null)
                return new(ErrorCode.InvalidReplicaAssignment, $"The manual partition assignment for partition {partition} includes broker {replicas[i]}, which is not registered.");
            anyUnfenced |= !broker.Fenced;
        }
        if (!anyUnfenced)
            return new(ErrorCode.InvalidReplicaAssignment, $"All brokers specified in the manual partition assignment for partition {partition} are fenced.");
        return ControllerResult.Ok;
    }

    /// <summary>A new partition: ISR = the unfenced replicas, leader = the first of them, epochs 0.</summary>
    private static PartitionRecord NewPartitionRecord(Guid topicId, int partitionId, int[] replicas, MetadataImage image)
    {
        var isr = new List<int>(replicas.Length);
        foreach (int r in replicas)
            if (image.GetBroker(r) is { Fenced: false }) isr.Add(r);
        int leader = isr.Count > 0 ? isr[0] : MetadataConstants.NoLeader;
        return new PartitionRecord(partitionId, topicId, replicas, isr.ToArray(), leader, LeaderEpoch: 0, PartitionEpoch: 0);
    }

    /// <summary>Deletes topics by name or id, all found ones in one batch.</summary>
    public async Task<IReadOnlyList<DeleteTopicResult>> DeleteTopicsAsync(
        IReadOnlyList<TopicReference> topics, CancellationToken cancellationToken = default)
    {
        var results = new DeleteTopicResult[topics.Count];
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var ready = await CatchUpAsync(cancellationToken).ConfigureAwait(false);
            var image = _applier.Current;
            var duplicateNames = FindDuplicates(NamesOf(topics));
            var seenIds = new HashSet<Guid>();
            var records = new List<MetadataRecord>();
            var written = new List<int>();
            for (int i = 0; i < topics.Count; i++)
            {
                var reference = topics[i];
                var topic = reference.Name is not null ? image.GetTopic(reference.Name) : image.GetTopic(reference.TopicId);
                string? name = reference.Name ?? topic?.Name;
                Guid id = topic?.TopicId ?? reference.TopicId;
                (ErrorCode, string?) outcome =
                    !ready.IsSuccess ? (ready.Error, ready.Message)
                    : !_options.DeleteTopicEnable ? (ErrorCode.TopicDeletionDisabled, "Topic deletion is disabled.")
                    : reference.Name is not null && duplicateNames.Contains(reference.Name) ? (ErrorCode.InvalidRequest, $"Duplicate topic name '{reference.Name}' in request")
                    : topic is null && reference.Name is not null ? (ErrorCode.UnknownTopicOrPartition, $"Topic '{reference.Name}' does not exist.")
                    : topic is null ? (ErrorCode.UnknownTopicId, $"Topic id {reference.TopicId} does not exist.")
                    : !seenIds.Add(topic.TopicId) ? (ErrorCode.InvalidRequest, $"Topic '{topic.Name}' is named more than once in the request")
                    : (ErrorCode.None, null);
                results[i] = new DeleteTopicResult(name, id, outcome.Item1, outcome.Item2);
                if (outcome.Item1 != ErrorCode.None) continue;
                records.Add(new RemoveTopicRecord(topic!.TopicId));
                written.Add(i);
            }
            if (records.Count > 0)
            {
                var commit = await CommitAsync(records, cancellationToken).ConfigureAwait(false);
                foreach (int i in written)
                {
                    if (!commit.IsSuccess) results[i] = results[i] with { Error = commit.Error, Message = commit.Message };
                    else _logger.Info($"deleted topic '{results[i].Name}' ({results[i].TopicId})");
                }
            }
            return results;
        }
        finally { _writeLock.Release(); }
    }

    /// <summary>Deletes topics by name.</summary>
    public Task<IReadOnlyList<DeleteTopicResult>> DeleteTopicsAsync(IReadOnlyList<string> names, CancellationToken cancellationToken = default)
    {
        var references = new TopicReference[names.Count];
        for (int i = 0; i < names.Count; i++) references[i] = TopicReference.ByName(names[i]);
        return DeleteTopicsAsync(references, cancellationToken);
    }

    private static IEnumerable<string?> NamesOf(IReadOnlyList<NewTopicSpec> topics)
    {
        foreach (var t in topics) yield return t.Name;
    }

    private static IEnumerable<string?> NamesOf(IReadOnlyList<TopicReference> topics)
    {
        foreach (var t in topics) yield return t.Name;
    }

    private static CreateTopicResult[] FailAll(IReadOnlyList<NewTopicSpec> topics, ControllerResult error)
    {
        var results = new CreateTopicResult[topics.Count];
        for (int i = 0; i < topics.Count; i++) results[i] = CreateTopicResult.Failed(topics[i].Name, error.Error, error.Message);
        return results;
    }
}

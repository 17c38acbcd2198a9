using Broker.Core.Model;
using Broker.Metadata.Image;
using Broker.Metadata.Records;

namespace Broker.Metadata.Controller;

/// <summary>A refused config entry: INVALID_CONFIG (unknown key, bad value) or INVALID_REQUEST (read-only key).</summary>
public readonly record struct ConfigRefusal(ErrorCode Error, string Message);

/// <summary>CreatePartitions and dynamic config changes (topic and broker resources).</summary>
public sealed partial class ClusterController
{
    /// <summary>
    /// Checks all changes of one broker resource at once (name → value, null = delete) and returns the refusal, or
    /// null to accept them. Set by the host (which knows the broker key table: unknown keys and bad values are
    /// INVALID_CONFIG, read-only keys INVALID_REQUEST); when null, the constructor's per-entry broker validator is
    /// used and every refusal is INVALID_CONFIG.
    /// </summary>
    public Func<IReadOnlyDictionary<string, string?>, ConfigRefusal?>? BrokerConfigPolicy { get; set; }

    /// <summary>Adds partitions to existing topics; all valid specs of the call are written in one batch.</summary>
    public async Task<IReadOnlyList<CreatePartitionsResult>> CreatePartitionsAsync(
        IReadOnlyList<NewPartitionsSpec> specs, bool validateOnly, CancellationToken cancellationToken = default)
    {
        var results = new CreatePartitionsResult[specs.Count];
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var ready = await CatchUpAsync(cancellationToken).ConfigureAwait(false);
            var image = _applier.Current;
            var duplicates = FindDuplicates(TopicsOf(specs));
            var records = new List<MetadataRecord>();
            var written = new List<int>();
            for (int i = 0; i < specs.Count; i++)
            {
                var spec = specs[i];
                var outcome = !ready.IsSuccess ? ready
                    : duplicates.Contains(spec.Topic) ? new(ErrorCode.InvalidRequest, $"Duplicate topic '{spec.Topic}' in request")
                    : PlanPartitions(spec, image, records);
                results[i] = new CreatePartitionsResult(spec.Topic, outcome.Error, outcome.Message);
                if (outcome.IsSuccess) written.Add(i);
            }
            if (!validateOnly && records.Count > 0)
            {
                var commit = await CommitAsync(records, cancellationToken).ConfigureAwait(false);
                if (!commit.IsSuccess)
                    foreach (int i in written) results[i] = results[i] with { Error = commit.Error, Message = commit.Message };
            }
            return results;
        }
        finally { _writeLock.Release(); }
    }

    /// <summary>Adds partitions to one topic.</summary>
    public async Task<CreatePartitionsResult> CreatePartitionsAsync(
        string topic, int newTotalCount, IReadOnlyList<int[]>? assignment, bool validateOnly, CancellationToken cancellationToken = default) =>
        (await CreatePartitionsAsync([new NewPartitionsSpec(topic, newTotalCount, assignment)], validateOnly, cancellationToken).ConfigureAwait(false))[0];

    private ControllerResult PlanPartitions(NewPartitionsSpec spec, MetadataImage image, List<MetadataRecord> records)
    {
        var topic = spec.Topic is null ? null : image.GetTopic(spec.Topic);
        if (topic is null) return new(ErrorCode.UnknownTopicOrPartition, $"Topic '{spec.Topic}' does not exist.");
        int current = topic.PartitionCount;
        if (spec.TotalCount < current)
            return new(ErrorCode.InvalidPartitions, $"Topic currently has {current} partitions, which is higher than the requested {spec.TotalCount}.");
        if (spec.TotalCount == current) return new(ErrorCode.InvalidPartitions, $"Topic already has {current} partitions.");
        if (spec.TotalCount > _options.MaxPartitionsPerTopic)
            return new(ErrorCode.InvalidPartitions, $"Number of partitions {spec.TotalCount} exceeds the limit of {_options.MaxPartitionsPerTopic}.");
        int adding = spec.TotalCount - current;
        int replicationFactor = Math.Max(1, topic.ReplicationFactor);

        int[][] assignment;
        if (spec.Assignment is not null)
        {
            if (spec.Assignment.Count != adding)
                return new(ErrorCode.InvalidReplicaAssignment, $"Attempted to add {adding} additional partition(s), but only {spec.Assignment.Count} assignment(s) were specified.");
            assignment = new int[adding][];
            for (int i = 0; i < adding; i++)
            {
                var check = ValidateReplicaList(current + i, spec.Assignment[i], replicationFactor, image);
                if (!check.IsSuccess) return check;
                assignment[i] = (int[])spec.Assignment[i].Clone();
            }
        }
        else
        {
            var brokers = image.UnfencedBrokerIds;
            if (replicationFactor > brokers.Length)
                return new(ErrorCode.InvalidReplicationFactor,
                    $"Unable to replicate the partition {replicationFactor} time(s): only {brokers.Length} unfenced broker(s) are registered.");
            assignment = ReplicaPlacer.Place(brokers, adding, replicationFactor, _placementCursor++ + current);
        }
        for (int i = 0; i < adding; i++) records.Add(NewPartitionRecord(topic.TopicId, current + i, assignment[i], image));
        return ControllerResult.Ok;
    }

    /// <summary>
    /// Applies dynamic config changes (value = set, null = delete) to topics and brokers. Each resource is validated
    /// on its own; the changes of all valid resources are written in one batch. No-op changes write nothing.
    /// </summary>
    public async Task<IReadOnlyList<AlterConfigsResult>> AlterConfigsAsync(
        IReadOnlyList<ConfigResourceChange> resources, bool validateOnly, CancellationToken cancellationToken = default)
    {
        var results = new AlterConfigsResult[resources.Count];
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var ready = await CatchUpAsync(cancellationToken).ConfigureAwait(false);
            var image = _applier.Current;
            var records = new List<MetadataRecord>();
            var written = new List<int>();
            for (int i = 0; i < resources.Count; i++)
            {
                var resource = resources[i];
                int before = records.Count;
                var outcome = ready.IsSuccess ? PlanConfigs(resource, image, records) : ready;
                results[i] = new AlterConfigsResult(resource.ResourceType, resource.ResourceName, outcome.Error, outcome.Message);
                if (outcome.IsSuccess && records.Count > before) written.Add(i);
            }
            if (!validateOnly && records.Count > 0)
            {
                var commit = await CommitAsync(records, cancellationToken).ConfigureAwait(false);
                if (!commit.IsSuccess)
                    foreach (int i in written) results[i] = results[i] with { Error = commit.Error, Message = commit.Message };
            }
            return results;
        }
        finally { _writeLock.Release(); }
    }

    /// <summary>Sets (value) or deletes (null) dynamic configs of one topic.</summary>
    public async Task<AlterConfigsResult> AlterTopicConfigsAsync(
        string topic, IReadOnlyDictionary<string, string?> changes, bool validateOnly, CancellationToken cancellationToken = default) =>
        (await AlterConfigsAsync([new ConfigResourceChange(ConfigResourceType.Topic, topic, changes)], validateOnly, cancellationToken).ConfigureAwait(false))[0];

    private ControllerResult PlanConfigs(ConfigResourceChange resource, MetadataImage image, List<MetadataRecord> records)
    {
        IReadOnlyDictionary<string, string> current;
        Func<string, string?, string?> validate;
        switch (resource.ResourceType)
        {
            case ConfigResourceType.Topic:
                var topic = resource.ResourceName is null ? null : image.GetTopic(resource.ResourceName);
                if (topic is null) return new(ErrorCode.UnknownTopicOrPartition, $"Topic '{resource.ResourceName}' does not exist.");
                current = topic.Configs;
                validate = _validateTopicConfig;
                break;
            case ConfigResourceType.Broker:
                if (resource.ResourceName is null || (resource.ResourceName.Length > 0 && !IsBrokerId(resource.ResourceName)))
                    return new(ErrorCode.InvalidRequest, $"Broker resource name '{resource.ResourceName}' is not empty and not a broker id.");
                current = image.GetBrokerConfigs(resource.ResourceName);
                validate = _validateBrokerConfig;
                if (BrokerConfigPolicy is { } policy)
                {
                    if (policy(resource.Changes) is { } refusal) return new(refusal.Error, refusal.Message);
                    validate = AcceptAnyConfig;
                }
                break;
            default:
                return new(ErrorCode.InvalidRequest, $"Unsupported config resource type {(int)resource.ResourceType}.");
        }

        var planned = new List<MetadataRecord>();
        foreach (var (name, value) in resource.Changes)
        {
            if (string.IsNullOrEmpty(name)) return new(ErrorCode.InvalidConfig, "Config names must not be empty.");
            if (value is not null)
            {
                var error = validate(name, value);
                if (error is not null) return new(ErrorCode.InvalidConfig, error);
            }
            bool exists = current.TryGetValue(name, out var existing);
            if (value is null ? !exists : exists && existing == value) continue; // no-op
            planned.Add(new ConfigRecord(resource.ResourceType, resource.ResourceName!, name, value));
        }
        records.AddRange(planned);
        return ControllerResult.Ok;
    }

    /// <summary>A broker id as Kafka writes it: a non-negative decimal int without sign or spaces.</summary>
    private static bool IsBrokerId(string name) =>
        int.TryParse(name, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out _);

    private static IEnumerable<string?> TopicsOf(IReadOnlyList<NewPartitionsSpec> specs)
    {
        foreach (var s in specs) yield return s.Topic;
    }
}

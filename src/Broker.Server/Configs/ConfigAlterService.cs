using System.Globalization;
using Broker.Config;
using Broker.Core.Model;
using Broker.Metadata.Controller;
using Broker.Metadata.Image;
using Broker.Metadata.Records;
using Broker.Server.Admin;

namespace Broker.Server.Configs;

/// <summary>
/// Applies dynamic config changes (value = set, null = delete) of topic and broker resources for AlterConfigs,
/// IncrementalAlterConfigs and the Admin API:
/// * each resource is checked here first, against this node's image, as the controller would (unknown topic →
///   UNKNOWN_TOPIC_OR_PARTITION; unknown key or bad value → INVALID_CONFIG naming it; read-only broker keys →
///   INVALID_REQUEST "Cannot update these configs dynamically: ..."; a resource named twice → INVALID_REQUEST);
/// * the accepted ones go to the controller through the <see cref="ITopicAdmin"/> in one call (forwarded when this
///   node is not the active controller); the controller checks again and writes one metadata batch;
/// * after a real (not validate-only) change, waits briefly until this node's own image shows it, so a
///   DescribeConfigs or GET right after the answer sees the new values here.
/// Results come back one per input, in order.
/// </summary>
public sealed class ConfigAlterService
{
    private readonly ITopicAdmin _admin;
    private readonly Func<MetadataImage> _image;
    private readonly TimeSpan _localApplyWait;

    /// <param name="localApplyWait">Bound on waiting for the local image to show a change (default 5 s).</param>
    public ConfigAlterService(ITopicAdmin admin, Func<MetadataImage> image, TimeSpan? localApplyWait = null)
    {
        _admin = admin ?? throw new ArgumentNullException(nameof(admin));
        _image = image ?? throw new ArgumentNullException(nameof(image));
        _localApplyWait = localApplyWait ?? TimeSpan.FromSeconds(5);
    }

    /// <summary>This node's current metadata image.</summary>
    public MetadataImage Image => _image();

    /// <summary>
    /// The request path shared by AlterConfigs and IncrementalAlterConfigs: applies <paramref name="changes"/> within
    /// <paramref name="timeoutMs"/> and writes each outcome into <paramref name="results"/> at its slot (the request
    /// position); on timeout every slot gets REQUEST_TIMED_OUT.
    /// </summary>
    public async Task FillAsync(List<ConfigResourceChange> changes, List<int> slots, AlterConfigsResult?[] results,
        bool validateOnly, int timeoutMs, CancellationToken connectionClosed)
    {
        var outcome = await AdminTimeout.RunAsync(timeoutMs, connectionClosed,
            ct => AlterAsync(changes, validateOnly, ct)).ConfigureAwait(false);
        for (int j = 0; j < slots.Count; j++)
            results[slots[j]] = outcome?[j] ?? new AlterConfigsResult(changes[j].ResourceType, changes[j].ResourceName,
                ErrorCode.RequestTimedOut, AdminTimeout.Message(timeoutMs));
    }

    public async Task<IReadOnlyList<AlterConfigsResult>> AlterAsync(
        IReadOnlyList<ConfigResourceChange> resources, bool validateOnly, CancellationToken cancellationToken)
    {
        var results = new AlterConfigsResult[resources.Count];
        var image = _image();
        var duplicates = DuplicateResources(resources);
        var todo = new List<int>(resources.Count);
        var send = new List<ConfigResourceChange>(resources.Count);
        for (int i = 0; i < resources.Count; i++)
        {
            var r = Normalize(resources[i]);
            var check = duplicates.Contains(ResourceKey(r))
                ? new ControllerResult(ErrorCode.InvalidRequest, $"Resource {Describe(r)} appears more than once in the request.")
                : Check(r, image);
            if (!check.IsSuccess)
            {
                results[i] = new AlterConfigsResult(r.ResourceType, r.ResourceName ?? "", check.Error, check.Message);
                continue;
            }
            todo.Add(i);
            send.Add(r);
        }
        if (send.Count == 0) return results;

        var answers = await _admin.AlterConfigsAsync(send, validateOnly, cancellationToken).ConfigureAwait(false);
        var applied = new List<ConfigResourceChange>(send.Count);
        for (int j = 0; j < todo.Count; j++)
        {
            results[todo[j]] = answers[j];
            if (answers[j].Error == ErrorCode.None && send[j].Changes.Count > 0) applied.Add(send[j]);
        }
        if (!validateOnly && applied.Count > 0) await WaitForLocalImageAsync(applied, cancellationToken).ConfigureAwait(false);
        return results;
    }

    /// <summary>The checks of one resource against <paramref name="image"/> (see the type comment).</summary>
    public static ControllerResult Check(ConfigResourceChange resource, MetadataImage image)
    {
        switch (resource.ResourceType)
        {
            case ConfigResourceType.Topic:
                if (string.IsNullOrEmpty(resource.ResourceName) || image.GetTopic(resource.ResourceName) is null)
                    return new(ErrorCode.UnknownTopicOrPartition, $"Topic '{resource.ResourceName}' does not exist.");
                foreach (var (name, value) in resource.Changes)
                {
                    if (TopicConfigCatalog.Validate(name, value) is { } error) return new(ErrorCode.InvalidConfig, error);
                }
                return ControllerResult.Ok;
            case ConfigResourceType.Broker:
                if (resource.ResourceName is null || (resource.ResourceName.Length > 0 && !IsBrokerId(resource.ResourceName)))
                    return new(ErrorCode.InvalidRequest, $"Broker resource name '{resource.ResourceName}' is not empty and not a broker id.");
                return DynamicBrokerConfigs.CheckAll(resource.Changes) is { } refusal
                    ? new(refusal.Error, refusal.Message)
                    : ControllerResult.Ok;
            default:
                return new(ErrorCode.InvalidRequest, $"Unsupported resource type {(int)resource.ResourceType} (only topics (2) and brokers (4) have configs here).");
        }
    }

    /// <summary>The dynamic configs a resource holds in <paramref name="image"/> (null for a missing topic).</summary>
    public static IReadOnlyDictionary<string, string>? CurrentConfigs(MetadataImage image, ConfigResourceType type, string name) => type switch
    {
        ConfigResourceType.Topic => image.GetTopic(name)?.Configs,
        ConfigResourceType.Broker => image.GetBrokerConfigs(name),
        _ => null,
    };

    /// <summary>A broker id as Kafka writes it: a non-negative decimal int.</summary>
    public static bool IsBrokerId(string name) =>
        int.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out _);

    public static string Describe(ConfigResourceChange r) =>
        r.ResourceType switch
        {
            ConfigResourceType.Topic => $"topic '{r.ResourceName}'",
            ConfigResourceType.Broker => r.ResourceName is { Length: 0 } ? "the cluster default broker resource ('')" : $"broker '{r.ResourceName}'",
            _ => $"'{r.ResourceName}' of type {(int)r.ResourceType}",
        };

    /// <summary>Values are stored trimmed (the checks trim too), so what DescribeConfigs reports is what was checked.</summary>
    private static ConfigResourceChange Normalize(ConfigResourceChange r)
    {
        bool clean = true;
        foreach (var (_, v) in r.Changes)
            if (v is not null && v.Length != v.Trim().Length) { clean = false; break; }
        if (clean) return r;
        var changes = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var (k, v) in r.Changes) changes[k] = v?.Trim();
        return r with { Changes = changes };
    }

    private async Task WaitForLocalImageAsync(List<ConfigResourceChange> applied, CancellationToken cancellationToken)
    {
        long deadline = Environment.TickCount64 + (long)_localApplyWait.TotalMilliseconds;
        while (!cancellationToken.IsCancellationRequested)
        {
            var image = _image();
            bool all = true;
            foreach (var change in applied)
                if (!Shows(image, change)) { all = false; break; }
            if (all || Environment.TickCount64 >= deadline) return;
            try { await Task.Delay(20, cancellationToken).ConfigureAwait(false); }
            catch (OperationCanceledException) { return; }
        }
    }

    /// <summary>True when <paramref name="image"/> holds the change (or the topic is gone: nothing to wait for).</summary>
    private static bool Shows(MetadataImage image, ConfigResourceChange change)
    {
        var configs = CurrentConfigs(image, change.ResourceType, change.ResourceName);
        if (configs is null) return true;
        foreach (var (name, value) in change.Changes)
        {
            bool has = configs.TryGetValue(name, out var current);
            if (value is null ? has : !has || current != value) return false;
        }
        return true;
    }

    private static string ResourceKey(ConfigResourceChange r) => $"{(int)r.ResourceType}/{r.ResourceName}";

    private static HashSet<string> DuplicateResources(IReadOnlyList<ConfigResourceChange> resources)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var duplicates = new HashSet<string>(StringComparer.Ordinal);
        foreach (var r in resources)
            if (!seen.Add(ResourceKey(r))) duplicates.Add(ResourceKey(r));
        return duplicates;
    }
}

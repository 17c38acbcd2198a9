using System.Globalization;
using Broker.Core.Model;
using Broker.Protocol.Codec;
using Broker.Protocol.Messages;

namespace Broker.Client;

// Administration: topics (create/delete) and configs (describe/incremental alter).
public sealed partial class KafkaClient
{
    private const short CreateTopicsMinVersion = 4; // -1 = broker default partitions / replication factor
    private const short CreateTopicsMaxVersion = 7;
    private const short DeleteTopicsMinVersion = 1;
    private const short DeleteTopicsMaxVersion = 6;
    private const short DescribeConfigsMinVersion = 1;
    private const short DescribeConfigsMaxVersion = 4;
    private const short AlterConfigsMinVersion = 0;
    private const short AlterConfigsMaxVersion = 1;

    public async Task<IReadOnlyList<TopicOperationResult>> CreateTopicsAsync(IReadOnlyList<NewTopic> topics, bool validateOnly = false,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(topics);
        if (topics.Count == 0) return Array.Empty<TopicOperationResult>();
        var response = await SendAdminAsync(-1, (short)ApiKey.CreateTopics, CreateTopicsMinVersion, CreateTopicsMaxVersion,
            _ => BuildCreateTopics(topics, validateOnly), CreateTopicsResponse.Read, cancellationToken).ConfigureAwait(false);
        var results = new List<TopicOperationResult>(topics.Count);
        foreach (var topic in topics)
        {
            InvalidateMetadata(topic.Name);
            CreateTopicsResponse.CreatableTopicResult? found = null;
            foreach (var r in response.Topics)
                if (r.Name == topic.Name) found = r;
            results.Add(found is null
                ? new TopicOperationResult(topic.Name, ErrorCode.UnknownServerError, "the CreateTopics response does not mention this topic")
                : new TopicOperationResult(topic.Name, (ErrorCode)found.ErrorCode, found.ErrorMessage));
        }
        return results;
    }

    public async Task<IReadOnlyList<TopicOperationResult>> DeleteTopicsAsync(IReadOnlyList<string> topics,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(topics);
        if (topics.Count == 0) return Array.Empty<TopicOperationResult>();
        var response = await SendAdminAsync(-1, (short)ApiKey.DeleteTopics, DeleteTopicsMinVersion, DeleteTopicsMaxVersion,
            version => BuildDeleteTopics(topics, version), DeleteTopicsResponse.Read, cancellationToken).ConfigureAwait(false);
        var results = new List<TopicOperationResult>(topics.Count);
        foreach (var name in topics)
        {
            InvalidateMetadata(name);
            DeleteTopicsResponse.DeletableTopicResult? found = null;
            foreach (var r in response.Responses)
                if (r.Name == name) found = r;
            results.Add(found is null
                ? new TopicOperationResult(name, ErrorCode.UnknownServerError, "the DeleteTopics response does not mention this topic")
                : new TopicOperationResult(name, (ErrorCode)found.ErrorCode, found.ErrorMessage));
        }
        return results;
    }

    public async Task<IReadOnlyList<ConfigResourceResult>> DescribeConfigsAsync(IReadOnlyList<(ConfigResourceKind Kind, string Name)> resources,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(resources);
        var results = new ConfigResourceResult?[resources.Count];
        // Broker resources go to the broker they name (its own view of its configs); everything else to any broker.
        var byTarget = new Dictionary<int, List<int>>();
        for (int i = 0; i < resources.Count; i++)
        {
            int target = TargetOf(resources[i].Kind, resources[i].Name);
            if (!byTarget.TryGetValue(target, out var list)) byTarget[target] = list = new List<int>();
            list.Add(i);
        }
        foreach (var (target, indexes) in byTarget)
        {
            try
            {
                var response = await SendAdminAsync(target, (short)ApiKey.DescribeConfigs, DescribeConfigsMinVersion, DescribeConfigsMaxVersion,
                    _ => BuildDescribeConfigs(resources, indexes), DescribeConfigsResponse.Read, cancellationToken).ConfigureAwait(false);
                foreach (int i in indexes) results[i] = DescribeResultFor(response, resources[i].Kind, resources[i].Name);
            }
            catch (KafkaException ex)
            {
                foreach (int i in indexes)
                    results[i] = new ConfigResourceResult(resources[i].Kind, resources[i].Name, ex.Error, ex.Message, Array.Empty<ConfigEntry>());
            }
        }
        return results!;
    }

    /// <summary>IncrementalAlterConfigs of one resource; the result carries no entries.</summary>
    public async Task<ConfigResourceResult> IncrementalAlterConfigsAsync(ConfigResourceKind kind, string name,
        IReadOnlyList<ConfigAlteration> alterations, bool validateOnly = false, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(alterations);
        var request = new IncrementalAlterConfigsRequest { ValidateOnly = validateOnly };
        var resource = new IncrementalAlterConfigsRequest.AlterConfigsResource { ResourceType = (sbyte)kind, ResourceName = name };
        foreach (var a in alterations)
        {
            resource.Configs.Add(new IncrementalAlterConfigsRequest.AlterableConfig
            {
                Name = a.Name,
                ConfigOperation = (sbyte)a.Op,
                Value = a.Value,
            });
        }
        request.Resources.Add(resource);
        var response = await SendAdminAsync(TargetOf(kind, name), (short)ApiKey.IncrementalAlterConfigs, AlterConfigsMinVersion,
            AlterConfigsMaxVersion, _ => request, IncrementalAlterConfigsResponse.Read, cancellationToken).ConfigureAwait(false);
        foreach (var r in response.Responses)
        {
            if (r.ResourceType != (sbyte)kind || r.ResourceName != name) continue;
            return new ConfigResourceResult(kind, name, (ErrorCode)r.ErrorCode, r.ErrorMessage, Array.Empty<ConfigEntry>());
        }
        return new ConfigResourceResult(kind, name, ErrorCode.UnknownServerError,
            "the IncrementalAlterConfigs response does not mention this resource", Array.Empty<ConfigEntry>());
    }

    /// <summary>Kafka's names of the config sources (DescribeConfigs v1+ ConfigSource ids).</summary>
    public static string ConfigSourceName(sbyte source) => source switch
    {
        1 => "DYNAMIC_TOPIC_CONFIG",
        2 => "DYNAMIC_BROKER_CONFIG",
        3 => "DYNAMIC_DEFAULT_BROKER_CONFIG",
        4 => "STATIC_BROKER_CONFIG",
        5 => "DEFAULT_CONFIG",
        6 => "DYNAMIC_BROKER_LOGGER_CONFIG",
        7 => "CLIENT_METRICS_CONFIG",
        8 => "GROUP_CONFIG",
        _ => "UNKNOWN",
    };

    /// <summary>An admin request: connection failures (nothing reached a broker, or it went away) are retried within the budget.</summary>
    private async Task<T> SendAdminAsync<T>(int brokerId, short apiKey, short minVersion, short maxVersion,
        Func<short, IKafkaMessage> request, KafkaMessageReader<T> read, CancellationToken cancellationToken)
    {
        var retry = new RetryState(_options.RetryBudget);
        while (true)
        {
            try
            {
                return await SendAsync(brokerId, apiKey, minVersion, maxVersion, request, read, cancellationToken).ConfigureAwait(false);
            }
            catch (KafkaException ex) when (ex.Error is ErrorCode.NetworkException or ErrorCode.BrokerNotAvailable && retry.CanRetry)
            {
            }
            await retry.BackoffAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private static int TargetOf(ConfigResourceKind kind, string name) =>
        kind == ConfigResourceKind.Broker && int.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out int id) ? id : -1;

    private CreateTopicsRequest BuildCreateTopics(IReadOnlyList<NewTopic> topics, bool validateOnly)
    {
        var request = new CreateTopicsRequest
        {
            TimeoutMs = (int)Math.Min(int.MaxValue, _options.RequestTimeout.TotalMilliseconds),
            ValidateOnly = validateOnly,
        };
        foreach (var t in topics)
        {
            var creatable = new CreateTopicsRequest.CreatableTopic
            {
                Name = t.Name,
                NumPartitions = t.Partitions,
                ReplicationFactor = t.ReplicationFactor,
            };
            if (t.Configs is not null)
            {
                foreach (var (key, value) in t.Configs)
                    creatable.Configs.Add(new CreateTopicsRequest.CreatableTopicConfig { Name = key, Value = value });
            }
            request.Topics.Add(creatable);
        }
        return request;
    }

    private DeleteTopicsRequest BuildDeleteTopics(IReadOnlyList<string> topics, short version)
    {
        var request = new DeleteTopicsRequest { TimeoutMs = (int)Math.Min(int.MaxValue, _options.RequestTimeout.TotalMilliseconds) };
        foreach (var name in topics)
        {
            if (version >= 6) request.Topics.Add(new DeleteTopicsRequest.DeleteTopicState { Name = name });
            else request.TopicNames.Add(name);
        }
        return request;
    }

    private static DescribeConfigsRequest BuildDescribeConfigs(IReadOnlyList<(ConfigResourceKind Kind, string Name)> resources, List<int> indexes)
    {
        var request = new DescribeConfigsRequest();
        foreach (int i in indexes)
        {
            request.Resources.Add(new DescribeConfigsRequest.DescribeConfigsResource
            {
                ResourceType = (sbyte)resources[i].Kind,
                ResourceName = resources[i].Name,
                ConfigurationKeys = null, // all
            });
        }
        return request;
    }

    private static ConfigResourceResult DescribeResultFor(DescribeConfigsResponse response, ConfigResourceKind kind, string name)
    {
        foreach (var r in response.Results)
        {
            if (r.ResourceType != (sbyte)kind || r.ResourceName != name) continue;
            var entries = new List<ConfigEntry>(r.Configs.Count);
            foreach (var c in r.Configs)
            {
                // v0 has IsDefault; v1+ says DEFAULT_CONFIG (5) in ConfigSource instead.
                bool isDefault = c.ConfigSource < 0 ? c.IsDefault : c.ConfigSource == 5;
                string source = c.ConfigSource < 0 ? (c.IsDefault ? "DEFAULT_CONFIG" : "UNKNOWN") : ConfigSourceName(c.ConfigSource);
                entries.Add(new ConfigEntry(c.Name, c.Value, c.ReadOnly, isDefault, c.IsSensitive, source));
            }
            return new ConfigResourceResult(kind, name, (ErrorCode)r.ErrorCode, r.ErrorMessage, entries);
        }
        return new ConfigResourceResult(kind, name, ErrorCode.UnknownServerError,
            "the DescribeConfigs response does not mention this resource", Array.Empty<ConfigEntry>());
    }
}

// CreateTopics (key 19): v2-7 (the codec covers 0-7; Kafka 4 serves 2-7, and kafkajs/librdkafka/kafka-python
// all pick a version in that range).
// Behaviour:
// * Each topic is validated and created by the controller: name rules, TOPIC_ALREADY_EXISTS, partition count and
//   replication factor (-1 = broker defaults, v4+), manual Assignments (exclusive with counts), Configs (checked by
//   the controller's topic-config validator, TopicConfigCatalog, so the message names the offending key).
//   All valid topics of one request are committed together; invalid ones get their own error.
// * A name given more than once: one result for it, INVALID_REQUEST, and it is not created. A partition listed
//   twice in Assignments: INVALID_REPLICA_ASSIGNMENT.
// * ValidateOnly (v1+): everything is checked, nothing is written, results look as if it were.
// * TimeoutMs > 0 bounds the wait for the controller; on expiry the topics get REQUEST_TIMED_OUT.
// * Results (one per distinct name, request order): ErrorCode, ErrorMessage (v1+, null on success);
//   v5+: NumPartitions, ReplicationFactor and every topic config (explicit ones source 1 = DYNAMIC_TOPIC_CONFIG,
//   the rest the broker's default with source 4/5), read-only false, sensitive false; TopicConfigErrorCode 0;
//   v7: TopicId. Failed topics report -1/-1 and no configs. ThrottleTimeMs 0.
using Broker.Core.Model;
using Broker.Metadata.Controller;
using Broker.Protocol.Codec;
using Broker.Protocol.Messages;
using Broker.Server.Admin;
using Broker.Server.Pipeline;

namespace Broker.Server.Handlers;

public sealed class CreateTopicsHandler(ITopicAdmin admin, TopicConfigDefaults defaults) : KafkaHandler<CreateTopicsRequest>
{
    public override ApiKey Key => ApiKey.CreateTopics;
    public override short MinVersion => 2;
    public override short MaxVersion => 7;

    protected override CreateTopicsRequest Parse(ref KafkaReader reader, short version) => CreateTopicsRequest.Read(ref reader, version);

    protected override ValueTask<IKafkaMessage?> Handle(RequestContext context, CreateTopicsRequest request)
    {
        var topics = request.Topics;
        var results = new CreateTopicsResponse.CreatableTopicResult?[topics.Count];
        var duplicates = Duplicates(topics);
        var reported = new HashSet<string>(StringComparer.Ordinal);
        var specs = new List<NewTopicSpec>(topics.Count);
        var slots = new List<int>(topics.Count);
        for (int i = 0; i < topics.Count; i++)
        {
            var topic = topics[i];
            if (duplicates is not null && duplicates.Contains(topic.Name))
            {
                if (reported.Add(topic.Name))
                    results[i] = Failed(topic.Name, ErrorCode.InvalidRequest, $"Topic '{topic.Name}' appears more than once in the request.");
                continue;
            }
            var manual = ManualAssignment(topic, out string? assignmentError);
            if (assignmentError is not null)
            {
                results[i] = Failed(topic.Name, ErrorCode.InvalidReplicaAssignment, assignmentError);
                continue;
            }
            specs.Add(new NewTopicSpec(topic.Name, topic.NumPartitions, topic.ReplicationFactor, manual, Configs(topic)));
            slots.Add(i);
        }

        if (specs.Count == 0) return new(Respond(results));
        return CreateAsync(context, request, specs, slots, results);
    }

    private async ValueTask<IKafkaMessage?> CreateAsync(
        RequestContext context, CreateTopicsRequest request, List<NewTopicSpec> specs, List<int> slots,
        CreateTopicsResponse.CreatableTopicResult?[] results)
    {
        var outcome = await AdminTimeout.RunAsync(request.TimeoutMs, context.Connection.Closed,
            ct => admin.CreateTopicsAsync(specs, request.ValidateOnly, ct)).ConfigureAwait(false);
        bool withConfigs = context.ApiVersion >= 5;
        for (int j = 0; j < slots.Count; j++)
        {
            results[slots[j]] = outcome is null
                ? Failed(specs[j].Name, ErrorCode.RequestTimedOut, AdminTimeout.Message(request.TimeoutMs))
                : ToResult(outcome[j], withConfigs);
        }
        return Respond(results);
    }

    private static CreateTopicsResponse Respond(CreateTopicsResponse.CreatableTopicResult?[] results)
    {
        var response = new CreateTopicsResponse { Topics = new List<CreateTopicsResponse.CreatableTopicResult>(results.Length) };
        foreach (var r in results)
            if (r is not null) response.Topics.Add(r);
        return response;
    }

    private CreateTopicsResponse.CreatableTopicResult ToResult(CreateTopicResult result, bool withConfigs)
    {
        if (result.Error != ErrorCode.None) return Failed(result.Name, result.Error, result.Message);
        return new CreateTopicsResponse.CreatableTopicResult
        {
            Name = result.Name,
            TopicId = result.TopicId,
            ErrorCode = 0,
            ErrorMessage = null,
            NumPartitions = result.NumPartitions,
            ReplicationFactor = result.ReplicationFactor,
            Configs = withConfigs ? EffectiveConfigs(result.Configs) : new(),
        };
    }

    /// <summary>Every topic config, by name: the topic's explicit values (source 1), else the broker default.</summary>
    private List<CreateTopicsResponse.CreatableTopicConfigs> EffectiveConfigs(IReadOnlyDictionary<string, string> explicitConfigs)
    {
        var list = new List<CreateTopicsResponse.CreatableTopicConfigs>(defaults.Entries.Count + explicitConfigs.Count);
        foreach (var d in defaults.Entries)
        {
            bool set = explicitConfigs.TryGetValue(d.Name, out var value);
            list.Add(Config(d.Name, set ? value : d.Value, set ? ConfigSources.DynamicTopicConfig : d.Source));
        }
        foreach (var (name, value) in explicitConfigs)
        {
            bool known = false;
            foreach (var d in defaults.Entries)
                if (d.Name == name) { known = true; break; }
            if (!known) list.Add(Config(name, value, ConfigSources.DynamicTopicConfig));
        }
        list.Sort(static (a, b) => string.CompareOrdinal(a.Name, b.Name));
        return list;
    }

    private static CreateTopicsResponse.CreatableTopicConfigs Config(string name, string? value, sbyte source) => new()
    {
        Name = name,
        Value = value,
        ReadOnly = false,
        ConfigSource = source,
        IsSensitive = false,
    };

    private static CreateTopicsResponse.CreatableTopicResult Failed(string name, ErrorCode error, string? message) => new()
    {
        Name = name,
        ErrorCode = (short)error,
        ErrorMessage = message,
        NumPartitions = -1,
        ReplicationFactor = -1,
        Configs = new(),
    };

    private static HashSet<string>? Duplicates(List<CreateTopicsRequest.CreatableTopic> topics)
    {
        HashSet<string>? duplicates = null;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var t in topics)
            if (!seen.Add(t.Name)) (duplicates ??= new HashSet<string>(StringComparer.Ordinal)).Add(t.Name);
        return duplicates;
    }

    private static Dictionary<int, int[]>? ManualAssignment(CreateTopicsRequest.CreatableTopic topic, out string? error)
    {
        error = null;
        if (topic.Assignments.Count == 0) return null;
        var manual = new Dictionary<int, int[]>(topic.Assignments.Count);
        foreach (var a in topic.Assignments)
        {
            if (!manual.TryAdd(a.PartitionIndex, a.BrokerIds.ToArray()))
            {
                error = $"Partition {a.PartitionIndex} appears more than once in the manual replica assignment.";
                return null;
            }
        }
        return manual;
    }

    /// <summary>The request's configs; a key given twice keeps its last value.</summary>
    private static Dictionary<string, string?>? Configs(CreateTopicsRequest.CreatableTopic topic)
    {
        if (topic.Configs.Count == 0) return null;
        var configs = new Dictionary<string, string?>(topic.Configs.Count, StringComparer.Ordinal);
        foreach (var c in topic.Configs) configs[c.Name] = c.Value;
        return configs;
    }
}

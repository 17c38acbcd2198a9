// DescribeConfigs (key 32): v0-4 (v4 flexible).
// Behaviour (Kafka's, answered from this node's metadata image and server.properties, no controller round trip):
// * TOPIC (2): every topic config, sorted by name: the topic's own value (source 1 DYNAMIC_TOPIC_CONFIG), else the
//   default it inherits from this broker's settings, with that setting's source (2 DYNAMIC_BROKER_CONFIG, 3
//   DYNAMIC_DEFAULT_BROKER_CONFIG, 4 STATIC_BROKER_CONFIG, 5 DEFAULT_CONFIG). read_only false. Unknown topic →
//   UNKNOWN_TOPIC_OR_PARTITION.
// * BROKER (4), name = this node's id: every broker key with its effective value; read_only = the key cannot be
//   changed at runtime (DynamicBrokerConfigs). Name "" = the cluster default resource: only the keys set
//   dynamically for the whole cluster. Another broker's id → INVALID_REQUEST (clients send broker resources to that
//   broker, as Kafka requires); a name that is no broker id → INVALID_REQUEST. Other resource types →
//   INVALID_REQUEST.
// * ConfigurationKeys null = all keys; a list filters by name (unknown names are just not reported).
// * v0: IsDefault (source is DEFAULT_CONFIG), no source/synonyms. v1+: ConfigSource; Synonyms only when
//   IncludeSynonyms (the layers behind the value, highest precedence first). v3+: ConfigType and, when
//   IncludeDocumentation, Documentation (else null). is_sensitive always false (no secrets here). ThrottleTimeMs 0.
// * Results in request order; ErrorMessage null on success.
using Broker.Core.Model;
using Broker.Metadata.Image;
using Broker.Metadata.Records;
using Broker.Protocol.Codec;
using Broker.Protocol.Messages;
using Broker.Server.Admin;
using Broker.Server.Configs;
using Broker.Server.Pipeline;

namespace Broker.Server.Handlers;

public sealed class DescribeConfigsHandler(Func<MetadataImage> image, DynamicBrokerConfig brokerConfig) : KafkaHandler<DescribeConfigsRequest>
{
    public override ApiKey Key => ApiKey.DescribeConfigs;
    public override short MinVersion => 0;
    public override short MaxVersion => 4;

    protected override DescribeConfigsRequest Parse(ref KafkaReader reader, short version) => DescribeConfigsRequest.Read(ref reader, version);

    protected override ValueTask<IKafkaMessage?> Handle(RequestContext context, DescribeConfigsRequest request)
    {
        var current = image();
        var broker = brokerConfig.For(current);
        var response = new DescribeConfigsResponse { Results = new List<DescribeConfigsResponse.DescribeConfigsResult>(request.Resources.Count) };
        foreach (var resource in request.Resources)
        {
            var result = new DescribeConfigsResponse.DescribeConfigsResult
            {
                ResourceType = resource.ResourceType,
                ResourceName = resource.ResourceName,
                ErrorMessage = null,
            };
            var (error, message, configs) = Describe(resource, current, broker);
            result.ErrorCode = (short)error;
            if (error != ErrorCode.None) result.ErrorMessage = message;
            else
                foreach (var c in configs!) result.Configs.Add(ToWire(c, context.ApiVersion, request));
            response.Results.Add(result);
        }
        return new(response);
    }

    private (ErrorCode, string?, List<DescribedConfig>?) Describe(DescribeConfigsRequest.DescribeConfigsResource resource,
        MetadataImage current, EffectiveBrokerConfig broker)
    {
        var names = resource.ConfigurationKeys;
        switch ((ConfigResourceType)resource.ResourceType)
        {
            case ConfigResourceType.Topic:
                var topic = current.GetTopic(resource.ResourceName);
                return topic is null
                    ? (ErrorCode.UnknownTopicOrPartition, $"Topic '{resource.ResourceName}' does not exist.", null)
                    : (ErrorCode.None, null, ConfigDescriber.Topic(topic, broker, names));
            case ConfigResourceType.Broker:
                string name = resource.ResourceName;
                if (name.Length == 0) return (ErrorCode.None, null, ConfigDescriber.ClusterDefaults(broker, names));
                if (!ConfigAlterService.IsBrokerId(name))
                    return (ErrorCode.InvalidRequest, $"Broker resource name '{name}' is not empty and not a broker id.", null);
                int id = int.Parse(name, System.Globalization.CultureInfo.InvariantCulture);
                if (id == brokerConfig.NodeId) return (ErrorCode.None, null, ConfigDescriber.Broker(broker, names));
                return current.GetBroker(id) is null
                    ? (ErrorCode.InvalidRequest, $"Broker {id} is not registered in the cluster.", null)
                    : (ErrorCode.InvalidRequest, $"Unexpected broker id, expected {brokerConfig.NodeId} or empty string, but received {id}: send broker {id}'s configs request to broker {id}.", null);
            default:
                return (ErrorCode.InvalidRequest, $"Unsupported resource type {resource.ResourceType} (only topics (2) and brokers (4) have configs here).", null);
        }
    }

    private static DescribeConfigsResponse.DescribeConfigsResourceResult ToWire(DescribedConfig c, short version, DescribeConfigsRequest request)
    {
        var wire = new DescribeConfigsResponse.DescribeConfigsResourceResult
        {
            Name = c.Name,
            Value = c.Value,
            ReadOnly = c.ReadOnly,
            IsDefault = c.Source == ConfigSources.DefaultConfig,
            ConfigSource = c.Source,
            IsSensitive = false,
            ConfigType = ConfigDescriber.TypeId(c.Type),
            Documentation = version >= 3 && request.IncludeDocumentation ? c.Documentation : null,
        };
        if (version >= 1 && request.IncludeSynonyms)
        {
            wire.Synonyms = new List<DescribeConfigsResponse.DescribeConfigsSynonym>(c.Synonyms.Count);
            foreach (var s in c.Synonyms)
                wire.Synonyms.Add(new DescribeConfigsResponse.DescribeConfigsSynonym { Name = s.Name, Value = s.Value, Source = s.Source });
        }
        return wire;
    }
}

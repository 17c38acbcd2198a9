// IncrementalAlterConfigs (key 44): v0-1 (v1 flexible).
// Behaviour (Kafka's):
// * Per resource, each entry is an operation on one key: 0 SET (value required), 1 DELETE (back to the inherited
//   value), 2 APPEND / 3 SUBTRACT (list keys only, e.g. cleanup.policy: add missing items to, or remove items from,
//   the current value, which is the resource's own value or else the one it inherits). Keys not named are kept.
//   TOPIC (2) resources change topic configs; BROKER (4) resources dynamic broker configs of one broker ("N") or of
//   the whole cluster (""), which take effect without a restart.
// * Checked against this node's image, then by the active controller (forwarded when this node is not it; brokers
//   forward with this API, so the controller listener serves it too): unknown topic → UNKNOWN_TOPIC_OR_PARTITION;
//   unknown key, invalid value, APPEND/SUBTRACT of a non-list key → INVALID_CONFIG naming the key; read-only broker
//   keys → INVALID_REQUEST "Cannot update these configs dynamically: ..."; a key or resource named twice, an unknown
//   operation, SET without a value → INVALID_REQUEST. Each resource succeeds or fails as a whole; the accepted ones
//   are written in one metadata batch. ValidateOnly: checked, not written.
// * The request has no timeout: the controller round trip is bounded at 30 s (REQUEST_TIMED_OUT). Responses in
//   request order, ErrorMessage null on success. ThrottleTimeMs 0.
using Broker.Core.Model;
using Broker.Metadata.Controller;
using Broker.Metadata.Records;
using Broker.Protocol.Codec;
using Broker.Protocol.Messages;
using Broker.Server.Admin;
using Broker.Server.Configs;
using Broker.Server.Pipeline;

namespace Broker.Server.Handlers;

public sealed class IncrementalAlterConfigsHandler(ConfigAlterService service, DynamicBrokerConfig brokerConfig)
    : KafkaHandler<IncrementalAlterConfigsRequest>
{
    public override ApiKey Key => ApiKey.IncrementalAlterConfigs;
    public override short MinVersion => 0;
    public override short MaxVersion => 1;

    protected override IncrementalAlterConfigsRequest Parse(ref KafkaReader reader, short version) => IncrementalAlterConfigsRequest.Read(ref reader, version);

    protected override ValueTask<IKafkaMessage?> Handle(RequestContext context, IncrementalAlterConfigsRequest request)
    {
        var image = service.Image;
        var broker = brokerConfig.For(image);
        var early = new AlterConfigsResult?[request.Resources.Count];
        var changes = new List<ConfigResourceChange>(request.Resources.Count);
        var slots = new List<int>(request.Resources.Count);
        for (int i = 0; i < request.Resources.Count; i++)
        {
            var resource = request.Resources[i];
            var type = (ConfigResourceType)resource.ResourceType;
            var operations = new List<ConfigOperation>(resource.Configs.Count);
            foreach (var c in resource.Configs) operations.Add(new ConfigOperation(c.Name, c.ConfigOperation, c.Value));
            var built = new Dictionary<string, string?>();
            var outcome = type is ConfigResourceType.Topic or ConfigResourceType.Broker
                ? ConfigChangeBuilder.Incremental(type, resource.ResourceName, operations, image, broker, out built)
                : ConfigAlterService.Check(new ConfigResourceChange(type, resource.ResourceName, built), image);
            if (!outcome.IsSuccess)
            {
                early[i] = new AlterConfigsResult(type, resource.ResourceName, outcome.Error, outcome.Message);
                continue;
            }
            changes.Add(new ConfigResourceChange(type, resource.ResourceName, built));
            slots.Add(i);
        }
        if (changes.Count == 0) return new(Respond(early));
        return AlterAsync(context, request.ValidateOnly, changes, slots, early);
    }

    private async ValueTask<IKafkaMessage?> AlterAsync(RequestContext context, bool validateOnly, List<ConfigResourceChange> changes,
        List<int> slots, AlterConfigsResult?[] results)
    {
        await service.FillAsync(changes, slots, results, validateOnly, AlterConfigsHandler.TimeoutMs, context.Connection.Closed).ConfigureAwait(false);
        return Respond(results);
    }

    private static IncrementalAlterConfigsResponse Respond(AlterConfigsResult?[] results)
    {
        var response = new IncrementalAlterConfigsResponse
        {
            Responses = new List<IncrementalAlterConfigsResponse.AlterConfigsResourceResponse>(results.Length),
        };
        foreach (var r in results)
            response.Responses.Add(new IncrementalAlterConfigsResponse.AlterConfigsResourceResponse
            {
                ErrorCode = (short)r!.Error,
                ErrorMessage = r.Error == ErrorCode.None ? null : r.Message,
                ResourceType = (sbyte)r.ResourceType,
                ResourceName = r.ResourceName,
            });
        return response;
    }
}

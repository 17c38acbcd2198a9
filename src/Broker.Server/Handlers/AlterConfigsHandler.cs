// AlterConfigs (key 33): v0-2 (v2 flexible).
// Behaviour (Kafka's legacy, non-incremental semantics):
// * Per resource, the given entries REPLACE the resource's whole dynamic config set: keys it holds now that the
//   request does not name are deleted (an entry with a null value counts as not named). TOPIC (2) resources change
//   topic configs; BROKER (4) resources change dynamic broker configs of one broker ("N") or of the whole cluster
//   (""), which take effect without a restart on every broker concerned.
// * Checked against this node's image, then by the active controller (forwarded when this node is not it):
//   unknown topic → UNKNOWN_TOPIC_OR_PARTITION; unknown key or invalid value → INVALID_CONFIG naming the key;
//   read-only broker keys (listeners, node.id, log.dirs, process.roles, ...) → INVALID_REQUEST "Cannot update these
//   configs dynamically: ..."; a key or resource named twice → INVALID_REQUEST. Each resource succeeds or fails as a
//   whole; the accepted ones are written in one metadata batch.
// * ValidateOnly: everything is checked, nothing is written.
// * The request has no timeout: the controller round trip is bounded at 30 s (REQUEST_TIMED_OUT, as Kafka: the
//   change may or may not have been made). Responses in request order, ErrorMessage null on success. ThrottleTimeMs 0.
using Broker.Core.Model;
using Broker.Metadata.Controller;
using Broker.Metadata.Records;
using Broker.Protocol.Codec;
using Broker.Protocol.Messages;
using Broker.Server.Admin;
using Broker.Server.Configs;
using Broker.Server.Pipeline;

namespace Broker.Server.Handlers;

public sealed class AlterConfigsHandler(ConfigAlterService service) : KafkaHandler<AlterConfigsRequest>
{
    /// <summary>Bound on the controller round trip (the request carries no timeout of its own).</summary>
    public const int TimeoutMs = 30_000;

    public override ApiKey Key => ApiKey.AlterConfigs;
    public override short MinVersion => 0;
    public override short MaxVersion => 2;

    protected override AlterConfigsRequest Parse(ref KafkaReader reader, short version) => AlterConfigsRequest.Read(ref reader, version);

    protected override ValueTask<IKafkaMessage?> Handle(RequestContext context, AlterConfigsRequest request)
    {
        var image = service.Image;
        var early = new AlterConfigsResult?[request.Resources.Count];
        var changes = new List<ConfigResourceChange>(request.Resources.Count);
        var slots = new List<int>(request.Resources.Count);
        for (int i = 0; i < request.Resources.Count; i++)
        {
            var resource = request.Resources[i];
            var type = (ConfigResourceType)resource.ResourceType;
            var entries = new List<KeyValuePair<string, string?>>(resource.Configs.Count);
            foreach (var c in resource.Configs) entries.Add(new(c.Name, c.Value));
            var replaced = new Dictionary<string, string?>();
            var built = type is ConfigResourceType.Topic or ConfigResourceType.Broker
                ? ConfigChangeBuilder.Replace(type, resource.ResourceName, entries, image, out replaced)
                : ConfigAlterService.Check(new ConfigResourceChange(type, resource.ResourceName, replaced), image);
            if (!built.IsSuccess)
            {
                early[i] = new AlterConfigsResult(type, resource.ResourceName, built.Error, built.Message);
                continue;
            }
            changes.Add(new ConfigResourceChange(type, resource.ResourceName, replaced));
            slots.Add(i);
        }
        if (changes.Count == 0) return new(Respond(early));
        return AlterAsync(context, request.ValidateOnly, changes, slots, early);
    }

    private async ValueTask<IKafkaMessage?> AlterAsync(RequestContext context, bool validateOnly, List<ConfigResourceChange> changes,
        List<int> slots, AlterConfigsResult?[] results)
    {
        await service.FillAsync(changes, slots, results, validateOnly, TimeoutMs, context.Connection.Closed).ConfigureAwait(false);
        return Respond(results);
    }

    private static AlterConfigsResponse Respond(AlterConfigsResult?[] results)
    {
        var response = new AlterConfigsResponse { Responses = new List<AlterConfigsResponse.AlterConfigsResourceResponse>(results.Length) };
        foreach (var r in results)
            response.Responses.Add(new AlterConfigsResponse.AlterConfigsResourceResponse
            {
                ErrorCode = (short)r!.Error,
                ErrorMessage = r.Error == ErrorCode.None ? null : r.Message,
                ResourceType = (sbyte)r.ResourceType,
                ResourceName = r.ResourceName,
            });
        return response;
    }
}

using Broker.Core.Model;
using Broker.Metadata.Controller;
using Broker.Metadata.Records;
using Broker.Protocol.Codec;
using Broker.Protocol.Messages;
using Broker.Server.Lifecycle;

namespace Broker.Server.Admin;

// Config changes: forwarded as IncrementalAlterConfigs v1 (SET for a value, DELETE for null), answered in order.
public sealed partial class ForwardingTopicAdmin
{
    private const short IncrementalAlterConfigsVersion = 1;
    private const sbyte OpSet = 0;
    private const sbyte OpDelete = 1;

    public Task<IReadOnlyList<AlterConfigsResult>> AlterConfigsAsync(
        IReadOnlyList<ConfigResourceChange> resources, bool validateOnly, CancellationToken cancellationToken)
    {
        var duplicates = Duplicates(resources, static r => r.ResourceName is null ? null : $"{(int)r.ResourceType}/{r.ResourceName}");
        return RunAsync<AlterConfigsResult>(resources.Count,
            precheck: i =>
            {
                var r = resources[i];
                if (r.ResourceName is null) return new AlterConfigsResult(r.ResourceType, "", ErrorCode.InvalidRequest, "Resource name is null.");
                return duplicates.Contains($"{(int)r.ResourceType}/{r.ResourceName}")
                    ? new AlterConfigsResult(r.ResourceType, r.ResourceName, ErrorCode.InvalidRequest, $"Resource '{r.ResourceName}' appears more than once in the request.")
                    : null;
            },
            local: (todo, ct) => _local.AlterConfigsAsync(Select(resources, todo), validateOnly, ct),
            remote: (channel, todo, ct) => ForwardAlterConfigsAsync(channel, resources, todo, validateOnly, ct),
            failed: (i, error, message) => new AlterConfigsResult(resources[i].ResourceType, resources[i].ResourceName ?? "", error, message),
            errorOf: static r => r.Error,
            cancellationToken);
    }

    private async Task<AlterConfigsResult[]> ForwardAlterConfigsAsync(
        ControllerChannel channel, IReadOnlyList<ConfigResourceChange> resources, List<int> todo, bool validateOnly, CancellationToken cancellationToken)
    {
        var request = new IncrementalAlterConfigsRequest { ValidateOnly = validateOnly };
        foreach (int i in todo)
        {
            var r = resources[i];
            var resource = new IncrementalAlterConfigsRequest.AlterConfigsResource
            {
                ResourceType = (sbyte)r.ResourceType,
                ResourceName = r.ResourceName,
                Configs = new List<IncrementalAlterConfigsRequest.AlterableConfig>(r.Changes.Count),
            };
            foreach (var (name, value) in r.Changes)
                resource.Configs.Add(new IncrementalAlterConfigsRequest.AlterableConfig
                {
                    Name = name,
                    ConfigOperation = value is null ? OpDelete : OpSet,
                    Value = value,
                });
            request.Resources.Add(resource);
        }

        var response = await channel.SendAsync(ApiKey.IncrementalAlterConfigs, IncrementalAlterConfigsVersion, request,
            static (ref KafkaReader r, short v) => IncrementalAlterConfigsResponse.Read(ref r, v), RoundTripTimeout, cancellationToken)
            .ConfigureAwait(false);

        // The handler answers one entry per resource, in order; fall back to matching by type and name.
        bool aligned = response.Responses.Count == todo.Count;
        var results = new AlterConfigsResult[todo.Count];
        for (int j = 0; j < todo.Count; j++)
        {
            var r = resources[todo[j]];
            IncrementalAlterConfigsResponse.AlterConfigsResourceResponse? answer = null;
            if (aligned && response.Responses[j].ResourceName == r.ResourceName && response.Responses[j].ResourceType == (sbyte)r.ResourceType)
                answer = response.Responses[j];
            else
                foreach (var candidate in response.Responses)
                    if (candidate.ResourceName == r.ResourceName && candidate.ResourceType == (sbyte)r.ResourceType) { answer = candidate; break; }
            results[j] = answer is null
                ? new AlterConfigsResult(r.ResourceType, r.ResourceName, ErrorCode.UnknownServerError,
                    $"The controller at {channel.Endpoint} did not answer for resource '{r.ResourceName}'.")
                : new AlterConfigsResult(r.ResourceType, r.ResourceName, (ErrorCode)answer.ErrorCode, answer.ErrorMessage);
        }
        return results;
    }
}

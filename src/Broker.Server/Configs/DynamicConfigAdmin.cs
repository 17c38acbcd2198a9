using Broker.Config;
using Broker.Core.Model;
using Broker.Metadata.Controller;
using Broker.Metadata.Records;
using Broker.Server.Admin;

namespace Broker.Server.Configs;

/// <summary>
/// <see cref="IDynamicConfigAdmin"/> over the cluster-default broker resource (""): reads come from this node's
/// image and server.properties; changes go through <see cref="ConfigAlterService"/>, i.e. the same checks and
/// controller path (forwarded when this node is not the active controller) as Kafka's AlterConfigs on a broker
/// resource "". ConfigVersion is this node's applied metadata offset once the change is visible here.
/// </summary>
public sealed class DynamicConfigAdmin(ConfigAlterService service, DynamicBrokerConfig config) : IDynamicConfigAdmin
{
    public IReadOnlyDictionary<string, string?> ClusterConfig(bool includeDefaults)
    {
        var effective = config.For(service.Image);
        var result = new SortedDictionary<string, string?>(StringComparer.Ordinal);
        if (includeDefaults)
        {
            foreach (var row in ConfigKeys.All)
                if (row.AliasOf is null) result[row.Name] = effective.ClusterValue(row.Name);
        }
        else
        {
            foreach (var (key, _) in effective.Static.Raw)
                if (ConfigKeys.Find(key) is not null) result[key] = effective.StaticValue(key);
        }
        foreach (var (key, value) in effective.ClusterDynamic) result[key] = value;
        return result;
    }

    public async Task<DynamicConfigChange> AlterClusterConfigAsync(IReadOnlyDictionary<string, string> upsert, IReadOnlyList<string> remove,
        bool validateOnly, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(upsert);
        ArgumentNullException.ThrowIfNull(remove);
        var changes = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var (key, value) in upsert) changes[key] = value;
        foreach (string key in remove)
        {
            if (changes.TryGetValue(key, out var set) && set is not null)
                return new DynamicConfigChange(ErrorCode.InvalidRequest, $"Config '{key}' is both upserted and removed.", service.Image.LastAppliedOffset);
            changes[key] = null;
        }
        if (changes.Count == 0) return new DynamicConfigChange(ErrorCode.None, null, service.Image.LastAppliedOffset);

        var results = await service.AlterAsync([new ConfigResourceChange(ConfigResourceType.Broker, "", changes)], validateOnly, cancellationToken)
            .ConfigureAwait(false);
        var r = results[0];
        return new DynamicConfigChange(r.Error, r.Error == ErrorCode.None ? null : r.Message, service.Image.LastAppliedOffset);
    }
}

using Broker.Core.Model;

namespace Broker.Server.Admin;

// CONTRACT (lead): implemented by the Kafka-admin-APIs helper (dynamic configs); used by the Admin API's
// GET/PUT /v1/cluster_config.
/// <summary>Cluster-wide dynamic configuration: broker configs set for the whole cluster through the metadata log.</summary>
public interface IDynamicConfigAdmin
{
    /// <summary>
    /// The cluster-level broker configuration as name → value (null for unset nullable values): with
    /// <paramref name="includeDefaults"/> every known key with its effective value, else only keys set dynamically
    /// for the cluster or explicitly in this node's properties file.
    /// </summary>
    IReadOnlyDictionary<string, string?> ClusterConfig(bool includeDefaults);

    /// <summary>
    /// Sets and removes cluster-wide dynamic broker configs in one metadata-log write (forwarded to the active
    /// controller when needed). Unknown keys get InvalidConfig, read-only (static) keys InvalidRequest with a message
    /// naming the key; nothing is written when any key is refused.
    /// </summary>
    Task<DynamicConfigChange> AlterClusterConfigAsync(IReadOnlyDictionary<string, string> upsert, IReadOnlyList<string> remove,
        bool validateOnly, CancellationToken cancellationToken);
}

/// <summary>Outcome of <see cref="IDynamicConfigAdmin.AlterClusterConfigAsync"/>; ConfigVersion is the metadata offset after the write.</summary>
public sealed record DynamicConfigChange(ErrorCode Error, string? Message, long ConfigVersion);

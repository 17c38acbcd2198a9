using Broker.Core.Diagnostics;
using Broker.Core.Model;
using Broker.Metadata.Controller;

namespace Broker.Server.Admin;

/// <summary>
/// Creates topics that clients name in Metadata requests without creating them first (auto.create.topics.enable),
/// with the broker's default partition count, replication factor and configs. All names of one request go to the
/// controller in one call.
/// </summary>
public sealed class TopicAutoCreator(ITopicAdmin admin, AdminOptions options)
{
    private static readonly Logger Logger = Log.For("admin");

    /// <summary>Whether a Metadata request may create topics (broker setting and, v4+, the request's flag).</summary>
    public bool IsAllowed(bool requestAllows) => options.AutoCreateTopicsEnable && requestAllows;

    /// <summary>Asks the controller to create <paramref name="names"/>; one result per name, in order.</summary>
    public async Task<IReadOnlyList<CreateTopicResult>> CreateAsync(IReadOnlyList<string> names, string? clientId, CancellationToken cancellationToken)
    {
        var specs = new NewTopicSpec[names.Count];
        for (int i = 0; i < specs.Length; i++)
            specs[i] = new NewTopicSpec(names[i], options.DefaultNumPartitions, options.DefaultReplicationFactor);
        var results = await admin.CreateTopicsAsync(specs, validateOnly: false, cancellationToken).ConfigureAwait(false);
        foreach (var r in results)
        {
            if (r.Error == ErrorCode.None)
                Logger.Info($"auto-created topic '{r.Name}' ({r.NumPartitions} partitions, RF {r.ReplicationFactor}) for client {clientId}");
            else if (r.Error != ErrorCode.TopicAlreadyExists)
                Logger.Warn($"auto-creating topic '{r.Name}' for client {clientId} failed: {r.Error} {r.Message}");
        }
        return results;
    }
}

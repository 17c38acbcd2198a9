using System.Security.Cryptography;
using System.Text;
using Broker.Config;
using Broker.Metadata;

namespace Broker.Host.Cluster;

/// <summary>
/// The cluster id a node starts with when its meta.properties does not exist yet. A single combined node invents a
/// random one (null here: MetaProperties creates it). Nodes of a multi-node cluster must agree without a formatting
/// step, so they derive it from what they share by construction: the controller quorum (voter ids and addresses).
/// Two clusters with the very same voter list get the same id; their nodes could not reach each other's addresses
/// anyway unless they are the same machines.
/// </summary>
public static class ClusterIdentity
{
    public static string? For(BrokerConfig config)
    {
        if (config.QuorumVoters.Count == 1 && config.IsBroker && config.IsController) return null;
        var voters = new List<string>(config.QuorumVoters.Count);
        foreach (var v in config.QuorumVoters) voters.Add(v.ToString());
        voters.Sort(StringComparer.Ordinal);
        byte[] hash = SHA256.HashData(Encoding.UTF8.GetBytes("broker-cluster:" + string.Join(",", voters)));
        var id = new byte[16];
        hash.AsSpan(0, 16).CopyTo(id);
        return TopicIds.ToKafkaString(new Guid(id));
    }
}

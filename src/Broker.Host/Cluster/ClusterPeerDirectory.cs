using Broker.Cluster.Transport;
using Broker.Config;
using Broker.Metadata.Image;

namespace Broker.Host.Cluster;

/// <summary>
/// Where this node sends Raft traffic for another node. A node has one address for all groups it shares with us:
/// a voter of the controller quorum is reached on its controller listener (from controller.quorum.voters, known
/// before any metadata exists); any other node is a pure broker, reached on its inter-broker listener as registered
/// in the metadata image. So a combined node carries partition traffic on its controller listener too, and a pure
/// broker receives metadata replication (as a learner) on its inter-broker listener.
/// </summary>
public sealed class ClusterPeerDirectory : IPeerDirectory
{
    private readonly Dictionary<int, PeerAddress> _voters = new();
    private readonly Func<MetadataImage?> _image;
    private readonly string _interBrokerListener;

    public ClusterPeerDirectory(IReadOnlyList<QuorumVoter> voters, string? interBrokerListenerName, Func<MetadataImage?> image)
    {
        foreach (var v in voters) _voters[v.Id] = new PeerAddress(v.Host, v.Port);
        _interBrokerListener = interBrokerListenerName ?? "PLAINTEXT";
        _image = image;
    }

    public bool TryGetAddress(int nodeId, out PeerAddress address)
    {
        if (_voters.TryGetValue(nodeId, out address)) return true;
        var broker = _image()?.GetBroker(nodeId);
        var endpoint = broker?.FindEndpoint(_interBrokerListener);
        if (endpoint is null || endpoint.Port is < 1 or > 65535 || string.IsNullOrEmpty(endpoint.Host)) return false;
        address = new PeerAddress(endpoint.Host, endpoint.Port);
        return true;
    }

    /// <summary>The controller listener of voter <paramref name="nodeId"/>, or null when it is not a voter.</summary>
    public (string Host, int Port)? VoterEndpoint(int nodeId) =>
        _voters.TryGetValue(nodeId, out var a) ? (a.Host, a.Port) : null;
}

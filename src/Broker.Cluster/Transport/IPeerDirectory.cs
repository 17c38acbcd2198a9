using System.Collections.Concurrent;

namespace Broker.Cluster.Transport;

/// <summary>Where a node's controller listener (which carries Raft traffic) can be reached.</summary>
public readonly record struct PeerAddress(string Host, int Port)
{
    public override string ToString() => $"{Host}:{Port}";
}

/// <summary>
/// Resolves node ids to the address of their controller listener. Consulted on every (re)connect, so a directory
/// may change over time (a peer that was unknown becomes reachable once it is added).
/// </summary>
public interface IPeerDirectory
{
    bool TryGetAddress(int nodeId, out PeerAddress address);
}

/// <summary>
/// A thread-safe, settable <see cref="IPeerDirectory"/>: the Host fills it from controller.quorum.voters
/// ("id@host:port,...") and later from registered brokers' controller endpoints; tests set loopback ports.
/// </summary>
public sealed class PeerDirectory : IPeerDirectory
{
    private readonly ConcurrentDictionary<int, PeerAddress> _peers = new();

    public PeerDirectory() { }

    public PeerDirectory(IEnumerable<KeyValuePair<int, PeerAddress>> peers)
    {
        foreach (KeyValuePair<int, PeerAddress> p in peers) Set(p.Key, p.Value);
    }

    public void Set(int nodeId, PeerAddress address)
    {
        if (string.IsNullOrWhiteSpace(address.Host)) throw new ArgumentException("host must not be empty", nameof(address));
        if (address.Port is < 1 or > 65535) throw new ArgumentException($"invalid port {address.Port}", nameof(address));
        _peers[nodeId] = address;
    }

    public void Set(int nodeId, string host, int port) => Set(nodeId, new PeerAddress(host, port));

    public bool Remove(int nodeId) => _peers.TryRemove(nodeId, out _);

    public bool TryGetAddress(int nodeId, out PeerAddress address) => _peers.TryGetValue(nodeId, out address);
}

using Broker.Metadata.Image;

namespace Broker.Server.Admin;

/// <summary>A broker as a client on one listener sees it.</summary>
public readonly record struct ListedBroker(int NodeId, string Host, int Port, string? Rack);

/// <summary>Whether a partition leader can be handed to a client on a given listener.</summary>
public enum LeaderAvailability
{
    /// <summary>Registered, unfenced and reachable on the listener.</summary>
    Available,
    /// <summary>No leader (-1), or the leader is unregistered or fenced.</summary>
    NotAvailable,
    /// <summary>The leader is alive but does not advertise the listener the request came in on.</summary>
    ListenerNotFound,
}

/// <summary>
/// Endpoint selection: clients are always given addresses of the listener their request arrived on
/// (<see cref="BrokerEndpoint.Name"/> equals the advertised listener name). Brokers that are fenced, or that do
/// not advertise that listener, are left out, as in Kafka.
/// </summary>
public static class BrokerEndpoints
{
    /// <summary>The endpoint of <paramref name="nodeId"/> on <paramref name="listenerName"/>, if the broker is
    /// registered and unfenced.</summary>
    public static BrokerEndpoint? FindAlive(MetadataImage image, int nodeId, string listenerName)
    {
        var broker = image.GetBroker(nodeId);
        return broker is null || broker.Fenced ? null : broker.FindEndpoint(listenerName);
    }

    /// <summary>Every registered, unfenced broker with an endpoint on the listener, by ascending id.</summary>
    public static List<ListedBroker> ListAlive(MetadataImage image, string listenerName)
    {
        var ids = image.UnfencedBrokerIds; // ascending
        var result = new List<ListedBroker>(ids.Length);
        foreach (int id in ids)
        {
            var broker = image.GetBroker(id);
            var endpoint = broker?.FindEndpoint(listenerName);
            if (broker is null || endpoint is null) continue;
            result.Add(new ListedBroker(id, endpoint.Host, endpoint.Port, broker.Rack));
        }
        return result;
    }

    public static LeaderAvailability Leader(MetadataImage image, int leaderId, string listenerName)
    {
        if (leaderId < 0) return LeaderAvailability.NotAvailable;
        var broker = image.GetBroker(leaderId);
        if (broker is null || broker.Fenced) return LeaderAvailability.NotAvailable;
        return broker.FindEndpoint(listenerName) is null ? LeaderAvailability.ListenerNotFound : LeaderAvailability.Available;
    }

    /// <summary>
    /// The controller id to give clients: they send admin requests there, so it must be a broker they were told
    /// about. The active controller when it is listed (every node is broker and controller), else this broker
    /// when listed, else -1.
    /// </summary>
    public static int ControllerIdFor(MetadataImage image, int localNodeId, List<ListedBroker> listed)
    {
        if (Contains(listed, image.ControllerId)) return image.ControllerId;
        return Contains(listed, localNodeId) ? localNodeId : -1;
    }

    private static bool Contains(List<ListedBroker> listed, int nodeId)
    {
        if (nodeId < 0) return false;
        foreach (var b in listed)
            if (b.NodeId == nodeId) return true;
        return false;
    }
}

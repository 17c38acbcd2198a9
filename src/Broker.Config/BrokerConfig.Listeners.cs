using System.Globalization;

namespace Broker.Config;

// Listener resolution and the KRaft consistency rules (kafka-protocol.md §4.1, KafkaConfig validation).
public sealed partial class BrokerConfig
{
    /// <summary>Security protocols the network layer can serve today.</summary>
    public static readonly IReadOnlyList<SecurityProtocol> SupportedSecurityProtocols = [SecurityProtocol.Plaintext];

    private sealed record NetworkSettings(
        List<ListenerEndpoint> Listeners, List<ListenerEndpoint> Advertised, Dictionary<string, SecurityProtocol> Map,
        List<string> ControllerNames, string? InterBroker, List<ListenerEndpoint> BrokerListeners,
        List<ListenerEndpoint> ControllerListeners, List<HttpEndpoint> Admin, List<HttpEndpoint> Proxy);

    private static NetworkSettings ResolveListeners(ConfigResolver r, ProcessRoles roles, int nodeId, List<QuorumVoter> voters)
    {
        bool isBroker = (roles & ProcessRoles.Broker) != 0, isController = (roles & ProcessRoles.Controller) != 0;
        const string L = ConfigKeys.Listeners, M = ConfigKeys.SecurityProtocolMap;
        const string C = ConfigKeys.ControllerListenerNames, V = ConfigKeys.QuorumVoters;

        Endpoints.ParseProtocolMap(r.String(M), out var map);

        var controllerNames = new List<string>();
        foreach (string n in r.List(C)) controllerNames.Add(n.ToUpperInvariant());
        if (controllerNames.Count == 0)
            throw r.Error(C, "required: name the controller listener(s), e.g. controller.listener.names=CONTROLLER");
        foreach (string n in controllerNames)
            if (!map.ContainsKey(n))
                throw r.Error(C, $"controller listener {n} has no entry in listener.security.protocol.map; add {n}:PLAINTEXT");

        // listeners
        Endpoints.ParseListeners(r.String(L), out var parsed);
        var listeners = new List<ListenerEndpoint>(parsed.Count);
        foreach (var p in parsed)
        {
            if (!map.TryGetValue(p.Name, out var proto))
                throw r.Error(L, $"listener {p.Name} has no entry in listener.security.protocol.map; add {p.Name}:PLAINTEXT (or the protocol it should use)");
            CheckSupported(r, L, p.Name, proto);
            listeners.Add(new ListenerEndpoint(p.Name, p.Host, p.Port, proto) { HostWasEmpty = p.HostWasEmpty });
        }
        for (int i = 0; i < listeners.Count; i++)
            for (int j = 0; j < i; j++)
                if (listeners[i].Port != 0 && listeners[i].Port == listeners[j].Port)
                    throw r.Error(L, $"port {listeners[i].Port} is used by both {listeners[j].Name} and {listeners[i].Name}; each listener needs its own port");

        var controllerListeners = new List<ListenerEndpoint>();
        var brokerListeners = new List<ListenerEndpoint>();
        foreach (var l in listeners) (controllerNames.Contains(l.Name) ? controllerListeners : brokerListeners).Add(l);

        // Role rules.
        bool nodeIsVoter = false;
        foreach (var v in voters) nodeIsVoter |= v.Id == nodeId;
        string nodeIdText = nodeId.ToString(CultureInfo.InvariantCulture);
        if (isController)
        {
            if (!nodeIsVoter)
                throw r.Error(V, $"node.id {nodeIdText} has the controller role, so it must be one of the voters (e.g. {nodeIdText}@host:port)");
            foreach (string n in controllerNames)
                if (!ContainsName(listeners, n))
                    throw r.Error(L, $"controller listener {n} (from controller.listener.names) must be in listeners when process.roles contains controller");
        }
        else
        {
            if (nodeIsVoter)
                throw r.Error(V, $"node.id {nodeIdText} is a broker-only node, so it must not be one of the voters");
            foreach (string n in controllerNames)
                if (ContainsName(listeners, n))
                    throw r.Error(L, $"controller listener {n} must not be in listeners when process.roles=broker");
        }
        if (!isBroker && brokerListeners.Count > 0)
            throw r.Error(L, $"listener {brokerListeners[0].Name} is not a controller listener; with process.roles=controller, listeners may only contain listeners named in controller.listener.names");

        var advertised = ResolveAdvertised(r, isBroker, listeners, brokerListeners, controllerNames, map);
        string? interBroker = ResolveInterBroker(r, isBroker, advertised, controllerNames);

        var firstKafka = brokerListeners.Count > 0 ? brokerListeners[0] : listeners.Count > 0 ? listeners[0] : null;
        var admin = ResolveHttp(r, ConfigKeys.AdminListeners, firstKafka, ConfigKeys.DefaultAdminPort, listeners, null);
        var proxy = ResolveHttp(r, ConfigKeys.HttpProxyListeners, firstKafka, ConfigKeys.DefaultHttpProxyPort, listeners, admin);
        return new NetworkSettings(listeners, advertised, map, controllerNames, interBroker, brokerListeners,
            controllerListeners, admin, proxy);
    }

    private static List<ListenerEndpoint> ResolveAdvertised(ConfigResolver r, bool isBroker, List<ListenerEndpoint> listeners,
        List<ListenerEndpoint> brokerListeners, List<string> controllerNames, Dictionary<string, SecurityProtocol> map)
    {
        const string A = ConfigKeys.AdvertisedListeners;
        var result = new List<ListenerEndpoint>();
        if (!isBroker)
        {
            if (r.TryGiven(A, out _)) throw r.Error(A, "must not be set when process.roles=controller");
            r.SetEffective(A, "", ConfigOrigin.Derived("controller-only node: nothing is advertised"));
            return result;
        }
        if (r.TryGiven(A, out var given))
        {
            Endpoints.ParseListeners(given.Value, out var parsed);
            foreach (var p in parsed)
            {
                if (controllerNames.Contains(p.Name))
                    throw r.Error(A, $"must not contain controller listener {p.Name} when process.roles contains broker (clients never talk to the controller)");
                if (!ContainsName(listeners, p.Name))
                    throw r.Error(A, $"listener {p.Name} is not defined in listeners; advertised listener names must be a subset of the listener names");
                if (p.HostWasEmpty || p.Host is "0.0.0.0" or "::")
                    throw r.Error(A, $"listener {p.Name}: '{(p.HostWasEmpty ? "" : p.Host)}' is not a routable address; advertise a host name or IP clients can reach");
                if (p.Port == 0)
                    throw r.Error(A, $"listener {p.Name}: port 0 cannot be advertised");
                result.Add(new ListenerEndpoint(p.Name, p.Host, p.Port, map[p.Name]));
            }
        }
        else
        {
            foreach (var l in brokerListeners)
            {
                if (l.HostWasEmpty)
                    result.Add(l with { Host = System.Net.Dns.GetHostName(), HostWasEmpty = false });
                else if (l.IsWildcardHost)
                    throw r.Error(A, $"not set, so it defaults to listeners, but listener {l.Name} binds {l.Host}, which is not a routable address; set advertised.listeners (e.g. {l.Name}://my-host:{l.Port})");
                else
                    result.Add(l);
            }
            r.SetEffective(A, string.Join(",", result), ConfigOrigin.Derived("from listeners (without controller listeners)"));
        }
        if (result.Count == 0)
            throw r.Error(A, "a node with the broker role needs at least one non-controller listener to advertise");
        return result;
    }

    private static string? ResolveInterBroker(ConfigResolver r, bool isBroker, List<ListenerEndpoint> advertised, List<string> controllerNames)
    {
        const string I = ConfigKeys.InterBrokerListenerName;
        bool given = r.TryGiven(I, out var g);
        string? name = given ? g.Value.Trim().ToUpperInvariant() : null;
        if (!isBroker)
        {
            if (name is not null && controllerNames.Contains(name))
                throw r.Error(I, $"must not name controller listener {name} when process.roles=controller");
            return name;
        }
        if (name is not null)
        {
            if (!ContainsName(advertised, name))
                throw r.Error(I, $"{name} is not an advertised listener (advertised: {Names(advertised)})");
            return name;
        }
        name = ContainsName(advertised, "PLAINTEXT") ? "PLAINTEXT" : advertised[0].Name;
        r.SetEffective(I, name, ConfigOrigin.Derived("PLAINTEXT if advertised, else the first advertised listener"));
        return name;
    }

    private static List<HttpEndpoint> ResolveHttp(ConfigResolver r, string key, ListenerEndpoint? firstKafka, int defaultPort,
        List<ListenerEndpoint> listeners, List<HttpEndpoint>? other)
    {
        List<HttpEndpoint> list;
        if (r.TryGiven(key, out var g)) Endpoints.ParseHttpListeners(g.Value, out list);
        else
        {
            list = [];
            if (firstKafka is not null) list.Add(new HttpEndpoint(firstKafka.Host, defaultPort));
            r.SetEffective(key, string.Join(",", list), ConfigOrigin.Derived("host of the first Kafka listener"));
        }
        for (int i = 0; i < list.Count; i++)
        {
            int port = list[i].Port;
            if (port == 0) continue;
            foreach (var l in listeners)
                if (l.Port == port)
                    throw r.Error(key, $"port {port} is already used by listener {l.Name}");
            if (other is not null)
                foreach (var h in other)
                    if (h.Port == port)
                        throw r.Error(key, $"port {port} is already used by admin.listeners");
            for (int j = 0; j < i; j++)
                if (list[j].Port == port) throw r.Error(key, $"port {port} is listed twice");
        }
        return list;
    }

    private static void CheckSupported(ConfigResolver r, string key, string name, SecurityProtocol proto)
    {
        foreach (var p in SupportedSecurityProtocols) if (p == proto) return;
        throw r.Error(key, $"listener {name} uses security protocol {Endpoints.ProtocolName(proto)}, which this broker does not support yet (supported: PLAINTEXT)");
    }

    private static bool ContainsName(List<ListenerEndpoint> list, string name)
    {
        foreach (var l in list) if (l.Name == name) return true;
        return false;
    }

    private static string Names(List<ListenerEndpoint> list)
    {
        var names = new List<string>(list.Count);
        foreach (var l in list) names.Add(l.Name);
        return string.Join(", ", names);
    }
}

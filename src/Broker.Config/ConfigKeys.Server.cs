namespace Broker.Config;

// Rows: node identity, quorum and listeners.
public static partial class ConfigKeys
{
    public const string ProcessRoles = "process.roles";
    public const string NodeId = "node.id";
    public const string BrokerId = "broker.id";
    public const string QuorumVoters = "controller.quorum.voters";
    public const string Listeners = "listeners";
    public const string AdvertisedListeners = "advertised.listeners";
    public const string SecurityProtocolMap = "listener.security.protocol.map";
    public const string ControllerListenerNames = "controller.listener.names";
    public const string InterBrokerListenerName = "inter.broker.listener.name";
    public const string AdminListeners = "admin.listeners";
    public const string HttpProxyListeners = "http.proxy.listeners";
    public const string HttpProxyConsumerInstanceTimeoutMs = "http.proxy.consumer.instance.timeout.ms";

    /// <summary>Port of the default Admin API listener.</summary>
    public const int DefaultAdminPort = 9644;
    /// <summary>Port of the default HTTP proxy listener.</summary>
    public const int DefaultHttpProxyPort = 8082;

    private static void AddServerAndListenerKeys(List<ConfigKey> rows)
    {
        const string S = SectionServer, L = SectionListeners;
        rows.Add(List(S, ProcessRoles, null,
            "The roles of this node: broker, controller, or broker,controller (a combined node, the usual " +
            "choice for a single server). Required.",
            v => Endpoints.ParseRoles(v, out _)));
        rows.Add(Int(S, NodeId, null, 0,
            "Unique id of this node in the cluster. Required. With the controller role it must appear in " +
            "controller.quorum.voters; a broker-only node must not appear there."));
        rows.Add(new ConfigKey
        {
            Section = S, Name = BrokerId, Type = ConfigType.Int, Min = 0, AliasOf = NodeId,
            Doc = "Older name of node.id. If both are set they must be equal.",
        });
        rows.Add(List(S, QuorumVoters, null,
            "The controller quorum as id@host:port entries, comma-separated. Required. Dynamic quorums " +
            "(controller.quorum.bootstrap.servers) are not supported.",
            v => Endpoints.ParseVoters(v, out _)));

        rows.Add(List(L, Listeners, "PLAINTEXT://:9092",
            "Addresses to listen on, as NAME://host:port, comma-separated. An empty host listens on all " +
            "interfaces (0.0.0.0). With the controller role, the controller listeners must be listed here.",
            v => Endpoints.ParseListeners(v, out _)));
        rows.Add(new ConfigKey
        {
            Section = L, Name = AdvertisedListeners, Type = ConfigType.List, Validator = v => Endpoints.ParseListeners(v, out _),
            DefaultNote = "listeners without the controller listeners",
            Doc = "Addresses given to clients in metadata responses, as NAME://host:port. Must not contain " +
                  "controller listeners or the 0.0.0.0 meta-address. A listener with an empty host is advertised " +
                  "under this machine's host name.",
        });
        rows.Add(List(L, SecurityProtocolMap, Endpoints.DefaultSecurityProtocolMap,
            "Security protocol of each listener name, as NAME:PROTOCOL pairs. Names that are not protocol names " +
            "themselves (such as CONTROLLER) need an entry. Only PLAINTEXT is served at present.",
            v => Endpoints.ParseProtocolMap(v, out _)));
        rows.Add(List(L, ControllerListenerNames, null,
            "Names of the listeners used by the controller quorum, comma-separated. Required. A broker-only " +
            "node uses the first name to reach the controllers and must not list it in listeners."));
        rows.Add(new ConfigKey
        {
            Section = L, Name = InterBrokerListenerName, Type = ConfigType.String,
            DefaultNote = "PLAINTEXT if advertised, else the first advertised listener",
            Doc = "Listener that other brokers use to reach this one. Must be one of the advertised listeners.",
        });
        rows.Add(new ConfigKey
        {
            Section = L, Name = AdminListeners, Type = ConfigType.List, AllowEmpty = true,
            Validator = v => Endpoints.ParseHttpListeners(v, out _),
            DefaultNote = $"http://<host of the first Kafka listener>:{DefaultAdminPort}",
            Doc = "HTTP listeners of the Admin API, as http://host:port, comma-separated. Set it to an empty " +
                  "value to turn the Admin API off.",
        });
        rows.Add(new ConfigKey
        {
            Section = L, Name = HttpProxyListeners, Type = ConfigType.List, AllowEmpty = true,
            Validator = v => Endpoints.ParseHttpListeners(v, out _),
            DefaultNote = $"http://<host of the first Kafka listener>:{DefaultHttpProxyPort}",
            Doc = "HTTP listeners of the HTTP proxy (produce and consume over HTTP), as http://host:port. Set it " +
                  "to an empty value to turn the proxy off.",
        });
        rows.Add(Int(L, HttpProxyConsumerInstanceTimeoutMs, "300000", 1000,
            "HTTP proxy consumer instances that see no request for this long are closed (they leave their group)."));
    }
}

using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Broker.Integration.Tests.Infrastructure;

/// <summary>What a cluster node runs.</summary>
public enum ClusterRole
{
    Combined,
    Controller,
    Broker,
}

/// <summary>
/// The shape of a test cluster: node i (1-based) listens on 127.0.0.i. Either every node is broker+controller
/// (<see cref="Combined"/>), or the first <c>controllers</c> nodes are pure controllers (the quorum voters) and the
/// rest pure brokers (<see cref="Split"/>). Builds each node's server.properties.
/// </summary>
public sealed class ClusterLayout
{
    private ClusterLayout(ClusterRole[] roles) => Roles = roles;

    /// <summary>Roles by node id - 1.</summary>
    public IReadOnlyList<ClusterRole> Roles { get; }

    public int NodeCount => Roles.Count;

    public IEnumerable<int> VoterIds => Enumerable.Range(1, NodeCount).Where(id => Roles[id - 1] != ClusterRole.Broker);

    public IEnumerable<int> BrokerIds => Enumerable.Range(1, NodeCount).Where(id => Roles[id - 1] != ClusterRole.Controller);

    public static ClusterLayout Combined(int nodes) =>
        nodes is >= 1 and <= 9 ? new ClusterLayout(Enumerable.Repeat(ClusterRole.Combined, nodes).ToArray())
            : throw new ArgumentOutOfRangeException(nameof(nodes));

    public static ClusterLayout Split(int controllers, int brokers) =>
        controllers >= 1 && brokers >= 1 && controllers + brokers <= 9
            ? new ClusterLayout(Enumerable.Repeat(ClusterRole.Controller, controllers).Concat(Enumerable.Repeat(ClusterRole.Broker, brokers)).ToArray())
            : throw new ArgumentOutOfRangeException(nameof(controllers));

    public static string Address(int nodeId) => $"127.0.0.{nodeId}";

    /// <summary>The server.properties text of node <paramref name="nodeId"/>; overrides replace or add keys.</summary>
    public string ConfigText(int nodeId, int kafkaPort, int controllerPort, string dataDir,
        IReadOnlyDictionary<string, string>? overrides) =>
        ConfigText(nodeId, kafkaPort, controllerPort, 0, 0, dataDir, overrides);

    /// <summary>As above with the node's Admin API port (every node) and HTTP proxy port (broker nodes); 0 = left to the broker's defaults.</summary>
    public string ConfigText(int nodeId, int kafkaPort, int controllerPort, int adminPort, int proxyPort, string dataDir,
        IReadOnlyDictionary<string, string>? overrides)
    {
        var role = Roles[nodeId - 1];
        string host = Address(nodeId);
        string voters = string.Join(',', VoterIds.Select(v => $"{v}@{Address(v)}:{controllerPort}"));
        int brokerCount = BrokerIds.Count();
        var props = new List<KeyValuePair<string, string>>
        {
            new("process.roles", role switch { ClusterRole.Combined => "broker,controller", ClusterRole.Controller => "controller", _ => "broker" }),
            new("node.id", nodeId.ToString()),
            new("controller.quorum.voters", voters),
        };
        switch (role)
        {
            case ClusterRole.Combined:
                props.Add(new("listeners", $"PLAINTEXT://{host}:{kafkaPort},CONTROLLER://{host}:{controllerPort}"));
                props.Add(new("advertised.listeners", $"PLAINTEXT://{host}:{kafkaPort}"));
                props.Add(new("inter.broker.listener.name", "PLAINTEXT"));
                break;
            case ClusterRole.Controller:
                props.Add(new("listeners", $"CONTROLLER://{host}:{controllerPort}"));
                break;
            default:
                props.Add(new("listeners", $"PLAINTEXT://{host}:{kafkaPort}"));
                props.Add(new("advertised.listeners", $"PLAINTEXT://{host}:{kafkaPort}"));
                props.Add(new("inter.broker.listener.name", "PLAINTEXT"));
                break;
        }
        props.Add(new("controller.listener.names", "CONTROLLER"));
        props.Add(new("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT"));
        props.Add(new("log.dirs", dataDir));
        if (adminPort > 0) props.Add(new("admin.listeners", $"http://{host}:{adminPort}"));
        if (proxyPort > 0) props.Add(new("http.proxy.listeners", role == ClusterRole.Controller ? "" : $"http://{host}:{proxyPort}"));
        props.Add(new("default.replication.factor", Math.Min(3, brokerCount).ToString()));
        props.Add(new("min.insync.replicas", Math.Min(2, brokerCount).ToString()));
        props.Add(new("num.partitions", "1"));
        if (overrides is not null)
        {
            foreach (var (k, v) in overrides)
            {
                int i = props.FindIndex(p => p.Key == k);
                if (i >= 0) props[i] = new(k, v);
                else props.Add(new(k, v));
            }
        }
        var sb = new StringBuilder($"# written by Broker.Integration.Tests ClusterProcess (node {nodeId}, {role})\n");
        foreach (var (k, v) in props) sb.Append(k).Append('=').Append(v).Append('\n');
        return sb.ToString();
    }
}

/// <summary>Ports that are free on every node address at once (the nodes share port numbers, one address each).</summary>
public static class ClusterPorts
{
    private static readonly object s_lock = new();
    private static readonly HashSet<int> s_handedOut = new();

    /// <summary>Two distinct ports, each bindable right now on 127.0.0.1..<paramref name="nodes"/>.</summary>
    public static (int Kafka, int Controller) Pick(int nodes)
    {
        lock (s_lock)
        {
            return (PickOne(nodes), PickOne(nodes));
        }
    }

    /// <summary>Ports for the Admin API and the HTTP proxy, bindable right now on 127.0.0.1..<paramref name="nodes"/>.</summary>
    public static (int Admin, int Proxy) PickHttp(int nodes)
    {
        lock (s_lock)
        {
            return (PickOne(nodes), PickOne(nodes));
        }
    }

    private static int PickOne(int nodes)
    {
        for (int attempt = 0; attempt < 200; attempt++)
        {
            var first = new TcpListener(IPAddress.Loopback, 0);
            first.Start();
            int port = ((IPEndPoint)first.LocalEndpoint).Port;
            first.Stop();
            if (s_handedOut.Contains(port)) continue;
            if (Enumerable.Range(1, nodes).All(id => CanBind(ClusterLayout.Address(id), port)))
            {
                s_handedOut.Add(port);
                return port;
            }
        }
        throw new InvalidOperationException($"no port free on all of 127.0.0.1..{nodes} found");
    }

    private static bool CanBind(string address, int port)
    {
        try
        {
            var l = new TcpListener(IPAddress.Parse(address), port);
            l.Start();
            l.Stop();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}

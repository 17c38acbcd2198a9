using Broker.Config;
using Xunit;

namespace Broker.Config.Tests;

/// <summary>
/// Without admin.listeners / http.proxy.listeners, the Admin API and HTTP proxy bind the host of the node's first
/// Kafka (non-controller) listener on their default ports, so nodes of a multi-IP loopback cluster do not collide.
/// </summary>
public sealed class HttpListenerDefaultsTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static string NodeConfig(int nodeId, string host, string dataDir) =>
        "process.roles=broker,controller\n" +
        $"node.id={nodeId}\n" +
        "controller.quorum.voters=1@127.0.0.1:9093,2@127.0.0.2:9093,3@127.0.0.3:9093\n" +
        $"listeners=PLAINTEXT://{host}:9092,CONTROLLER://{host}:9093\n" +
        "controller.listener.names=CONTROLLER\n" +
        "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT\n" +
        $"log.dirs={dataDir}\n";

    private BrokerConfig Load(int nodeId, string host)
    {
        string text = NodeConfig(nodeId, host, Path.Combine(_dir.Path, "data" + nodeId));
        Assert.DoesNotContain("admin.listeners", text);
        Assert.DoesNotContain("http.proxy.listeners", text);
        var (config, warnings) = BrokerConfig.Load(_dir.Write($"node{nodeId}.properties", text));
        Assert.Empty(warnings);
        return config;
    }

    [Theory]
    [InlineData(2, "127.0.0.2")]
    [InlineData(3, "127.0.0.3")]
    public void Admin_and_proxy_default_to_the_host_of_the_first_kafka_listener(int nodeId, string host)
    {
        var c = Load(nodeId, host);
        Assert.Equal([new HttpEndpoint(host, 9644)], c.AdminListeners);
        Assert.Equal([new HttpEndpoint(host, 8082)], c.HttpProxyListeners);
        Assert.Equal($"PLAINTEXT://{host}:9092", Assert.Single(c.AdvertisedListeners).ToString());
        var admin = c.Effective.Single(e => e.Key == "admin.listeners");
        Assert.Equal(ConfigOriginKind.Derived, admin.Origin.Kind);
    }

    [Fact]
    public void Two_nodes_on_different_loopback_ips_get_distinct_http_endpoints()
    {
        var n2 = Load(2, "127.0.0.2");
        var n3 = Load(3, "127.0.0.3");
        Assert.Equal("127.0.0.2", Assert.Single(n2.AdminListeners).Host);
        Assert.Equal("127.0.0.2", Assert.Single(n2.HttpProxyListeners).Host);
        Assert.Equal("127.0.0.3", Assert.Single(n3.AdminListeners).Host);
        Assert.Equal("127.0.0.3", Assert.Single(n3.HttpProxyListeners).Host);
        Assert.NotEqual(n2.AdminListeners[0], n3.AdminListeners[0]);
        Assert.NotEqual(n2.HttpProxyListeners[0], n3.HttpProxyListeners[0]);
    }
}

using System.Net;
using Xunit;

namespace Broker.Http.Tests.Proxy;

/// <summary>GET /, /brokers, /topics, /status/ready, unknown paths and wrong methods, over real HTTP.</summary>
public sealed class ProxyClusterEndpointsTests
{
    [Fact]
    public async Task Root_Answers200_WhateverTheAccept()
    {
        await using var proxy = await ProxyFixture.StartAsync();
        foreach (var accept in new[] { null, "*/*", "text/html" })
        {
            var response = (await proxy.GetAsync("/", accept)).Expect(HttpStatusCode.OK);
            Assert.Equal("{}", response.Body);
        }
    }

    [Theory]
    [InlineData(null)]
    [InlineData("*/*")]
    [InlineData("application/json, text/plain, */*")]
    [InlineData("application/vnd.kafka.v2+json")]
    public async Task Topics_ListsNonInternalTopics(string? accept)
    {
        await using var proxy = await ProxyFixture.StartAsync();
        proxy.Cluster.CreateTopic("logs", 3);
        proxy.Cluster.CreateTopic("alarms", 1);
        proxy.Cluster.CreateTopic("__consumer_offsets", 50, isInternal: true);
        proxy.Cluster.CreateTopic("secret_internal", 1, isInternal: true);

        var response = (await proxy.GetAsync("/topics", accept)).Expect(HttpStatusCode.OK);
        Assert.Equal(ProxyFixture.V2, response.MediaType);
        Assert.Equal(new[] { "alarms", "logs" }, response.Json.EnumerateArray().Select(e => e.GetString()!).ToArray());
    }

    [Fact]
    public async Task Topics_Empty_IsEmptyArray()
    {
        await using var proxy = await ProxyFixture.StartAsync();
        Assert.Equal("[]", (await proxy.GetAsync("/topics")).Expect(HttpStatusCode.OK).Body);
    }

    [Theory]
    [InlineData("/topics")]
    [InlineData("/brokers")]
    public async Task UnsupportedAccept_Is406(string path)
    {
        await using var proxy = await ProxyFixture.StartAsync();
        (await proxy.GetAsync(path, "application/xml")).ExpectError(HttpStatusCode.NotAcceptable, 406);
        (await proxy.GetAsync(path, ProxyFixture.Binary)).ExpectError(HttpStatusCode.NotAcceptable, 406);
    }

    [Fact]
    public async Task Brokers_ListsNodeIds()
    {
        await using var proxy = await ProxyFixture.StartAsync();
        proxy.Cluster.BrokerIds = [3, 1, 2];
        var json = (await proxy.GetAsync("/brokers", "*/*")).Expect(HttpStatusCode.OK).Json;
        Assert.Equal([1, 2, 3], json.GetProperty("brokers").EnumerateArray().Select(e => e.GetInt32()).ToArray());
    }

    [Fact]
    public async Task ClusterUnreachable_IsKafkaErrorJson()
    {
        await using var proxy = await ProxyFixture.StartAsync();
        proxy.Cluster.Unreachable = true;
        (await proxy.GetAsync("/topics")).ExpectError(HttpStatusCode.InternalServerError, 50003);
        (await proxy.GetAsync("/status/ready")).ExpectError(HttpStatusCode.ServiceUnavailable, 50302);
        proxy.Cluster.Unreachable = false;
        var ready = (await proxy.GetAsync("/status/ready")).Expect(HttpStatusCode.OK).Json;
        Assert.Equal("ready", ready.GetProperty("status").GetString());
    }

    [Theory]
    [InlineData("/nope")]
    [InlineData("/topics/a/b")]
    [InlineData("/v1/cluster/health_overview")]
    [InlineData("/consumers/g/instances/i/assignments")]
    public async Task UnknownPath_Is404Json(string path)
    {
        await using var proxy = await ProxyFixture.StartAsync();
        (await proxy.GetAsync(path)).ExpectError(HttpStatusCode.NotFound, 404);
        (await proxy.PostAsync(path, "{}", ProxyFixture.V2)).ExpectError(HttpStatusCode.NotFound, 404);
    }

    [Fact]
    public async Task WrongMethod_Is405Json()
    {
        await using var proxy = await ProxyFixture.StartAsync();
        (await proxy.SendAsync(HttpMethod.Delete, "/topics")).ExpectError(HttpStatusCode.MethodNotAllowed, 405);
        (await proxy.SendAsync(HttpMethod.Put, "/topics/t", "{}", ProxyFixture.Json)).ExpectError(HttpStatusCode.MethodNotAllowed, 405);
        (await proxy.GetAsync("/consumers/g")).ExpectError(HttpStatusCode.MethodNotAllowed, 405);
    }

    [Fact]
    public async Task Dispose_ReleasesThePortAndTheBackend()
    {
        var proxy = await ProxyFixture.StartAsync();
        var url = proxy.Server.Urls[0];
        Assert.StartsWith("http://127.0.0.1:", url);
        await proxy.DisposeAsync();
        Assert.True(proxy.Cluster.Disposed);
        using var http = new HttpClient();
        await Assert.ThrowsAsync<HttpRequestException>(() => http.GetAsync(url));
    }

    [Fact]
    public async Task PortInUse_StartFails()
    {
        await using var proxy = await ProxyFixture.StartAsync();
        int port = new Uri(proxy.Server.Urls[0]).Port;
        var options = new Broker.Http.Proxy.HttpProxyOptions { Listen = [("127.0.0.1", port)], BootstrapServers = "x:1" };
        var cluster = new FakeCluster();
        await Assert.ThrowsAnyAsync<IOException>(() => Broker.Http.Proxy.HttpProxyServer.StartAsync(options, cluster, new FakeClock(),
            null, CancellationToken.None));
        Assert.True(cluster.Disposed);
    }
}

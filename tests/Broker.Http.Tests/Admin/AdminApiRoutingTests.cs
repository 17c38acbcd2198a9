using System.Net;
using System.Net.Sockets;
using Broker.Http.Admin;
using Xunit;

namespace Broker.Http.Tests.Admin;

/// <summary>Routing and errors over real HTTP: unknown paths, wrong methods, bad path parameters, failures, port clashes.</summary>
public sealed class AdminApiRoutingTests : AdminServerTest
{
    [Theory]
    [InlineData("/")]
    [InlineData("/v1")]
    [InlineData("/v1/nope")]
    [InlineData("/v1/brokers/1/extra/segments")]
    [InlineData("/v2/brokers")]
    public async Task UnknownPath_Is404Json(string path)
    {
        AssertError(await GetAsync(path), HttpStatusCode.NotFound, "no such endpoint");
    }

    [Fact]
    public async Task UnknownPath_WithAnyMethod_Is404Json()
    {
        AssertError(await SendAsync(HttpMethod.Delete, "/v1/unknown"), HttpStatusCode.NotFound, "/v1/unknown");
    }

    [Theory]
    [InlineData("POST", "/v1/brokers", "GET")]
    [InlineData("DELETE", "/v1/cluster/health_overview", "GET")]
    [InlineData("POST", "/v1/cluster_config", "GET, PUT")]
    [InlineData("GET", "/v1/partitions/kafka/orders/0/transfer_leadership", "POST")]
    [InlineData("PUT", "/metrics", "GET")]
    public async Task WrongMethod_Is405Json_WithAllow(string method, string path, string allowed)
    {
        var r = await SendAsync(new HttpMethod(method), path, method == "GET" ? null : "{}");
        AssertError(r, HttpStatusCode.MethodNotAllowed, $"method {method} is not allowed");
        Assert.Equal(allowed, string.Join(", ", r.Response.Content.Headers.Allow));
    }

    [Theory]
    [InlineData("/v1/brokers/abc", "broker id must be a non-negative integer")]
    [InlineData("/v1/brokers/-1", "broker id")]
    [InlineData("/v1/partitions/kafka/orders/x", "partition id must be a non-negative integer")]
    [InlineData("/v1/partitions/kafka/orders/99999999999", "partition id")]
    public async Task BadPathParameter_Is400Json(string path, string fragment)
    {
        AssertError(await GetAsync(path), HttpStatusCode.BadRequest, fragment);
    }

    [Fact]
    public async Task BackendFailure_Is500Json_AndTheServerKeepsServing()
    {
        Backend.Cluster = null!; // the views dereference it: an unexpected failure inside a handler
        AssertError(await GetAsync("/v1/cluster/health_overview"), HttpStatusCode.InternalServerError, "internal error");
        Backend.Cluster = FakeAdminBackend.ThreeNodes();
        Assert.Equal(HttpStatusCode.OK, (await GetAsync("/v1/cluster/health_overview")).Status);
    }

    [Fact]
    public async Task OversizedHeaders_AreRefused_NotACrash()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/status/ready");
        request.Headers.Add("X-Big", new string('a', 64 * 1024));
        var response = await Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.RequestHeaderFieldsTooLarge, response.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await GetAsync("/v1/status/ready")).Status);
    }

    [Fact]
    public async Task PortInUse_FailsToStart_WithTheAddressInTheMessage()
    {
        using var blocker = new TcpListener(IPAddress.Loopback, 0);
        blocker.Start();
        int port = ((IPEndPoint)blocker.LocalEndpoint).Port;
        var ex = await Assert.ThrowsAnyAsync<IOException>(() => AdminApiServer.StartAsync(
            new AdminApiOptions { Listen = [("127.0.0.1", port)] }, Backend, CancellationToken.None));
        Assert.Contains(port.ToString(), ex.Message);
        Assert.Contains("in use", ex.Message);
    }

    [Fact]
    public async Task Dispose_ReleasesThePort()
    {
        int port = new Uri(BaseUrl).Port;
        await Server.DisposeAsync();
        using var listener = new TcpListener(IPAddress.Loopback, port);
        listener.Start(); // would throw if the server still held it
        await Server.DisposeAsync(); // idempotent
    }
}

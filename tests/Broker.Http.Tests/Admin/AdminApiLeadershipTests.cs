using System.Net;
using Broker.Http.Admin;
using Xunit;

namespace Broker.Http.Tests.Admin;

/// <summary>POST .../transfer_leadership over real HTTP: each backend outcome's status, the 307 to the leader's Admin
/// API (same port, leader's host, redirect=N added), and no second redirect.</summary>
public sealed class AdminApiLeadershipTests : AdminServerTest
{
    private const string Path = "/v1/partitions/kafka/orders/0/transfer_leadership";

    [Fact]
    public async Task Started_Is200_TargetPassedThrough()
    {
        var r = await SendAsync(HttpMethod.Post, $"{Path}?target=3");
        Assert.Equal(HttpStatusCode.OK, r.Status);
        Assert.Equal(("kafka", "orders", 0, (int?)3), Backend.LastTransfer);
    }

    [Fact]
    public async Task NoTarget_MeansAnyReplica()
    {
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(HttpMethod.Post, Path)).Status);
        Assert.Null(Backend.LastTransfer!.Value.Target);
    }

    [Fact]
    public async Task NotLeader_Is307ToTheLeadersAdminApi()
    {
        Backend.NextTransfer = new LeadershipTransfer(TransferStatus.NotLeader, "kafka/orders/0 is led by node 2", 2, "127.0.0.2");
        var r = await SendAsync(HttpMethod.Post, $"{Path}?target=3");
        AssertError(r, HttpStatusCode.TemporaryRedirect, "led by node 2");
        int port = new Uri(BaseUrl).Port;
        Assert.Equal($"http://127.0.0.2:{port}{Path}?target=3&redirect=2", r.Response.Headers.Location?.ToString());
    }

    [Fact]
    public async Task NotLeader_AfterARedirect_Is503()
    {
        Backend.NextTransfer = new LeadershipTransfer(TransferStatus.NotLeader, "kafka/orders/0 is led by node 2", 2, "127.0.0.2");
        AssertError(await SendAsync(HttpMethod.Post, $"{Path}?target=3&redirect=1"), HttpStatusCode.ServiceUnavailable, "led by node 2");
    }

    [Theory]
    [InlineData(TransferStatus.UnknownPartition, HttpStatusCode.NotFound)]
    [InlineData(TransferStatus.InvalidTarget, HttpStatusCode.BadRequest)]
    [InlineData(TransferStatus.Unavailable, HttpStatusCode.ServiceUnavailable)]
    public async Task Refusals_CarryTheBackendsMessage(TransferStatus status, HttpStatusCode expected)
    {
        Backend.NextTransfer = new LeadershipTransfer(status, "the reason");
        AssertError(await SendAsync(HttpMethod.Post, $"{Path}?target=2"), expected, "the reason");
    }

    [Theory]
    [InlineData("?target=abc")]
    [InlineData("?target=-2")]
    public async Task BadTarget_Is400(string query)
    {
        AssertError(await SendAsync(HttpMethod.Post, Path + query), HttpStatusCode.BadRequest, "target must be a node id");
        Assert.Null(Backend.LastTransfer);
    }
}

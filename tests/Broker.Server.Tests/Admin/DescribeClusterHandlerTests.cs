using Broker.Core.Model;
using Broker.Metadata.Image;
using Broker.Protocol.Messages;
using Broker.Server.Admin;
using Xunit;

namespace Broker.Server.Tests.Admin;

public class DescribeClusterHandlerTests
{
    private const short Key = 60;

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public async Task DescribesTheCluster(short version)
    {
        using var f = await AdminFixture.StartAsync();
        await f.RegisterBrokerAsync(2, "rack-b", new BrokerEndpoint("PLAINTEXT", "host2", 9192, 0));

        var response = await f.CallAsync(Key, version, new DescribeClusterRequest(), DescribeClusterResponse.Read);

        Assert.Equal(0, response.ErrorCode);
        Assert.Null(response.ErrorMessage);
        Assert.Equal(f.Image.ClusterId, response.ClusterId);
        Assert.Equal(1, response.ControllerId);
        Assert.Equal(1, response.EndpointType);
        Assert.Equal(int.MinValue, response.ClusterAuthorizedOperations);
        Assert.Equal([(1, "localhost", 9092, "rack-a"), (2, "host2", 9192, "rack-b")],
            response.Brokers.Select(b => (b.BrokerId, b.Host, b.Port, b.Rack)));
    }

    [Fact]
    public async Task ListsTheEndpointsOfTheRequestListener()
    {
        using var f = await AdminFixture.StartAsync();
        await f.RegisterBrokerAsync(2, null, new BrokerEndpoint("PLAINTEXT", "host2", 9192, 0));
        var response = await f.CallOnListenerAsync(AdminFixture.External, Key, 1, new DescribeClusterRequest(), DescribeClusterResponse.Read);
        var broker = Assert.Single(response.Brokers);
        Assert.Equal((1, "broker1.example", 19092), (broker.BrokerId, broker.Host, broker.Port));
    }

    [Theory]
    [InlineData(2, ErrorCode.MismatchedEndpointType)]
    [InlineData(0, ErrorCode.UnsupportedEndpointType)]
    [InlineData(7, ErrorCode.UnsupportedEndpointType)]
    public async Task OtherEndpointTypesAreRefused(sbyte endpointType, ErrorCode expected)
    {
        using var f = await AdminFixture.StartAsync();
        var response = await f.CallAsync(Key, 1, new DescribeClusterRequest { EndpointType = endpointType }, DescribeClusterResponse.Read);
        Assert.Equal((short)expected, response.ErrorCode);
        Assert.False(string.IsNullOrEmpty(response.ErrorMessage));
        Assert.Empty(response.Brokers);
    }

    [Fact]
    public async Task AuthorizedOperationsWhenAsked()
    {
        using var f = await AdminFixture.StartAsync();
        var response = await f.CallAsync(Key, 0, new DescribeClusterRequest { IncludeClusterAuthorizedOperations = true }, DescribeClusterResponse.Read);
        Assert.Equal(AuthorizedOperations.AllClusterOperations, response.ClusterAuthorizedOperations);
        Assert.Equal(8096, response.ClusterAuthorizedOperations);
    }
}

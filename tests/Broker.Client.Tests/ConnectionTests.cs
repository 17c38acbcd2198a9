using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Broker.Core.Model;
using Broker.Protocol.Codec;
using Broker.Protocol.Messages;
using Xunit;

namespace Broker.Client.Tests;

/// <summary>
/// The connection layer against scripted brokers on real sockets: request timeout on a silent peer, many requests in
/// flight answered out of order, ApiVersions negotiation (incl. the KIP-511 fallback), reconnect after a drop.
/// </summary>
public sealed class ConnectionTests
{
    private static KafkaClient Client(string bootstrap, double timeoutSeconds = 5, double budgetSeconds = 0) => new(new KafkaClientOptions
    {
        BootstrapServers = bootstrap,
        ClientId = "conn-test",
        RequestTimeout = TimeSpan.FromSeconds(timeoutSeconds),
        RetryBudget = TimeSpan.FromSeconds(budgetSeconds),
    });

    /// <summary>A Metadata answer naming one broker (the fake itself) and the requested topics with one partition led by it.</summary>
    private static MetadataResponse MetadataAnswer(FakeBroker fake, MetadataRequest request, string clusterId = "fake-cluster")
    {
        var response = new MetadataResponse { ClusterId = clusterId, ControllerId = 1 };
        response.Brokers.Add(new MetadataResponse.MetadataResponseBroker { NodeId = 1, Host = "127.0.0.1", Port = fake.Port });
        foreach (var t in request.Topics ?? new())
        {
            var topic = new MetadataResponse.MetadataResponseTopic { Name = t.Name };
            topic.Partitions.Add(new MetadataResponse.MetadataResponsePartition
            {
                PartitionIndex = 0, LeaderId = 1, ReplicaNodes = { 1 }, IsrNodes = { 1 },
            });
            response.Topics.Add(topic);
        }
        return response;
    }

    private static IKafkaMessage? Standard(FakeBroker fake, FakeRequest r) => r.Header.ApiKey switch
    {
        (short)ApiKey.ApiVersions => fake.ApiVersionsAnswer(),
        (short)ApiKey.Metadata => MetadataAnswer(fake, r.Read(MetadataRequest.Read)),
        _ => null,
    };

    [Fact]
    public async Task SilentPeer_RequestTimesOut_WithRequestTimedOut()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var accepted = new List<Socket>();
        var acceptLoop = Task.Run(async () =>
        {
            try { while (true) accepted.Add(await listener.AcceptSocketAsync()); } catch (Exception) { }
        });
        await using var client = Client($"127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}", timeoutSeconds: 0.5);

        var sw = Stopwatch.StartNew();
        var ex = await Assert.ThrowsAsync<KafkaException>(() => client.GetMetadataAsync(null));
        sw.Stop();

        Assert.Equal(ErrorCode.RequestTimedOut, ex.Error);
        Assert.Contains("timed out", ex.Message);
        Assert.InRange(sw.Elapsed, TimeSpan.FromMilliseconds(400), TimeSpan.FromSeconds(5));
        listener.Stop();
        foreach (var s in accepted) s.Dispose();
        await acceptLoop;
    }

    [Fact]
    public async Task UnreachableBootstrap_FailsFast_WithNetworkException()
    {
        int port;
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((IPEndPoint)probe.LocalEndpoint).Port;
        } // closed: nothing listens there now
        await using var client = Client($"127.0.0.1:{port}");
        var ex = await Assert.ThrowsAsync<KafkaException>(() => client.GetMetadataAsync(null));
        Assert.Equal(ErrorCode.NetworkException, ex.Error);
        Assert.Contains($"127.0.0.1:{port}", ex.Message);
    }

    [Fact]
    public async Task ManyRequestsInFlight_AnsweredInReverseOrder_EachGetsItsOwnResponse()
    {
        var held = new List<FakeRequest>();
        FakeBroker? fakeRef = null;
        await using var fake = new FakeBroker(r =>
        {
            if (r.Header.ApiKey == (short)ApiKey.ApiVersions) return fakeRef!.ApiVersionsAnswer();
            lock (held)
            {
                held.Add(r);
                if (held.Count < 5) return null;
            }
            // All five are in flight on one connection: answer them last to first.
            for (int i = held.Count - 1; i >= 0; i--)
                fakeRef!.Respond(held[i], MetadataAnswer(fakeRef, held[i].Read(MetadataRequest.Read)));
            return null;
        });
        fakeRef = fake;
        await using var client = Client(fake.Bootstrap);

        var calls = new Task<ClusterInfo>[5];
        for (int i = 0; i < calls.Length; i++) calls[i] = client.GetMetadataAsync(new[] { $"topic-{i}" });
        var answers = await Task.WhenAll(calls).WaitAsync(TimeSpan.FromSeconds(10));

        for (int i = 0; i < answers.Length; i++) Assert.Equal($"topic-{i}", Assert.Single(answers[i].Topics).Name);
        Assert.Equal(1, fake.ConnectionCount);
        var correlationIds = held.Select(h => h.Header.CorrelationId).ToList();
        Assert.Equal(5, correlationIds.Distinct().Count());
    }

    [Fact]
    public async Task Versions_HighestBothSupport_IsUsed()
    {
        FakeBroker? fakeRef = null;
        await using var fake = new FakeBroker(r => Standard(fakeRef!, r));
        fakeRef = fake;
        fake.Versions[(short)ApiKey.Metadata] = (0, 5);
        await using var client = Client(fake.Bootstrap);

        var info = await client.GetMetadataAsync(new[] { "t" });

        Assert.Equal("fake-cluster", info.ClusterId);
        var apiVersions = fake.Requests.First(r => r.Header.ApiKey == (short)ApiKey.ApiVersions);
        Assert.Equal(ApiVersionsRequest.HighestVersion, apiVersions.Header.ApiVersion);
        Assert.Equal("broker-client", apiVersions.Read(ApiVersionsRequest.Read).ClientSoftwareName);
        Assert.Equal(5, fake.Requests.First(r => r.Header.ApiKey == (short)ApiKey.Metadata).Header.ApiVersion);
        Assert.Equal("conn-test", apiVersions.Header.ClientId);
        Assert.Equal(5, await client.NegotiatedVersionAsync(-1, (short)ApiKey.Metadata, 0, 12));
    }

    [Fact]
    public async Task ApiVersions_UnsupportedVersionAnswer_RetriesAtTheBrokersVersion()
    {
        FakeBroker? fakeRef = null;
        await using var fake = new FakeBroker(r =>
        {
            var f = fakeRef!;
            if (r.Header.ApiKey == (short)ApiKey.ApiVersions && r.Header.ApiVersion > 2) return f.ApiVersionsAnswer(error: 35);
            return Standard(f, r);
        });
        fakeRef = fake;
        fake.Versions[(short)ApiKey.ApiVersions] = (0, 2);
        await using var client = Client(fake.Bootstrap);

        await client.GetMetadataAsync(new[] { "t" });

        var versions = fake.Requests.Where(r => r.Header.ApiKey == (short)ApiKey.ApiVersions).Select(r => r.Header.ApiVersion).ToList();
        Assert.Equal(new short[] { 3, 2 }, versions);
    }

    [Fact]
    public async Task NoCommonVersion_SurfacesUnsupportedVersion()
    {
        FakeBroker? fakeRef = null;
        await using var fake = new FakeBroker(r => Standard(fakeRef!, r));
        fakeRef = fake;
        fake.Versions[(short)ApiKey.Metadata] = (0, 0); // we need v1+
        await using var client = Client(fake.Bootstrap);

        var ex = await Assert.ThrowsAsync<KafkaException>(() => client.GetMetadataAsync(null));
        Assert.Equal(ErrorCode.UnsupportedVersion, ex.Error);
        Assert.Contains("Metadata", ex.Message);
    }

    [Fact]
    public async Task ConnectionDroppedWhileRequestPending_FailsWithNetworkException_ThenReconnects()
    {
        bool silent = true;
        FakeBroker? fakeRef = null;
        await using var fake = new FakeBroker(r =>
        {
            if (r.Header.ApiKey == (short)ApiKey.Metadata && Volatile.Read(ref silent)) return null;
            return Standard(fakeRef!, r);
        });
        fakeRef = fake;
        await using var client = Client(fake.Bootstrap, timeoutSeconds: 10);

        var pending = client.GetMetadataAsync(new[] { "t" });
        await WaitUntil(() => fake.Requests.Any(r => r.Header.ApiKey == (short)ApiKey.Metadata));
        var sw = Stopwatch.StartNew();
        fake.CloseConnections();
        var ex = await Assert.ThrowsAsync<KafkaException>(() => pending);
        Assert.Equal(ErrorCode.NetworkException, ex.Error);
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(5), $"the drop was noticed after {sw.Elapsed}");

        Volatile.Write(ref silent, false);
        var info = await client.GetMetadataAsync(new[] { "t" });
        Assert.Equal("t", Assert.Single(info.Topics).Name);
        Assert.Equal(2, fake.ConnectionCount);
    }

    [Fact]
    public async Task CancelledRequest_KeepsTheConnection_AndItsLateAnswerIsIgnored()
    {
        FakeRequest? parked = null;
        FakeBroker? fakeRef = null;
        await using var fake = new FakeBroker(r =>
        {
            if (r.Header.ApiKey == (short)ApiKey.Metadata && parked is null)
            {
                parked = r; // answered only after the caller gave up
                return null;
            }
            return Standard(fakeRef!, r);
        });
        fakeRef = fake;
        await using var client = Client(fake.Bootstrap);

        using var cts = new CancellationTokenSource();
        var first = client.GetMetadataAsync(new[] { "first" }, cancellationToken: cts.Token);
        await WaitUntil(() => parked is not null);
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first);

        fake.Respond(parked!, MetadataAnswer(fake, parked!.Read(MetadataRequest.Read), clusterId: "late"));
        var second = await client.GetMetadataAsync(new[] { "second" });
        Assert.Equal("second", Assert.Single(second.Topics).Name);
        Assert.Equal("fake-cluster", second.ClusterId);
        Assert.Equal(1, fake.ConnectionCount);
    }

    [Fact]
    public async Task RetryBudget_RetriesAcrossADroppedConnection()
    {
        int metadataCalls = 0;
        FakeBroker? fakeRef = null;
        await using var fake = new FakeBroker(r =>
        {
            if (r.Header.ApiKey == (short)ApiKey.Metadata && Interlocked.Increment(ref metadataCalls) == 1)
            {
                fakeRef!.CloseConnections(); // the first attempt dies with the connection
                return null;
            }
            return Standard(fakeRef!, r);
        });
        fakeRef = fake;
        await using var client = Client(fake.Bootstrap, budgetSeconds: 10);

        var info = await client.GetMetadataAsync(new[] { "t" });

        Assert.Equal("t", Assert.Single(info.Topics).Name);
        Assert.Equal(2, Volatile.Read(ref metadataCalls));
    }

    [Fact]
    public async Task LowLevelSend_RoundTripsAnyMessage()
    {
        FakeBroker? fakeRef = null;
        await using var fake = new FakeBroker(r => Standard(fakeRef!, r));
        fakeRef = fake;
        await using var client = Client(fake.Bootstrap);

        var response = await client.SendAsync(-1, (short)ApiKey.Metadata, 1, 12,
            _ => new MetadataRequest { Topics = new() { new MetadataRequest.MetadataRequestTopic { Name = "x" } } },
            MetadataResponse.Read);

        Assert.Equal("x", Assert.Single(response.Topics).Name);
        Assert.Equal(fake.Port, Assert.Single(response.Brokers).Port);
    }

    [Fact]
    public async Task Dispose_FailsLaterCalls_AndClosesTheConnection()
    {
        FakeBroker? fakeRef = null;
        await using var fake = new FakeBroker(r => Standard(fakeRef!, r));
        fakeRef = fake;
        var client = Client(fake.Bootstrap);
        await client.GetMetadataAsync(null);
        await client.DisposeAsync();

        await Assert.ThrowsAsync<ObjectDisposedException>(() => client.GetMetadataAsync(null));
        await WaitUntil(() => fake.ConnectionCount == 1 && !fake.HasOpenConnections);
    }

    [Theory]
    [InlineData("")]
    [InlineData("localhost")]
    [InlineData("localhost:")]
    [InlineData("localhost:0")]
    [InlineData("localhost:70000")]
    [InlineData(":9092")]
    [InlineData("a:1,b")]
    public void BadBootstrap_IsRejectedClearly(string servers)
    {
        var ex = Assert.Throws<ArgumentException>(() => new KafkaClient(new KafkaClientOptions { BootstrapServers = servers }));
        Assert.Contains("ootstrap", ex.Message);
    }

    [Fact]
    public void Bootstrap_ParsesListsAndIpv6()
    {
        var parsed = KafkaClient.ParseBootstrap(" a:1 , 127.0.0.2:9092,[::1]:19092 ");
        Assert.Equal(new[] { ("a", 1), ("127.0.0.2", 9092), ("::1", 19092) }, parsed);
    }

    private static async Task WaitUntil(Func<bool> condition)
    {
        var sw = Stopwatch.StartNew();
        while (!condition())
        {
            if (sw.Elapsed > TimeSpan.FromSeconds(10)) throw new TimeoutException("condition not reached in 10 s");
            await Task.Delay(20);
        }
    }
}

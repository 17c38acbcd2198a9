using System.Net;
using System.Text;
using System.Text.Json;
using Xunit;

namespace Broker.Http.Tests.Proxy;

/// <summary>Consumer instances over real HTTP: lifecycle, validation, conflicts, unknown instances and expiry.</summary>
public sealed class ProxyConsumerEndpointsTests
{
    private const string V2 = ProxyFixture.V2;

    private static async Task<string> CreateAsync(ProxyFixture proxy, string group, string body = """{"name":"c1","format":"json","auto.offset.reset":"earliest","auto.commit.enable":"false"}""")
    {
        var json = (await proxy.PostAsync($"/consumers/{group}", body, V2)).Expect(HttpStatusCode.OK).Json;
        return json.GetProperty("instance_id").GetString()!;
    }

    [Fact]
    public async Task Lifecycle_Create_Subscribe_Poll_Commit_ReadOffsets_Delete()
    {
        await using var proxy = await ProxyFixture.StartAsync();
        proxy.Cluster.CreateTopic("events", 2);
        for (int i = 0; i < 4; i++) proxy.Cluster.Append("events", i % 2, null, Encoding.UTF8.GetBytes($"{{\"n\":{i}}}"));

        var created = (await proxy.PostAsync("/consumers/g1", """{"name":"c1","format":"json","auto.offset.reset":"earliest","auto.commit.enable":"false"}""", V2))
            .Expect(HttpStatusCode.OK);
        Assert.Equal(V2, created.MediaType);
        Assert.Equal("c1", created.Json.GetProperty("instance_id").GetString());
        Assert.Equal($"{proxy.Server.Urls[0]}/consumers/g1/instances/c1", created.Json.GetProperty("base_uri").GetString());

        const string instance = "/consumers/g1/instances/c1";
        var subscribed = await proxy.PostAsync(instance + "/subscription", """{"topics":["events"]}""", V2);
        subscribed.Expect(HttpStatusCode.NoContent);
        Assert.Equal(["events"], proxy.Cluster.Consumers.Single().Subscription);

        var polled = (await proxy.GetAsync(instance + "/records?timeout=250&max_bytes=65536", ProxyFixture.Json)).Expect(HttpStatusCode.OK);
        Assert.Equal(ProxyFixture.Json, polled.MediaType);
        Assert.Equal([0, 1, 2, 3], polled.Json.EnumerateArray().Select(r => r.GetProperty("value").GetProperty("n").GetInt32()).Order().ToArray());
        Assert.Equal(TimeSpan.FromMilliseconds(250), proxy.Cluster.Consumers.Single().LastPollTimeout);
        // Nothing new: an empty array, in the other format too.
        Assert.Equal("[]", (await proxy.GetAsync(instance + "/records", ProxyFixture.Binary)).Expect(HttpStatusCode.OK).Body);
        Assert.Equal(TimeSpan.FromSeconds(1), proxy.Cluster.Consumers.Single().LastPollTimeout); // consumer.request.timeout.ms default

        (await proxy.PostAsync(instance + "/offsets", """{"partitions":[{"topic":"events","partition":0,"offset":2}]}""", V2))
            .Expect(HttpStatusCode.NoContent);
        // An empty body commits everything polled (partition 1 up to 2 as well).
        (await proxy.PostAsync(instance + "/offsets", "", null)).Expect(HttpStatusCode.NoContent);

        var offsets = (await proxy.GetAsync(instance + "/offsets", null,
            """{"partitions":[{"topic":"events","partition":0},{"topic":"events","partition":1},{"topic":"other","partition":0}]}""", V2))
            .Expect(HttpStatusCode.OK).Json.GetProperty("offsets").EnumerateArray().ToArray();
        Assert.Equal(3, offsets.Length);
        Assert.Equal(("events", 0, 2L, ""), (offsets[0].GetProperty("topic").GetString(), offsets[0].GetProperty("partition").GetInt32(),
            offsets[0].GetProperty("offset").GetInt64(), offsets[0].GetProperty("metadata").GetString()));
        Assert.Equal(2L, offsets[1].GetProperty("offset").GetInt64());
        Assert.Equal(-1L, offsets[2].GetProperty("offset").GetInt64());

        (await proxy.SendAsync(HttpMethod.Delete, instance, contentType: V2)).Expect(HttpStatusCode.NoContent);
        Assert.True(proxy.Cluster.Consumers.Single().Disposed);
        (await proxy.GetAsync(instance + "/records", ProxyFixture.Json)).ExpectError(HttpStatusCode.NotFound, 40403);
        (await proxy.SendAsync(HttpMethod.Delete, instance)).ExpectError(HttpStatusCode.NotFound, 40403);
    }

    [Fact]
    public async Task Create_WithoutName_GeneratesOne_AndDefaults()
    {
        await using var proxy = await ProxyFixture.StartAsync();
        var a = (await proxy.PostAsync("/consumers/g", "{}", V2)).Expect(HttpStatusCode.OK).Json;
        var b = (await proxy.PostAsync("/consumers/g", """{"format":"binary"}""", V2 + "; charset=utf-8", "*/*")).Expect(HttpStatusCode.OK).Json;
        string idA = a.GetProperty("instance_id").GetString()!, idB = b.GetProperty("instance_id").GetString()!;
        Assert.NotEqual(idA, idB);
        Assert.EndsWith("/consumers/g/instances/" + idA, a.GetProperty("base_uri").GetString());
        Assert.Equal(2, proxy.Server.Consumers.Count);
    }

    [Fact]
    public async Task Create_BaseUri_UsesTheAdvertisedHost()
    {
        await using var proxy = await ProxyFixture.StartAsync(advertisedHost: "broker.example");
        var json = (await proxy.PostAsync("/consumers/my%20group", """{"name":"x"}""", V2)).Expect(HttpStatusCode.OK).Json;
        int port = new Uri(proxy.Server.Urls[0]).Port;
        Assert.Equal($"http://broker.example:{port}/consumers/my%20group/instances/x", json.GetProperty("base_uri").GetString());
    }

    [Fact]
    public async Task Create_Duplicate_Is409_ButTheSameNameInAnotherGroupIsFine()
    {
        await using var proxy = await ProxyFixture.StartAsync();
        await CreateAsync(proxy, "g");
        (await proxy.PostAsync("/consumers/g", """{"name":"c1"}""", V2)).ExpectError(HttpStatusCode.Conflict, 40902);
        Assert.Equal("c1", await CreateAsync(proxy, "other"));
    }

    [Theory]
    [InlineData("""{"format":"avro"}""", 40002)]
    [InlineData("""{"auto.offset.reset":"latest"}""", 40002)]
    [InlineData("""{"auto.commit.enable":"true"}""", 40002)]
    [InlineData("""{"auto.commit.enable":true}""", 40002)]
    [InlineData("""{"fetch.min.bytes":"lots"}""", 40002)]
    [InlineData("""{"consumer.request.timeout.ms":"-5"}""", 40002)]
    [InlineData("""{"name":"has/slash"}""", 40002)]
    [InlineData("""{"name":"has space"}""", 40002)]
    [InlineData("", 422)]
    [InlineData("null", 422)]
    [InlineData("[1]", 422)]
    [InlineData("""{"name":5}""", 422)]
    [InlineData("""{"format":["json"]}""", 422)]
    [InlineData("{\"name\":", 422)]
    public async Task Create_BadBodies(string body, int errorCode)
    {
        await using var proxy = await ProxyFixture.StartAsync();
        (await proxy.PostAsync("/consumers/g", body, V2)).ExpectError((HttpStatusCode)(errorCode < 600 ? errorCode : errorCode / 100), errorCode);
        Assert.Equal(0, proxy.Server.Consumers.Count);
    }

    [Fact]
    public async Task Create_AcceptsNumbersAndBooleansWherePandaproxyWantsStrings()
    {
        await using var proxy = await ProxyFixture.StartAsync();
        (await proxy.PostAsync("/consumers/g", """{"auto.commit.enable":false,"fetch.min.bytes":1,"consumer.request.timeout.ms":300}""", V2))
            .Expect(HttpStatusCode.OK);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("application/json")]
    [InlineData(ProxyFixture.Json)]
    public async Task ControlCalls_WithTheWrongContentType_Are415(string? contentType)
    {
        await using var proxy = await ProxyFixture.StartAsync();
        await CreateAsync(proxy, "g");
        const string instance = "/consumers/g/instances/c1";
        (await proxy.PostAsync("/consumers/g", """{"name":"c2"}""", contentType)).ExpectError(HttpStatusCode.UnsupportedMediaType, 415);
        (await proxy.PostAsync(instance + "/subscription", """{"topics":["t"]}""", contentType)).ExpectError(HttpStatusCode.UnsupportedMediaType, 415);
        (await proxy.PostAsync(instance + "/offsets", """{"partitions":[]}""", contentType)).ExpectError(HttpStatusCode.UnsupportedMediaType, 415);
        (await proxy.GetAsync(instance + "/offsets", null, """{"partitions":[]}""", contentType)).ExpectError(HttpStatusCode.UnsupportedMediaType, 415);
    }

    [Fact]
    public async Task Records_BeforeSubscribing_Is400()
    {
        await using var proxy = await ProxyFixture.StartAsync();
        await CreateAsync(proxy, "g");
        (await proxy.GetAsync("/consumers/g/instances/c1/records", ProxyFixture.Binary)).ExpectError(HttpStatusCode.BadRequest, 40002);
        Assert.Equal(0, proxy.Cluster.Consumers.Single().Polls);
    }

    [Fact]
    public async Task Records_WithoutAnEmbeddedAccept_Is406()
    {
        await using var proxy = await ProxyFixture.StartAsync();
        await CreateAsync(proxy, "g");
        (await proxy.GetAsync("/consumers/g/instances/c1/records")).ExpectError(HttpStatusCode.NotAcceptable, 406);
        (await proxy.GetAsync("/consumers/g/instances/c1/records", "*/*")).ExpectError(HttpStatusCode.NotAcceptable, 406);
        (await proxy.GetAsync("/consumers/g/instances/c1/records?timeout=soon", ProxyFixture.Json)).ExpectError(HttpStatusCode.BadRequest, 40002);
        Assert.Equal(0, proxy.Cluster.Consumers.Single().Polls);
    }

    [Theory]
    [InlineData("""{"topic":["t"]}""", 422)]
    [InlineData("""{"topics":"t"}""", 422)]
    [InlineData("""{"topics":[""]}""", 422)]
    [InlineData("""{"topics":[null]}""", 422)]
    [InlineData("""{"topics":[]}""", 40002)]
    [InlineData("""{"topic_pattern":"t.*"}""", 40002)]
    [InlineData("not json", 422)]
    public async Task Subscription_BadBodies(string body, int errorCode)
    {
        await using var proxy = await ProxyFixture.StartAsync();
        await CreateAsync(proxy, "g");
        (await proxy.PostAsync("/consumers/g/instances/c1/subscription", body, V2))
            .ExpectError((HttpStatusCode)(errorCode < 600 ? errorCode : errorCode / 100), errorCode);
    }

    [Theory]
    [InlineData("""{"partitions":[{"topic":"t"}]}""")]
    [InlineData("""{"partitions":[{"topic":"t","partition":0}]}""")] // no offset
    [InlineData("""{"partitions":[{"topic":"t","partition":0,"offset":"1"}]}""")]
    [InlineData("""{"partitions":[{"topic":"t","partition":-1,"offset":1}]}""")]
    [InlineData("""{"offsets":[]}""")]
    [InlineData("{")]
    public async Task CommitOffsets_BadBodies_Are422(string body)
    {
        await using var proxy = await ProxyFixture.StartAsync();
        await CreateAsync(proxy, "g");
        (await proxy.PostAsync("/consumers/g/instances/c1/offsets", body, V2)).ExpectError(HttpStatusCode.UnprocessableEntity, 422);
        Assert.Empty(proxy.Cluster.Committed);
    }

    [Theory]
    [InlineData("")]
    [InlineData("""{"partitions":[{"partition":0}]}""")]
    [InlineData("""{"topics":[]}""")]
    public async Task ReadOffsets_BadBodies_Are422(string body)
    {
        await using var proxy = await ProxyFixture.StartAsync();
        await CreateAsync(proxy, "g");
        (await proxy.GetAsync("/consumers/g/instances/c1/offsets", null, body, V2)).ExpectError(HttpStatusCode.UnprocessableEntity, 422);
    }

    [Fact]
    public async Task UnknownInstance_Is40403_Everywhere()
    {
        await using var proxy = await ProxyFixture.StartAsync();
        await CreateAsync(proxy, "g");
        foreach (var instance in new[] { "/consumers/g/instances/nope", "/consumers/other/instances/c1" })
        {
            (await proxy.PostAsync(instance + "/subscription", """{"topics":["t"]}""", V2)).ExpectError(HttpStatusCode.NotFound, 40403);
            (await proxy.GetAsync(instance + "/records", ProxyFixture.Binary)).ExpectError(HttpStatusCode.NotFound, 40403);
            (await proxy.PostAsync(instance + "/offsets", "", null)).ExpectError(HttpStatusCode.NotFound, 40403);
            (await proxy.GetAsync(instance + "/offsets", null, """{"partitions":[]}""", V2)).ExpectError(HttpStatusCode.NotFound, 40403);
            (await proxy.SendAsync(HttpMethod.Delete, instance, contentType: V2)).ExpectError(HttpStatusCode.NotFound, 40403);
        }
    }

    [Fact]
    public async Task IdleInstances_Expire_AndLeaveTheirGroup_ActiveOnesStay()
    {
        await using var proxy = await ProxyFixture.StartAsync(instanceTimeout: TimeSpan.FromSeconds(30));
        await CreateAsync(proxy, "g", """{"name":"idle"}""");
        await CreateAsync(proxy, "g", """{"name":"active"}""");
        var idle = proxy.Cluster.Consumers[0];

        proxy.Clock.Advance(TimeSpan.FromSeconds(20));
        (await proxy.PostAsync("/consumers/g/instances/active/subscription", """{"topics":["t"]}""", V2)).Expect(HttpStatusCode.NoContent);
        proxy.Clock.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(1, await proxy.Server.Consumers.SweepAsync());
        Assert.True(idle.Disposed);
        Assert.False(proxy.Cluster.Consumers[1].Disposed);
        (await proxy.GetAsync("/consumers/g/instances/idle/records", ProxyFixture.Binary)).ExpectError(HttpStatusCode.NotFound, 40403);
        // The name is free again.
        await CreateAsync(proxy, "g", """{"name":"idle"}""");

        proxy.Clock.Advance(TimeSpan.FromSeconds(29));
        Assert.Equal(1, await proxy.Server.Consumers.SweepAsync()); // "active" (idle for 39 s), not the new "idle" (29 s)
        Assert.True(proxy.Cluster.Consumers[1].Disposed);
        Assert.Equal(1, proxy.Server.Consumers.Count);
    }

    [Fact]
    public async Task BusyInstance_IsNotExpired_AndRequestsOnOneInstanceRunOneAtATime()
    {
        await using var proxy = await ProxyFixture.StartAsync(instanceTimeout: TimeSpan.FromSeconds(30));
        await CreateAsync(proxy, "g");
        var consumer = proxy.Cluster.Consumers.Single();
        (await proxy.PostAsync("/consumers/g/instances/c1/subscription", """{"topics":["t"]}""", V2)).Expect(HttpStatusCode.NoContent);
        consumer.PollGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var first = proxy.GetAsync("/consumers/g/instances/c1/records", ProxyFixture.Binary);
        var second = proxy.GetAsync("/consumers/g/instances/c1/records", ProxyFixture.Binary);
        await WaitUntilAsync(() => consumer.Polls == 1);

        proxy.Clock.Advance(TimeSpan.FromMinutes(5));
        Assert.Equal(0, await proxy.Server.Consumers.SweepAsync());
        Assert.Equal(1, consumer.Polls); // the second request waits for the first (FakeConsumer throws on concurrent use)

        consumer.PollGate.SetResult();
        (await first).Expect(HttpStatusCode.OK);
        (await second).Expect(HttpStatusCode.OK);
        Assert.Equal(2, consumer.Polls);
        Assert.Equal(0, await proxy.Server.Consumers.SweepAsync()); // just used
        proxy.Clock.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(1, await proxy.Server.Consumers.SweepAsync());
    }

    [Fact]
    public async Task BackgroundExpiry_RunsOnTheRealClock()
    {
        var cluster = new FakeCluster();
        var options = new Broker.Http.Proxy.HttpProxyOptions
        {
            Listen = [("127.0.0.1", 0)],
            BootstrapServers = "fake:1",
            ConsumerInstanceTimeout = TimeSpan.FromMilliseconds(300),
        };
        await using var server = await Broker.Http.Proxy.HttpProxyServer.StartAsync(options, cluster,
            Broker.Core.Diagnostics.SystemClock.Instance, Broker.Http.Proxy.HttpProxyServer.SweepInterval(options.ConsumerInstanceTimeout),
            CancellationToken.None);
        using var http = new HttpClient { BaseAddress = new Uri(server.Urls[0]) };
        using var content = new StringContent("{}", Encoding.UTF8);
        content.Headers.ContentType = new(V2);
        (await http.PostAsync("/consumers/g", content)).EnsureSuccessStatusCode();
        Assert.Equal(1, server.Consumers.Count);
        await WaitUntilAsync(() => server.Consumers.Count == 0);
        Assert.True(cluster.Consumers.Single().Disposed);
    }

    [Fact]
    public async Task Dispose_ClosesEveryInstance()
    {
        var proxy = await ProxyFixture.StartAsync();
        await CreateAsync(proxy, "g");
        await CreateAsync(proxy, "h");
        await proxy.DisposeAsync();
        Assert.All(proxy.Cluster.Consumers, c => Assert.True(c.Disposed));
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not reached within 10 s");
            await Task.Delay(20);
        }
    }
}

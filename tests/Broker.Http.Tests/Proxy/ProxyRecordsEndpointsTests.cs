using System.Net;
using System.Text;
using System.Text.Json;
using Xunit;

namespace Broker.Http.Tests.Proxy;

/// <summary>POST /topics/{topic} and GET /topics/{topic}/partitions/{p}/records over real HTTP.</summary>
public sealed class ProxyRecordsEndpointsTests
{
    private const string RecordsPath = "/topics/t/partitions/0/records?offset=0&timeout=100&max_bytes=100000";

    [Fact]
    public async Task ProduceBinary_ThenFetchBinary_RoundTripsBytes()
    {
        await using var proxy = await ProxyFixture.StartAsync();
        proxy.Cluster.CreateTopic("t", 2);
        var produced = (await proxy.PostAsync("/topics/t",
            """{"records":[{"key":"AQI=","value":"aGVsbG8=","partition":0},{"value":"d29ybGQ=","partition":0},{"value":null,"partition":1}]}""",
            ProxyFixture.Binary)).Expect(HttpStatusCode.OK);
        Assert.Equal(ProxyFixture.V2, produced.MediaType);
        var offsets = produced.Json.GetProperty("offsets").EnumerateArray().ToArray();
        Assert.Equal(3, offsets.Length);
        Assert.Equal((0, 0L), (offsets[0].GetProperty("partition").GetInt32(), offsets[0].GetProperty("offset").GetInt64()));
        Assert.Equal((0, 1L), (offsets[1].GetProperty("partition").GetInt32(), offsets[1].GetProperty("offset").GetInt64()));
        Assert.Equal((1, 0L), (offsets[2].GetProperty("partition").GetInt32(), offsets[2].GetProperty("offset").GetInt64()));
        Assert.False(offsets[0].TryGetProperty("error_code", out _));
        // One batch per partition.
        Assert.Equal([("t", 0, 2), ("t", 1, 1)], proxy.Cluster.ProduceCalls.OrderBy(c => c.Partition).ToArray());

        var fetched = (await proxy.GetAsync(RecordsPath, ProxyFixture.Binary)).Expect(HttpStatusCode.OK);
        Assert.Equal(ProxyFixture.Binary, fetched.MediaType);
        var records = fetched.Json.EnumerateArray().ToArray();
        Assert.Equal(2, records.Length);
        Assert.Equal("AQI=", records[0].GetProperty("key").GetString());
        Assert.Equal("aGVsbG8=", records[0].GetProperty("value").GetString());
        Assert.Equal(JsonValueKind.Null, records[1].GetProperty("key").ValueKind);
        Assert.Equal("world", Encoding.UTF8.GetString(Convert.FromBase64String(records[1].GetProperty("value").GetString()!)));
        Assert.Equal(1, records[1].GetProperty("offset").GetInt64());
        Assert.Equal("t", records[1].GetProperty("topic").GetString());
    }

    [Fact]
    public async Task ProduceJson_ThenFetchJsonAndBinary()
    {
        await using var proxy = await ProxyFixture.StartAsync();
        proxy.Cluster.CreateTopic("t", 1);
        (await proxy.PostAsync("/topics/t", """{"records":[{"key":{"id":7},"value":{"msg":"hi","n":[1,2]}},{"value":"plain string"}]}""",
            ProxyFixture.Json, "*/*")).Expect(HttpStatusCode.OK);
        Assert.Equal("""{"msg":"hi","n":[1,2]}""", Encoding.UTF8.GetString(proxy.Cluster.Records("t", 0)[0].Value!));

        var json = (await proxy.GetAsync(RecordsPath, ProxyFixture.Json)).Expect(HttpStatusCode.OK);
        Assert.Equal(ProxyFixture.Json, json.MediaType);
        var records = json.Json;
        Assert.Equal(7, records[0].GetProperty("key").GetProperty("id").GetInt32());
        Assert.Equal("hi", records[0].GetProperty("value").GetProperty("msg").GetString());
        Assert.Equal("plain string", records[1].GetProperty("value").GetString());

        var binary = (await proxy.GetAsync(RecordsPath, ProxyFixture.Binary)).Expect(HttpStatusCode.OK).Json;
        Assert.Equal("""{"id":7}""", Encoding.UTF8.GetString(Convert.FromBase64String(binary[0].GetProperty("key").GetString()!)));
    }

    [Fact]
    public async Task Produce_WithoutPartition_UsesThePartitioner_AndAutoCreatedTopicsAreWaitedFor()
    {
        await using var proxy = await ProxyFixture.StartAsync();
        var body = new StringBuilder("""{"records":[""");
        for (int i = 0; i < 10; i++) body.Append(i == 0 ? "" : ",").Append($$"""{"key":"{{i % 2}}","value":{{i}}}""");
        body.Append("]}");
        // "fresh" does not exist: the fake auto-creates it with two partitions and first answers LEADER_NOT_AVAILABLE.
        var offsets = (await proxy.PostAsync("/topics/fresh", body.ToString(), ProxyFixture.Json)).Expect(HttpStatusCode.OK)
            .Json.GetProperty("offsets").EnumerateArray().ToArray();
        Assert.Equal(10, offsets.Length);
        // Same key → same partition; offsets within a partition grow in request order.
        for (int i = 2; i < 10; i++)
        {
            Assert.Equal(offsets[i - 2].GetProperty("partition").GetInt32(), offsets[i].GetProperty("partition").GetInt32());
            Assert.Equal(offsets[i - 2].GetProperty("offset").GetInt64() + 1, offsets[i].GetProperty("offset").GetInt64());
        }
        Assert.Equal(10, proxy.Cluster.Records("fresh", 0).Count + proxy.Cluster.Records("fresh", 1).Count);
    }

    [Fact]
    public async Task Produce_UnknownTopic_WithoutAutoCreate_Is404()
    {
        await using var proxy = await ProxyFixture.StartAsync();
        proxy.Cluster.AutoCreateTopics = false;
        (await proxy.PostAsync("/topics/missing", """{"records":[{"value":"AA=="}]}""", ProxyFixture.Binary))
            .ExpectError(HttpStatusCode.NotFound, 40401);
    }

    [Fact]
    public async Task Produce_BadPartition_ReportsKafkaErrorPerRecord()
    {
        await using var proxy = await ProxyFixture.StartAsync();
        proxy.Cluster.CreateTopic("t", 1);
        var offsets = (await proxy.PostAsync("/topics/t", """{"records":[{"value":"AA==","partition":5},{"value":"AA==","partition":0}]}""",
            ProxyFixture.Binary)).Expect(HttpStatusCode.OK).Json.GetProperty("offsets");
        Assert.Equal(3, offsets[0].GetProperty("error_code").GetInt32()); // UNKNOWN_TOPIC_OR_PARTITION
        Assert.Equal(-1, offsets[0].GetProperty("offset").GetInt64());
        Assert.Equal(0, offsets[1].GetProperty("offset").GetInt64());
    }

    [Fact]
    public async Task Produce_BodyAboveTheLimit_Is413()
    {
        await using var proxy = await ProxyFixture.StartAsync(limits: new Broker.Http.Hosting.HttpServerLimits { MaxRequestBodyBytes = 1024 });
        proxy.Cluster.CreateTopic("t", 1);
        string big = Convert.ToBase64String(new byte[2048]);
        (await proxy.PostAsync("/topics/t", "{\"records\":[{\"value\":\"" + big + "\"}]}", ProxyFixture.Binary))
            .ExpectError(HttpStatusCode.RequestEntityTooLarge, 413);
        Assert.Empty(proxy.Cluster.Records("t", 0));
        // The default limit takes it.
        await using var roomy = await ProxyFixture.StartAsync();
        roomy.Cluster.CreateTopic("t", 1);
        (await roomy.PostAsync("/topics/t", "{\"records\":[{\"value\":\"" + big + "\"}]}", ProxyFixture.Binary)).Expect(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Produce_EmptyRecords_IsEmptyOffsets()
    {
        await using var proxy = await ProxyFixture.StartAsync();
        var json = (await proxy.PostAsync("/topics/t", """{"records":[]}""", ProxyFixture.Binary)).Expect(HttpStatusCode.OK).Json;
        Assert.Equal(0, json.GetProperty("offsets").GetArrayLength());
    }

    [Theory]
    [InlineData(null)]
    [InlineData("application/json")]
    [InlineData("application/vnd.kafka.v2+json")]
    [InlineData("application/vnd.kafka.avro.v2+json")]
    [InlineData("text/plain")]
    public async Task Produce_UnsupportedContentType_Is415(string? contentType)
    {
        await using var proxy = await ProxyFixture.StartAsync();
        proxy.Cluster.CreateTopic("t", 1);
        (await proxy.PostAsync("/topics/t", """{"records":[{"value":"AA=="}]}""", contentType)).ExpectError(HttpStatusCode.UnsupportedMediaType, 415);
        Assert.Empty(proxy.Cluster.Records("t", 0));
    }

    [Fact]
    public async Task Produce_UnsupportedAccept_Is406()
    {
        await using var proxy = await ProxyFixture.StartAsync();
        (await proxy.PostAsync("/topics/t", """{"records":[]}""", ProxyFixture.Binary, ProxyFixture.Binary))
            .ExpectError(HttpStatusCode.NotAcceptable, 406);
    }

    [Theory]
    [InlineData("", "application/vnd.kafka.binary.v2+json")]
    [InlineData("{", "application/vnd.kafka.binary.v2+json")]
    [InlineData("""{"records":[{"value":"@@not base64@@"}]}""", "application/vnd.kafka.binary.v2+json")]
    [InlineData("""{"records":[{"value":{"a":1}}]}""", "application/vnd.kafka.binary.v2+json")]
    [InlineData("""{"records":[{"value":nope}]}""", "application/vnd.kafka.json.v2+json")]
    [InlineData("""{"records":[{"valu":1}]}""", "application/vnd.kafka.json.v2+json")]
    [InlineData("""{"records":[{"value":1,"partition":"0"}]}""", "application/vnd.kafka.json.v2+json")]
    public async Task Produce_MalformedBody_Is422(string body, string contentType)
    {
        await using var proxy = await ProxyFixture.StartAsync();
        proxy.Cluster.CreateTopic("t", 1);
        (await proxy.PostAsync("/topics/t", body, contentType)).ExpectError(HttpStatusCode.UnprocessableEntity, 422);
        Assert.Empty(proxy.Cluster.Records("t", 0));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("*/*")]
    [InlineData("application/vnd.kafka.v2+json")]
    [InlineData("application/json")]
    public async Task Fetch_WithoutAnEmbeddedFormat_Is406(string? accept)
    {
        await using var proxy = await ProxyFixture.StartAsync();
        proxy.Cluster.CreateTopic("t", 1);
        (await proxy.GetAsync(RecordsPath, accept)).ExpectError(HttpStatusCode.NotAcceptable, 406);
    }

    [Theory]
    [InlineData("/topics/t/partitions/0/records?timeout=1&max_bytes=100")]
    [InlineData("/topics/t/partitions/0/records?offset=0&max_bytes=100")]
    [InlineData("/topics/t/partitions/0/records?offset=0&timeout=1")]
    [InlineData("/topics/t/partitions/0/records?offset=x&timeout=1&max_bytes=100")]
    [InlineData("/topics/t/partitions/0/records?offset=-1&timeout=1&max_bytes=100")]
    [InlineData("/topics/t/partitions/0/records?offset=0&timeout=1&max_bytes=0")]
    [InlineData("/topics/t/partitions/zero/records?offset=0&timeout=1&max_bytes=100")]
    public async Task Fetch_MissingOrBadParameters_Are400(string path)
    {
        await using var proxy = await ProxyFixture.StartAsync();
        proxy.Cluster.CreateTopic("t", 1);
        (await proxy.GetAsync(path, ProxyFixture.Binary)).ExpectError(HttpStatusCode.BadRequest, 40002);
    }

    [Fact]
    public async Task Fetch_UnknownPartition_Is404_AndOffsetOutOfRangeIs400()
    {
        await using var proxy = await ProxyFixture.StartAsync();
        proxy.Cluster.CreateTopic("t", 1);
        (await proxy.GetAsync("/topics/t/partitions/9/records?offset=0&timeout=1&max_bytes=100", ProxyFixture.Binary))
            .ExpectError(HttpStatusCode.NotFound, 40402);
        (await proxy.GetAsync("/topics/nope/partitions/0/records?offset=0&timeout=1&max_bytes=100", ProxyFixture.Json))
            .ExpectError(HttpStatusCode.NotFound, 40402);
        (await proxy.GetAsync("/topics/t/partitions/0/records?offset=50&timeout=1&max_bytes=100", ProxyFixture.Json))
            .ExpectError(HttpStatusCode.BadRequest, 40002);
    }

    [Fact]
    public async Task Fetch_FromTheMiddle_SkipsEarlierRecordsOfTheBatch()
    {
        await using var proxy = await ProxyFixture.StartAsync();
        proxy.Cluster.CreateTopic("t", 1);
        for (int i = 0; i < 6; i++) proxy.Cluster.Append("t", 0, null, Encoding.UTF8.GetBytes(i.ToString()));
        var records = (await proxy.GetAsync("/topics/t/partitions/0/records?offset=3&timeout=1&max_bytes=100000", ProxyFixture.Json))
            .Expect(HttpStatusCode.OK).Json;
        Assert.Equal([3L, 4L, 5L], records.EnumerateArray().Select(r => r.GetProperty("offset").GetInt64()).ToArray());
        Assert.Equal([3, 4, 5], records.EnumerateArray().Select(r => r.GetProperty("value").GetInt32()).ToArray());
    }

    [Fact]
    public async Task FetchJson_OfNonJsonBytes_Is40801()
    {
        await using var proxy = await ProxyFixture.StartAsync();
        proxy.Cluster.CreateTopic("t", 1);
        proxy.Cluster.Append("t", 0, null, "not json at all"u8.ToArray());
        (await proxy.GetAsync(RecordsPath, ProxyFixture.Json)).ExpectError(HttpStatusCode.RequestTimeout, 40801);
        // The same record is fine as binary.
        (await proxy.GetAsync(RecordsPath, ProxyFixture.Binary)).Expect(HttpStatusCode.OK);
    }
}

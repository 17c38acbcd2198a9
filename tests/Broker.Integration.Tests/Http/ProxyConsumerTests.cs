using System.Net;
using System.Text.Json;
using Broker.Client;
using Broker.Core.Model;
using Broker.Integration.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace Broker.Integration.Tests.Http;

/// <summary>
/// HTTP proxy consumer instances against a real broker: create, subscribe, poll every record, commit (all polled,
/// then explicit), read the committed offsets back (and through the Kafka API), delete (the member leaves its group);
/// and an idle instance expiring after http.proxy.consumer.instance.timeout.ms, leaving its group.
/// </summary>
public sealed class ProxyConsumerTests : IntegrationTest
{
    private const string Topic = "proxy-events";
    private const string Group = "proxy-group";
    private const int Count = 20;

    public ProxyConsumerTests(ITestOutputHelper output) : base(output) { }

    private BrokerProcess StartWithGroups(string name, int? instanceTimeoutMs = null)
    {
        var overrides = new Dictionary<string, string>
        {
            ["offsets.topic.num.partitions"] = "1",
            ["offsets.topic.replication.factor"] = "1",
            ["group.initial.rebalance.delay.ms"] = "0",
        };
        if (instanceTimeoutMs is { } ms) overrides["http.proxy.consumer.instance.timeout.ms"] = ms.ToString();
        var broker = StartBroker(name, overrides);
        AssertScriptOk(Confluent(broker, "create-topic", "--topic", Topic, "--partitions", "2"), broker, "create topic");
        return broker;
    }

    private static async Task ProduceAsync(ProxyRestClient proxy)
    {
        var records = string.Join(",", Enumerable.Range(0, Count).Select(i => "{\"key\":" + (i % 5) + ",\"value\":{\"i\":" + i + "}}"));
        var offsets = (await proxy.ExpectAsync(HttpStatusCode.OK, HttpMethod.Post, $"/topics/{Topic}", $$"""{"records":[{{records}}]}""",
            ProxyRestClient.Json)).Json.GetProperty("offsets");
        Assert.Equal(Count, offsets.GetArrayLength());
    }

    /// <summary>Polls the instance until <paramref name="count"/> records came back; returns their "i" values.</summary>
    private async Task<List<int>> PollAllAsync(ProxyRestClient proxy, string instancePath, int count, BrokerProcess broker)
    {
        var seen = new List<int>();
        var deadline = DateTime.UtcNow.AddSeconds(40);
        while (seen.Count < count)
        {
            Assert.True(DateTime.UtcNow < deadline, $"polled {seen.Count} of {count} records\n{broker.DescribeState()}");
            var answer = await proxy.ExpectAsync(HttpStatusCode.OK, HttpMethod.Get, instancePath + "/records?timeout=1000&max_bytes=1048576",
                accept: ProxyRestClient.Json);
            foreach (var record in answer.Json.EnumerateArray())
            {
                Assert.Equal(Topic, record.GetProperty("topic").GetString());
                seen.Add(record.GetProperty("value").GetProperty("i").GetInt32());
            }
        }
        Output.WriteLine($"polled {seen.Count} records");
        return seen;
    }

    private static async Task<IReadOnlyList<GroupMemberDescription>> MembersAsync(KafkaClient client)
    {
        var groups = await client.DescribeGroupsAsync([Group]);
        return groups.Single().Members;
    }

    private static async Task WaitForMembersAsync(KafkaClient client, int expected, TimeSpan within, BrokerProcess broker)
    {
        var deadline = DateTime.UtcNow + within;
        int last;
        while ((last = (await MembersAsync(client)).Count) != expected)
        {
            Assert.True(DateTime.UtcNow < deadline, $"group {Group} has {last} members, expected {expected}\n{broker.DescribeState()}");
            await Task.Delay(200);
        }
    }

    [Fact]
    public async Task Lifecycle_Create_Subscribe_Poll_Commit_Offsets_Delete()
    {
        var broker = StartWithGroups("proxy-consumer");
        using var proxy = new ProxyRestClient(broker);
        await using var client = new KafkaClient(new KafkaClientOptions { BootstrapServers = broker.Bootstrap });
        await ProduceAsync(proxy);

        var created = (await proxy.ExpectAsync(HttpStatusCode.OK, HttpMethod.Post, $"/consumers/{Group}",
            """{"name":"m1","format":"json","auto.offset.reset":"earliest","auto.commit.enable":"false"}""", ProxyRestClient.V2)).Json;
        Assert.Equal("m1", created.GetProperty("instance_id").GetString());
        string instance = $"/consumers/{Group}/instances/m1";
        Assert.Equal(broker.ProxyUrl + instance, created.GetProperty("base_uri").GetString());
        await proxy.ExpectErrorAsync(HttpStatusCode.Conflict, 40902, HttpMethod.Post, $"/consumers/{Group}", """{"name":"m1"}""", ProxyRestClient.V2);

        await proxy.ExpectAsync(HttpStatusCode.NoContent, HttpMethod.Post, instance + "/subscription", $$"""{"topics":["{{Topic}}"]}""", ProxyRestClient.V2);
        var seen = await PollAllAsync(proxy, instance, Count, broker);
        Assert.Equal(Enumerable.Range(0, Count), seen.Order());
        Assert.Single(await MembersAsync(client));

        // Commit everything polled (empty body), read it back through the proxy and through the Kafka API.
        await proxy.ExpectAsync(HttpStatusCode.NoContent, HttpMethod.Post, instance + "/offsets", "", ProxyRestClient.V2);
        string both = $$"""{"partitions":[{"topic":"{{Topic}}","partition":0},{"topic":"{{Topic}}","partition":1}]}""";
        var offsets = (await proxy.ExpectAsync(HttpStatusCode.OK, HttpMethod.Get, instance + "/offsets", both, ProxyRestClient.V2))
            .Json.GetProperty("offsets").EnumerateArray().ToArray();
        Assert.Equal(2, offsets.Length);
        Assert.Equal(Count, offsets.Sum(o => o.GetProperty("offset").GetInt64()));
        Assert.All(offsets, o => Assert.Equal(Topic, o.GetProperty("topic").GetString()));
        var viaKafka = await client.FetchCommittedOffsetsAsync(Group, [new TopicPartition(Topic, 0), new TopicPartition(Topic, 1)]);
        Assert.Equal(Count, viaKafka.Sum(o => o.Offset));

        // Explicit commit of one partition.
        await proxy.ExpectAsync(HttpStatusCode.NoContent, HttpMethod.Post, instance + "/offsets",
            $$"""{"partitions":[{"topic":"{{Topic}}","partition":0,"offset":1}]}""", ProxyRestClient.V2);
        var p0 = (await proxy.ExpectAsync(HttpStatusCode.OK, HttpMethod.Get, instance + "/offsets",
            $$"""{"partitions":[{"topic":"{{Topic}}","partition":0}]}""", ProxyRestClient.V2)).Json.GetProperty("offsets")[0];
        Assert.Equal(1, p0.GetProperty("offset").GetInt64());

        // __consumer_offsets exists now, and GET /topics hides it.
        var metadata = await client.GetMetadataAsync(null);
        Assert.Contains(metadata.Topics, t => t.Name == "__consumer_offsets");
        var topics = (await proxy.ExpectAsync(HttpStatusCode.OK, HttpMethod.Get, "/topics", accept: ProxyRestClient.AxiosAccept)).Json
            .EnumerateArray().Select(t => t.GetString()).ToList();
        Assert.Contains(Topic, topics);
        Assert.DoesNotContain("__consumer_offsets", topics);

        await proxy.ExpectAsync(HttpStatusCode.NoContent, HttpMethod.Delete, instance, contentType: ProxyRestClient.V2);
        await proxy.ExpectErrorAsync(HttpStatusCode.NotFound, 40403, HttpMethod.Get, instance + "/records", accept: ProxyRestClient.Json);
        await proxy.ExpectErrorAsync(HttpStatusCode.NotFound, 40403, HttpMethod.Delete, instance, contentType: ProxyRestClient.V2);
        // The member left (LeaveGroup), it did not just stop heartbeating: gone well before a session timeout.
        await WaitForMembersAsync(client, 0, TimeSpan.FromSeconds(3), broker);

        // A new instance of the group resumes from the committed offsets: partition 0 from 1, partition 1 at its end.
        var again = (await proxy.ExpectAsync(HttpStatusCode.OK, HttpMethod.Post, $"/consumers/{Group}", """{"format":"binary"}""",
            ProxyRestClient.V2)).Json.GetProperty("instance_id").GetString()!;
        string instance2 = $"/consumers/{Group}/instances/{again}";
        await proxy.ExpectAsync(HttpStatusCode.NoContent, HttpMethod.Post, instance2 + "/subscription", $$"""{"topics":["{{Topic}}"]}""", ProxyRestClient.V2);
        long p0End = offsets.Single(o => o.GetProperty("partition").GetInt32() == 0).GetProperty("offset").GetInt64();
        var resumed = await PollAllAsync(proxy, instance2, (int)p0End - 1, broker);
        Assert.Equal((int)p0End - 1, resumed.Count);
        await proxy.ExpectAsync(HttpStatusCode.NoContent, HttpMethod.Delete, instance2);
    }

    [Fact]
    public async Task IdleInstance_Expires_AndLeavesItsGroup()
    {
        const int timeoutMs = 2000;
        var broker = StartWithGroups("proxy-expiry", timeoutMs);
        using var proxy = new ProxyRestClient(broker);
        await using var client = new KafkaClient(new KafkaClientOptions { BootstrapServers = broker.Bootstrap });
        await ProduceAsync(proxy);

        (await proxy.ExpectAsync(HttpStatusCode.OK, HttpMethod.Post, $"/consumers/{Group}", """{"name":"idle","format":"json"}""",
            ProxyRestClient.V2)).Json.GetProperty("instance_id").GetString();
        string instance = $"/consumers/{Group}/instances/idle";
        await proxy.ExpectAsync(HttpStatusCode.NoContent, HttpMethod.Post, instance + "/subscription", $$"""{"topics":["{{Topic}}"]}""", ProxyRestClient.V2);
        await PollAllAsync(proxy, instance, Count, broker);
        Assert.Single(await MembersAsync(client));

        // Still alive while used more often than the timeout.
        for (int i = 0; i < 3; i++)
        {
            await Task.Delay(timeoutMs / 2);
            await proxy.ExpectAsync(HttpStatusCode.OK, HttpMethod.Get, instance + "/records?timeout=0", accept: ProxyRestClient.Json);
        }

        // Then idle: gone within the timeout plus a sweep interval (and some slack for a loaded machine).
        var idleSince = DateTime.UtcNow;
        await Task.Delay(timeoutMs);
        ProxyRestClient.Answer answer;
        while ((answer = await proxy.SendAsync(HttpMethod.Get, instance + "/offsets", $$"""{"partitions":[{"topic":"{{Topic}}","partition":0}]}""",
                   ProxyRestClient.V2)).Status == HttpStatusCode.OK)
        {
            // Probing with a request would keep it alive: only probe again after another full timeout.
            Assert.True(DateTime.UtcNow - idleSince < TimeSpan.FromSeconds(20), $"instance never expired\n{broker.DescribeState()}");
            idleSince = DateTime.UtcNow;
            await Task.Delay(timeoutMs + 1000);
        }
        Assert.Equal(HttpStatusCode.NotFound, answer.Status);
        Assert.Equal(40403, answer.Json.GetProperty("error_code").GetInt32());
        Assert.Contains("expired after 2000 ms", broker.ReadLog());
        await WaitForMembersAsync(client, 0, TimeSpan.FromSeconds(3), broker);
    }
}

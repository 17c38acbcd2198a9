using System.Net;
using System.Text;
using System.Text.Json;
using Broker.Integration.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace Broker.Integration.Tests.Http;

/// <summary>
/// The HTTP proxy of a real broker process, over HTTP: GET / and /topics as Morio calls them, /brokers, produce in
/// binary and JSON then fetch in both formats (cross-checked with kcat), records written by kcat with every codec
/// and by kafka-python (framed snappy) come back decoded, and bad requests get the documented errors.
/// </summary>
public sealed class ProxyTests : IntegrationTest
{
    public ProxyTests(ITestOutputHelper output) : base(output) { }

    [Fact]
    public async Task Root_Brokers_Topics_Produce_And_Fetch_BothFormats()
    {
        var broker = StartBroker("proxy");
        using var proxy = new ProxyRestClient(broker);

        Assert.Equal("{}", (await proxy.ExpectAsync(HttpStatusCode.OK, HttpMethod.Get, "/")).Body);
        var brokers = (await proxy.ExpectAsync(HttpStatusCode.OK, HttpMethod.Get, "/brokers")).Json;
        Assert.Equal([1], brokers.GetProperty("brokers").EnumerateArray().Select(e => e.GetInt32()).ToArray());

        AssertScriptOk(Confluent(broker, "create-topic", "--topic", "px", "--partitions", "2"), broker, "create topic px");

        // Binary: base64 keys and values, explicit and partitioner-chosen partitions (the third record's key and value
        // are JSON texts, so whichever partition murmur2 picks can also be read as json.v2).
        var produced = (await proxy.ExpectAsync(HttpStatusCode.OK, HttpMethod.Post, "/topics/px",
            """{"records":[{"key":"a2V5LTA=","value":"dmFsdWUtMA==","partition":0},{"value":"dmFsdWUtMQ==","partition":0},{"key":"ImsyIg==","value":"ImJpbiI="}]}""",
            ProxyRestClient.Binary)).Json.GetProperty("offsets").EnumerateArray().ToArray();
        Assert.Equal(3, produced.Length);
        Assert.Equal((0, 0L), (produced[0].GetProperty("partition").GetInt32(), produced[0].GetProperty("offset").GetInt64()));
        Assert.Equal((0, 1L), (produced[1].GetProperty("partition").GetInt32(), produced[1].GetProperty("offset").GetInt64()));
        Assert.All(produced, o => Assert.False(o.TryGetProperty("error_code", out _), o.ToString()));

        // JSON: any JSON value, stored as its compact text.
        (await proxy.ExpectAsync(HttpStatusCode.OK, HttpMethod.Post, "/topics/px",
            """{"records":[{"key":"k","value":{"msg":"héllo","n":[1,2,3]},"partition":1},{"value":42,"partition":1},{"value":null,"partition":1}]}""",
            ProxyRestClient.Json, ProxyRestClient.AxiosAccept)).Json.GetProperty("offsets").EnumerateArray()
            .ToList().ForEach(o => Assert.Equal(1, o.GetProperty("partition").GetInt32()));

        int onP0 = produced.Count(o => o.GetProperty("partition").GetInt32() == 0);
        var p0 = await proxy.ReadPartitionAsync("px", 0, onP0, ProxyRestClient.Binary);
        Assert.Equal("a2V5LTA=", p0[0].GetProperty("key").GetString());
        Assert.Equal("dmFsdWUtMA==", p0[0].GetProperty("value").GetString());
        Assert.Equal(JsonValueKind.Null, p0[1].GetProperty("key").ValueKind);
        Assert.Equal("px", p0[1].GetProperty("topic").GetString());
        Assert.Equal(0, p0[1].GetProperty("partition").GetInt32());

        int onP1 = 3 + produced.Length - onP0;
        var p1Json = await proxy.ReadPartitionAsync("px", 1, onP1, ProxyRestClient.Json);
        var first = p1Json.First(r => r.GetProperty("key").ValueKind == JsonValueKind.String && r.GetProperty("key").GetString() == "k");
        Assert.Equal("héllo", first.GetProperty("value").GetProperty("msg").GetString());
        Assert.Equal(3, first.GetProperty("value").GetProperty("n").GetArrayLength());
        Assert.Contains(p1Json, r => r.GetProperty("value").ValueKind == JsonValueKind.Number && r.GetProperty("value").GetInt32() == 42);
        Assert.Contains(p1Json, r => r.GetProperty("value").ValueKind == JsonValueKind.Null);

        // The same JSON records as binary: the stored bytes are the compact JSON text.
        var p1Binary = await proxy.ReadPartitionAsync("px", 1, onP1, ProxyRestClient.Binary);
        var values = p1Binary.Select(r => r.GetProperty("value").ValueKind == JsonValueKind.Null ? null
            : Encoding.UTF8.GetString(Convert.FromBase64String(r.GetProperty("value").GetString()!))).ToList();
        Assert.Contains("""{"msg":"héllo","n":[1,2,3]}""", values);
        Assert.Contains("42", values);

        // kcat sees exactly what the proxy wrote.
        var kcat = Log(ScriptRunner.Run("kcat", ["-b", broker.Bootstrap, "-X", "broker.address.family=v4", "-C", "-t", "px", "-p", "0",
            "-o", "beginning", "-e", "-q", "-f", "%k|%s\\n"], TimeSpan.FromSeconds(60)));
        Assert.True(kcat.Succeeded, kcat.Describe());
        Assert.Contains("key-0|value-0", kcat.Stdout);
        Assert.Contains("|value-1", kcat.Stdout);

        // GET /topics as Morio calls it: a JSON array of names.
        var topics = (await proxy.ExpectAsync(HttpStatusCode.OK, HttpMethod.Get, "/topics", accept: ProxyRestClient.AxiosAccept)).Json;
        Assert.Equal(JsonValueKind.Array, topics.ValueKind);
        Assert.Contains("px", topics.EnumerateArray().Select(t => t.GetString()));
        Assert.DoesNotContain(topics.EnumerateArray().Select(t => t.GetString()), name => name!.StartsWith("__"));
    }

    [Fact]
    public async Task BadRequests_GetTheDocumentedErrors()
    {
        var broker = StartBroker("proxy-errors");
        using var proxy = new ProxyRestClient(broker);
        AssertScriptOk(Confluent(broker, "create-topic", "--topic", "perr", "--partitions", "1"), broker, "create topic perr");
        const string records = """{"records":[{"value":"AA=="}]}""";

        await proxy.ExpectErrorAsync(HttpStatusCode.NotFound, 404, HttpMethod.Get, "/no/such/path");
        await proxy.ExpectErrorAsync(HttpStatusCode.MethodNotAllowed, 405, HttpMethod.Delete, "/topics");
        await proxy.ExpectErrorAsync(HttpStatusCode.UnsupportedMediaType, 415, HttpMethod.Post, "/topics/perr", records, "application/json");
        await proxy.ExpectErrorAsync(HttpStatusCode.UnsupportedMediaType, 415, HttpMethod.Post, "/topics/perr", records);
        await proxy.ExpectErrorAsync(HttpStatusCode.NotAcceptable, 406, HttpMethod.Get, "/topics", accept: "text/html");
        await proxy.ExpectErrorAsync(HttpStatusCode.UnprocessableEntity, 422, HttpMethod.Post, "/topics/perr", "{\"records\":[", ProxyRestClient.Binary);
        await proxy.ExpectErrorAsync(HttpStatusCode.UnprocessableEntity, 422, HttpMethod.Post, "/topics/perr",
            """{"records":[{"value":"not base64!"}]}""", ProxyRestClient.Binary);
        await proxy.ExpectErrorAsync(HttpStatusCode.UnprocessableEntity, 422, HttpMethod.Post, "/topics/perr",
            """{"records":[{"value":nope}]}""", ProxyRestClient.Json);
        await proxy.ExpectErrorAsync(HttpStatusCode.NotAcceptable, 406, HttpMethod.Get,
            "/topics/perr/partitions/0/records?offset=0&timeout=10&max_bytes=1000", accept: "*/*");
        await proxy.ExpectErrorAsync(HttpStatusCode.BadRequest, 40002, HttpMethod.Get,
            "/topics/perr/partitions/0/records?offset=0&max_bytes=1000", accept: ProxyRestClient.Binary);
        await proxy.ExpectErrorAsync(HttpStatusCode.NotFound, 40402, HttpMethod.Get,
            "/topics/perr/partitions/7/records?offset=0&timeout=10&max_bytes=1000", accept: ProxyRestClient.Binary);
        await proxy.ExpectErrorAsync(HttpStatusCode.BadRequest, 40002, HttpMethod.Get,
            "/topics/perr/partitions/0/records?offset=99&timeout=10&max_bytes=1000", accept: ProxyRestClient.Binary);

        // Not-JSON bytes fetched as JSON: 40801; the same record as binary is fine.
        (await proxy.ExpectAsync(HttpStatusCode.OK, HttpMethod.Post, "/topics/perr", """{"records":[{"value":"bm90IGpzb24="}]}""",
            ProxyRestClient.Binary)).Json.GetProperty("offsets")[0].GetProperty("offset").GetInt64();
        await proxy.ExpectErrorAsync(HttpStatusCode.RequestTimeout, 40801, HttpMethod.Get,
            "/topics/perr/partitions/0/records?offset=0&timeout=10&max_bytes=100000", accept: ProxyRestClient.Json);
        await proxy.ReadPartitionAsync("perr", 0, 1, ProxyRestClient.Binary);

        await proxy.ExpectErrorAsync(HttpStatusCode.UnsupportedMediaType, 415, HttpMethod.Post, "/consumers/g", "{}", ProxyRestClient.Json);
        await proxy.ExpectErrorAsync(HttpStatusCode.UnprocessableEntity, 422, HttpMethod.Post, "/consumers/g", "{", ProxyRestClient.V2);
        await proxy.ExpectErrorAsync(HttpStatusCode.BadRequest, 40002, HttpMethod.Post, "/consumers/g",
            """{"auto.offset.reset":"latest"}""", ProxyRestClient.V2);
        await proxy.ExpectErrorAsync(HttpStatusCode.NotFound, 40403, HttpMethod.Get, "/consumers/g/instances/none/records",
            accept: ProxyRestClient.Binary);
        Assert.True(broker.IsRunning, broker.DescribeState());
    }

    [Fact]
    public async Task CompressedBatches_FromKcatAndKafkaPython_AreReturnedDecoded()
    {
        var broker = StartBroker("proxy-codecs");
        using var proxy = new ProxyRestClient(broker);
        const int count = 40;
        foreach (var codec in new[] { "gzip", "snappy", "lz4", "zstd" })
        {
            string topic = "kc-" + codec;
            AssertScriptOk(Confluent(broker, "create-topic", "--topic", topic, "--partitions", "1"), broker, $"create topic {topic}");
            string input = Scratch(topic + ".jsonl");
            File.WriteAllLines(input, Enumerable.Range(0, count).Select(i => $$"""{"codec":"{{codec}}","i":{{i}},"pad":"{{new string('x', 50)}}"}"""));
            var produced = Log(ScriptRunner.Run("/bin/sh", ["-c",
                $"kcat -b {broker.Bootstrap} -X broker.address.family=v4 -X acks=all -X linger.ms=50 -z {codec} -P -t {topic} -p 0 -l \"$0\"", input],
                TimeSpan.FromSeconds(60)));
            Assert.True(produced.Succeeded, $"kcat -z {codec} failed\n{produced.Describe()}\n{broker.DescribeState()}");

            var json = await proxy.ReadPartitionAsync(topic, 0, count, ProxyRestClient.Json);
            for (int i = 0; i < count; i++)
            {
                Assert.Equal(codec, json[i].GetProperty("value").GetProperty("codec").GetString());
                Assert.Equal(i, json[i].GetProperty("value").GetProperty("i").GetInt32());
            }
            var binary = await proxy.ReadPartitionAsync(topic, 0, count, ProxyRestClient.Binary);
            Assert.Equal(File.ReadAllLines(input)[count - 1],
                Encoding.UTF8.GetString(Convert.FromBase64String(binary[count - 1].GetProperty("value").GetString()!)));
        }

        // kafka-python frames snappy the xerial way (librdkafka writes raw snappy): both must decode.
        string expected = Scratch("kp.expected");
        AssertScriptOk(KafkaPython(broker, "roundtrip", "--topic", "kp", "--codecs", "snappy,lz4,gzip,zstd", "--partitions", "1",
            "--count", "30", "--expected-out", expected), broker, "kafka-python compressed produce");
        var lines = File.ReadAllLines(expected).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();
        foreach (var group in lines.GroupBy(l => l.GetProperty("t").GetString()!))
        {
            var wanted = group.ToDictionary(l => l.GetProperty("o").GetInt64(), l => l.GetProperty("v").GetString());
            var got = await proxy.ReadPartitionAsync(group.Key, 0, (int)wanted.Keys.Max() + 1, ProxyRestClient.Binary);
            foreach (var (offset, hex) in wanted)
            {
                var value = got[(int)offset].GetProperty("value");
                string? gotHex = value.ValueKind == JsonValueKind.Null ? null : Convert.ToHexStringLower(Convert.FromBase64String(value.GetString()!));
                Assert.True((hex ?? "") == (gotHex ?? ""), $"{group.Key} offset {offset}: expected {hex}, got {gotHex}");
            }
        }
    }
}

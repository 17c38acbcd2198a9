using Broker.Core.Model;
using Broker.Core.Records;
using Broker.Protocol.Codec;
using Broker.Protocol.Messages;
using Xunit;

namespace Broker.Client.Tests;

/// <summary>
/// Request encoding, response decoding, routing and retry decisions checked against a scripted broker that decodes
/// what the client sent: configs (describe / incremental alter), topic admin versions, produce retries and errors.
/// </summary>
public sealed class ScriptedBrokerTests
{
    private static KafkaClient Client(FakeBroker fake, double budgetSeconds = 5) => new(new KafkaClientOptions
    {
        BootstrapServers = fake.Bootstrap,
        RequestTimeout = TimeSpan.FromSeconds(5),
        RetryBudget = TimeSpan.FromSeconds(budgetSeconds),
    });

    /// <summary>A fake with brokers 1 and 2 (both itself) and topic "t" (one partition led by broker 1).</summary>
    private static FakeBroker Fake(Func<FakeBroker, FakeRequest, IKafkaMessage?> handler)
    {
        FakeBroker? self = null;
        self = new FakeBroker(r => r.Header.ApiKey switch
        {
            (short)ApiKey.ApiVersions => self!.ApiVersionsAnswer(),
            (short)ApiKey.Metadata => handler(self!, r) ?? Metadata(self!),
            _ => handler(self!, r),
        });
        return self;
    }

    private static MetadataResponse Metadata(FakeBroker fake, int leader = 1)
    {
        var response = new MetadataResponse { ClusterId = "c", ControllerId = 1 };
        for (int id = 1; id <= 2; id++)
            response.Brokers.Add(new MetadataResponse.MetadataResponseBroker { NodeId = id, Host = "127.0.0.1", Port = fake.Port });
        var topic = new MetadataResponse.MetadataResponseTopic { Name = "t" };
        topic.Partitions.Add(new MetadataResponse.MetadataResponsePartition { PartitionIndex = 0, LeaderId = leader, ReplicaNodes = { 1, 2 }, IsrNodes = { 1, 2 } });
        response.Topics.Add(topic);
        return response;
    }

    [Fact]
    public async Task DescribeConfigs_EncodesResources_DecodesEntries_RoutesBrokerResources()
    {
        await using var fake = Fake((f, r) =>
        {
            if (r.Header.ApiKey != (short)ApiKey.DescribeConfigs) return null;
            var request = r.Read(DescribeConfigsRequest.Read);
            var response = new DescribeConfigsResponse();
            foreach (var res in request.Resources)
            {
                Assert.Null(res.ConfigurationKeys); // all keys
                var result = new DescribeConfigsResponse.DescribeConfigsResult { ResourceType = res.ResourceType, ResourceName = res.ResourceName };
                if (res.ResourceName == "missing")
                {
                    result.ErrorCode = (short)ErrorCode.UnknownTopicOrPartition;
                    result.ErrorMessage = "Topic 'missing' does not exist.";
                }
                else
                {
                    result.Configs.Add(new() { Name = "retention.ms", Value = "1000", ConfigSource = 1 });
                    result.Configs.Add(new() { Name = "cleanup.policy", Value = "delete", ConfigSource = 5 });
                    result.Configs.Add(new() { Name = "secret", Value = null, IsSensitive = true, ReadOnly = true, ConfigSource = 4 });
                }
                response.Results.Add(result);
            }
            return response;
        });
        await using var client = Client(fake);

        var results = await client.DescribeConfigsAsync(new[] { (ConfigResourceKind.Topic, "t"), (ConfigResourceKind.Broker, "2"), (ConfigResourceKind.Topic, "missing") });

        Assert.Equal(new[] { "t", "2", "missing" }, results.Select(r => r.Name));
        Assert.Equal(ErrorCode.None, results[0].Error);
        Assert.Equal(ConfigResourceKind.Broker, results[1].Kind);
        var retention = results[0].Entries[0];
        Assert.Equal(("retention.ms", "1000", false, "DYNAMIC_TOPIC_CONFIG"), (retention.Name, retention.Value, retention.IsDefault, retention.Source));
        Assert.True(results[0].Entries[1].IsDefault);
        Assert.Equal("DEFAULT_CONFIG", results[0].Entries[1].Source);
        var secret = results[1].Entries[2];
        Assert.True(secret.IsSensitive && secret.IsReadOnly && secret.Value is null);
        Assert.Equal("STATIC_BROKER_CONFIG", secret.Source);
        Assert.Equal(ErrorCode.UnknownTopicOrPartition, results[2].Error);
        Assert.Equal("Topic 'missing' does not exist.", results[2].Message);

        // The broker resource went in its own request (to broker 2), the topics together in another.
        var sent = fake.Requests.Where(r => r.Header.ApiKey == (short)ApiKey.DescribeConfigs).Select(r => r.Read(DescribeConfigsRequest.Read)).ToList();
        Assert.Equal(2, sent.Count);
        Assert.Contains(sent, s => s.Resources.Count == 1 && s.Resources[0] is { ResourceType: 4, ResourceName: "2" });
        Assert.Contains(sent, s => s.Resources.Select(x => x.ResourceName).SequenceEqual(new[] { "t", "missing" }));
    }

    [Fact]
    public async Task IncrementalAlterConfigs_EncodesOperations_AndSurfacesTheError()
    {
        await using var fake = Fake((f, r) =>
        {
            if (r.Header.ApiKey != (short)ApiKey.IncrementalAlterConfigs) return null;
            var request = r.Read(IncrementalAlterConfigsRequest.Read);
            var res = Assert.Single(request.Resources);
            Assert.True(request.ValidateOnly);
            Assert.Equal(((sbyte)2, "t"), (res.ResourceType, res.ResourceName));
            Assert.Equal(new[] { ("a", (sbyte)0, "1"), ("b", (sbyte)1, (string?)null), ("c", (sbyte)2, "x,y") },
                res.Configs.Select(c => (c.Name, c.ConfigOperation, c.Value)));
            var response = new IncrementalAlterConfigsResponse();
            response.Responses.Add(new()
            {
                ResourceType = 2, ResourceName = "t", ErrorCode = (short)ErrorCode.InvalidConfig, ErrorMessage = "a: not a number",
            });
            return response;
        });
        await using var client = Client(fake);

        var result = await client.IncrementalAlterConfigsAsync(ConfigResourceKind.Topic, "t", new[]
        {
            new ConfigAlteration("a", ConfigAlterOp.Set, "1"),
            new ConfigAlteration("b", ConfigAlterOp.Delete, null),
            new ConfigAlteration("c", ConfigAlterOp.Append, "x,y"),
        }, validateOnly: true);

        Assert.Equal(ErrorCode.InvalidConfig, result.Error);
        Assert.Equal("a: not a number", result.Message);
        Assert.Empty(result.Entries);
    }

    [Theory]
    [InlineData(5)]
    [InlineData(6)]
    public async Task DeleteTopics_UsesTheNameFieldOfTheNegotiatedVersion(short maxVersion)
    {
        await using var fake = Fake((f, r) =>
        {
            if (r.Header.ApiKey != (short)ApiKey.DeleteTopics) return null;
            var request = r.Read(DeleteTopicsRequest.Read);
            var names = r.Header.ApiVersion >= 6 ? request.Topics.Select(t => t.Name!).ToList() : request.TopicNames;
            var response = new DeleteTopicsResponse();
            foreach (var n in names)
                response.Responses.Add(new() { Name = n, ErrorCode = (short)(n == "gone" ? ErrorCode.UnknownTopicOrPartition : ErrorCode.None) });
            return response;
        });
        fake.Versions[(short)ApiKey.DeleteTopics] = (0, maxVersion);
        await using var client = Client(fake);

        var results = await client.DeleteTopicsAsync(new[] { "t", "gone" });

        Assert.Equal(maxVersion, fake.Requests.Single(r => r.Header.ApiKey == (short)ApiKey.DeleteTopics).Header.ApiVersion);
        Assert.Equal(new[] { ErrorCode.None, ErrorCode.UnknownTopicOrPartition }, results.Select(r => r.Error));
    }

    [Fact]
    public async Task CreateTopics_SendsDefaultsAndConfigs_AndMapsResults()
    {
        await using var fake = Fake((f, r) =>
        {
            if (r.Header.ApiKey != (short)ApiKey.CreateTopics) return null;
            var request = r.Read(CreateTopicsRequest.Read);
            Assert.Equal(5000, request.TimeoutMs);
            var response = new CreateTopicsResponse();
            foreach (var t in request.Topics)
            {
                var configs = string.Join(",", t.Configs.Select(c => $"{c.Name}={c.Value}"));
                response.Topics.Add(new()
                {
                    Name = t.Name,
                    ErrorCode = (short)(t.NumPartitions == -1 ? ErrorCode.None : ErrorCode.PolicyViolation),
                    ErrorMessage = $"{t.NumPartitions}/{t.ReplicationFactor}/{configs}",
                });
            }
            return response;
        });
        await using var client = Client(fake);

        var results = await client.CreateTopicsAsync(new[]
        {
            new NewTopic("d"),
            new NewTopic("e", 4, 2, new Dictionary<string, string> { ["retention.ms"] = "5" }),
        });

        Assert.Equal((ErrorCode.None, "-1/-1/"), (results[0].Error, results[0].Message));
        Assert.Equal((ErrorCode.PolicyViolation, "4/2/retention.ms=5"), (results[1].Error, results[1].Message));
    }

    [Fact]
    public async Task Produce_NotLeader_RefreshesMetadata_AndRetriesAtTheNewLeader()
    {
        int produceCalls = 0;
        await using var fake = Fake((f, r) =>
        {
            if (r.Header.ApiKey == (short)ApiKey.Metadata)
                return Metadata(f, leader: Volatile.Read(ref produceCalls) == 0 ? 1 : 2);
            if (r.Header.ApiKey != (short)ApiKey.Produce) return null;
            var request = r.Read(ProduceRequest.Read);
            var data = request.TopicData[0].PartitionData[0];
            Assert.True(RecordReader.Validate(data.Records!.Value.Span, out var invalid), invalid);
            int call = Interlocked.Increment(ref produceCalls);
            var partition = new ProduceResponse.PartitionProduceResponse
            {
                Index = data.Index,
                ErrorCode = (short)(call == 1 ? ErrorCode.NotLeaderOrFollower : ErrorCode.None),
                BaseOffset = call == 1 ? -1 : 42,
            };
            var response = new ProduceResponse();
            response.Responses.Add(new() { Name = "t", PartitionResponses = { partition } });
            return response;
        });
        await using var client = Client(fake);

        var result = await client.ProduceAsync("t", 0, new[] { new ProducerRecord(null, "x"u8.ToArray()) });

        Assert.Equal((ErrorCode.None, 42L), (result.Error, result.BaseOffset));
        Assert.Equal(2, produceCalls);
        Assert.True(fake.Requests.Count(r => r.Header.ApiKey == (short)ApiKey.Metadata) >= 2, "the leader was looked up again");
        Assert.Equal(2, client.CachedMetadata.Topics.Single(t => t.Name == "t").Partitions[0].Leader);
    }

    [Fact]
    public async Task Produce_NonRetriableError_ComesBackAtOnce_WithTheBrokersMessage()
    {
        int produceCalls = 0;
        await using var fake = Fake((f, r) =>
        {
            if (r.Header.ApiKey != (short)ApiKey.Produce) return null;
            Interlocked.Increment(ref produceCalls);
            var response = new ProduceResponse();
            response.Responses.Add(new()
            {
                Name = "t",
                PartitionResponses = { new() { Index = 0, ErrorCode = (short)ErrorCode.MessageTooLarge, BaseOffset = -1, ErrorMessage = "batch of 9 bytes is too large" } },
            });
            return response;
        });
        await using var client = Client(fake, budgetSeconds: 30);

        var result = await client.ProduceAsync("t", 0, new[] { new ProducerRecord(null, "x"u8.ToArray()) });

        Assert.Equal(ErrorCode.MessageTooLarge, result.Error);
        Assert.Equal("batch of 9 bytes is too large", result.ErrorMessage);
        Assert.Equal(-1, result.BaseOffset);
        Assert.Equal(1, produceCalls);
    }

    [Fact]
    public async Task Produce_RetriableErrorBeyondTheBudget_ComesBackAsTheLastError()
    {
        await using var fake = Fake((f, r) =>
        {
            if (r.Header.ApiKey != (short)ApiKey.Produce) return null;
            var response = new ProduceResponse();
            response.Responses.Add(new() { Name = "t", PartitionResponses = { new() { Index = 0, ErrorCode = (short)ErrorCode.NotEnoughReplicas } } });
            return response;
        });
        await using var client = Client(fake, budgetSeconds: 2);
        var sw = System.Diagnostics.Stopwatch.StartNew();

        var result = await client.ProduceAsync("t", 0, new[] { new ProducerRecord(null, "x"u8.ToArray()) });

        // A 2 s budget leaves room for several attempts even on a loaded CI machine.
        Assert.Equal(ErrorCode.NotEnoughReplicas, result.Error);
        Assert.InRange(sw.Elapsed, TimeSpan.FromMilliseconds(1800), TimeSpan.FromSeconds(10));
        Assert.True(fake.Requests.Count(r => r.Header.ApiKey == (short)ApiKey.Produce) >= 2, "retried within the budget");
    }

    [Fact]
    public async Task Produce_AcksZero_ExpectsNoAnswer()
    {
        await using var fake = Fake((f, r) => null); // never answers Produce
        await using var client = Client(fake);

        var result = await client.ProduceAsync("t", 0, new[] { new ProducerRecord(null, "x"u8.ToArray()) }, acks: 0);

        Assert.Equal((ErrorCode.None, -1L), (result.Error, result.BaseOffset));
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (!fake.Requests.Any(r => r.Header.ApiKey == (short)ApiKey.Produce) && DateTime.UtcNow < deadline) await Task.Delay(10);
        var sent = fake.Requests.Single(r => r.Header.ApiKey == (short)ApiKey.Produce).Read(ProduceRequest.Read);
        Assert.Equal(0, sent.Acks);
    }

    [Fact]
    public async Task Produce_BadArguments_AreRejected()
    {
        await using var fake = Fake((f, r) => null);
        await using var client = Client(fake);
        var one = new[] { new ProducerRecord(null, null) };
        await Assert.ThrowsAsync<ArgumentException>(() => client.ProduceAsync("t", 0, Array.Empty<ProducerRecord>()));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => client.ProduceAsync("t", 0, one, acks: 2));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => client.ProduceAsync("t", -1, one));
        await Assert.ThrowsAsync<ArgumentException>(() => client.ProduceAsync("", 0, one));
    }
}

using System.Diagnostics;
using System.Text;
using Broker.Client;
using Broker.Core.Model;
using Broker.Integration.Tests.Cluster;
using Broker.Integration.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace Broker.Integration.Tests.Client;

/// <summary>
/// Our client in a 3-node cluster: the partition leader is SIGKILLed and ProduceAsync still succeeds within the retry
/// budget (connection failure, metadata refresh, NOT_LEADER / no-leader retries, the new leader's answer), and the
/// record acknowledged before the kill is still there.
/// </summary>
[Trait("Category", "Cluster")]
public sealed class ClientFailoverTests : ClusterTest
{
    public ClientFailoverTests(ITestOutputHelper output) : base(output) { }

    [Fact]
    public async Task LeaderKill9_ProduceSucceedsWithinTheRetryBudget()
    {
        var cluster = StartCluster("cl-fo", ClusterLayout.Combined(3));
        var budget = TimeSpan.FromSeconds(30);
        await using var client = new KafkaClient(new KafkaClientOptions
        {
            BootstrapServers = cluster.Bootstrap,
            ClientId = "client-failover-it",
            RequestTimeout = TimeSpan.FromSeconds(5),
            RetryBudget = budget,
        });

        var created = Assert.Single(await client.CreateTopicsAsync(new[] { new NewTopic("fo", 1, 3) }));
        Assert.True(created.Error == ErrorCode.None, $"{created.Error} {created.Message}");
        cluster.WaitForLeaders("fo", 1, TimeSpan.FromSeconds(20), p => p.Isr.Length == 3);

        var before = await client.ProduceAsync("fo", 0, new[] { new ProducerRecord(null, "before"u8.ToArray()) });
        Assert.True(before.Error == ErrorCode.None, $"{before.Error} {before.ErrorMessage}");
        int leader = (await client.GetMetadataAsync(new[] { "fo" })).Topics[0].Partitions[0].Leader;
        Assert.Equal(cluster.LeaderOf("fo"), leader);

        cluster.Node(leader).Kill();
        var sw = Stopwatch.StartNew();
        var after = await client.ProduceAsync("fo", 0, new[] { new ProducerRecord(null, "after"u8.ToArray()) });
        sw.Stop();
        Output.WriteLine($"killed leader {leader}; produce after the kill: {after.Error} in {sw.ElapsedMilliseconds} ms");

        Assert.True(after.Error == ErrorCode.None, $"produce after killing leader {leader}: {after.Error} {after.ErrorMessage}\n{cluster.DescribeState()}");
        Assert.True(sw.Elapsed < budget, $"took {sw.Elapsed}");
        // Not necessarily before + 1: a new partition leader may append a no-op (control) batch first.
        Assert.True(after.BaseOffset > before.BaseOffset, $"offsets {before.BaseOffset} then {after.BaseOffset}");
        int newLeader = (await client.GetMetadataAsync(new[] { "fo" })).Topics[0].Partitions[0].Leader;
        Assert.NotEqual(leader, newLeader);

        var fetched = await client.FetchAsync("fo", 0, 0, 1 << 20, TimeSpan.FromMilliseconds(500));
        Assert.Equal(ErrorCode.None, fetched.Error);
        // Exactly once each (control batches skipped), at the offsets the produce answers gave.
        Assert.Equal(new[] { "before", "after" }, fetched.Records.Select(r => Encoding.UTF8.GetString(r.Value!)));
        Assert.Equal(new[] { before.BaseOffset, after.BaseOffset }, fetched.Records.Select(r => r.Offset));
    }
}

using System.Collections.Immutable;
using Broker.Metadata.Controller;

namespace Broker.Metadata.Tests;

public class PlacementTests
{
    [Fact]
    public void Round_robin_places_distinct_replicas()
    {
        var placement = ReplicaPlacer.Place(ImmutableArray.Create(1, 2, 3), partitionCount: 4, replicationFactor: 3, startIndex: 1);
        Assert.Equal(new[] { 2, 3, 1 }, placement[0]);
        Assert.Equal(new[] { 3, 1, 2 }, placement[1]);
        Assert.Equal(new[] { 1, 2, 3 }, placement[2]);
        Assert.Equal(new[] { 2, 3, 1 }, placement[3]);
        Assert.Throws<ArgumentOutOfRangeException>(() => ReplicaPlacer.Place(ImmutableArray.Create(1), 1, 2, 0));
    }

    [Fact]
    public async Task Leaders_spread_over_three_brokers_within_a_topic()
    {
        using var f = await ControllerFixture.StartAsync(brokers: 3);
        await f.CreateTopicAsync("t", partitions: 6, replicationFactor: 2);
        var topic = f.Image.GetTopic("t")!;
        var leaders = topic.Partitions.GroupBy(p => p.Leader).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(new Dictionary<int, int> { [1] = 2, [2] = 2, [3] = 2 }, leaders);
        Assert.All(topic.Partitions, p =>
        {
            Assert.Equal(2, p.Replicas.Distinct().Count());
            Assert.Equal(p.Replicas[0], p.Leader);
            Assert.Equal(p.Replicas.ToArray(), p.Isr.ToArray());
        });
    }

    [Fact]
    public async Task Leaders_spread_over_brokers_across_single_partition_topics()
    {
        using var f = await ControllerFixture.StartAsync(brokers: 3);
        for (int i = 0; i < 6; i++) await f.CreateTopicAsync($"t{i}");
        var leaders = f.Image.TopicsByName.Values.Select(t => t.Partitions[0].Leader).GroupBy(l => l).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(new Dictionary<int, int> { [1] = 2, [2] = 2, [3] = 2 }, leaders);
    }

    [Fact]
    public async Task Fenced_brokers_get_no_replicas()
    {
        using var f = await ControllerFixture.StartAsync(brokers: 3);
        await f.Controller.FenceBrokerAsync(2, f.Image.GetBroker(2)!.BrokerEpoch);
        await f.CreateTopicAsync("t", partitions: 6, replicationFactor: 2);
        Assert.All(f.Image.GetTopic("t")!.Partitions, p => Assert.DoesNotContain(2, p.Replicas));
    }
}

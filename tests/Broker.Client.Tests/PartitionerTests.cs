using System.Text;
using Broker.Client.Partitioning;
using Xunit;

namespace Broker.Client.Tests;

/// <summary>Kafka's default partitioner: murmur2 against the Java client's published vectors, round robin for null keys.</summary>
public sealed class PartitionerTests
{
    // Apache Kafka UtilsTest.testMurmur2 (and the empty input), i.e. what the Java client computes.
    [Theory]
    [InlineData("21", -973932308)]
    [InlineData("foobar", -790332482)]
    [InlineData("a-little-bit-long-string", -985981536)]
    [InlineData("a-little-bit-longer-string", -1486304829)]
    [InlineData("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971)]
    [InlineData("abc", 479470107)]
    [InlineData("", 275646681)]
    public void Murmur2_MatchesJavaVectors(string input, int expected) =>
        Assert.Equal(expected, Murmur2.Hash(Encoding.ASCII.GetBytes(input)));

    [Theory]
    [InlineData("21", 12)]
    [InlineData("foobar", 7)]
    [InlineData("a-little-bit-longer-string", 3)]
    [InlineData("abc", 5)]
    public async Task ChoosePartition_Keyed_IsPositiveHashModCount(string key, int count)
    {
        await using var client = new KafkaClient(new KafkaClientOptions { BootstrapServers = "127.0.0.1:1" });
        byte[] bytes = Encoding.ASCII.GetBytes(key);
        int expected = (Murmur2.Hash(bytes) & 0x7fffffff) % count;
        int chosen = client.ChoosePartition(bytes, keyIsNull: false, count);
        Assert.Equal(expected, chosen);
        Assert.InRange(chosen, 0, count - 1);
        Assert.Equal(chosen, client.ChoosePartition(bytes, keyIsNull: false, count)); // stable
    }

    [Fact]
    public void KnownPartitions_ForNegativeHashes()
    {
        // -973932308 & 0x7fffffff = 1173551340; % 12 = 0.  -790332482 & 0x7fffffff = 1357151166; % 5 = 1.
        Assert.Equal(0, Murmur2.Partition("21"u8, 12));
        Assert.Equal(1, Murmur2.Partition("foobar"u8, 5));
    }

    [Fact]
    public async Task ChoosePartition_NullKey_RoundRobins()
    {
        await using var client = new KafkaClient(new KafkaClientOptions { BootstrapServers = "127.0.0.1:1" });
        var seen = new int[4];
        int first = client.ChoosePartition(default, keyIsNull: true, 4);
        seen[first]++;
        for (int i = 1; i < 12; i++)
        {
            int p = client.ChoosePartition(default, keyIsNull: true, 4);
            Assert.Equal((first + i) % 4, p);
            seen[p]++;
        }
        Assert.All(seen, n => Assert.Equal(3, n));
    }

    [Fact]
    public async Task ChoosePartition_RejectsNoPartitions()
    {
        await using var client = new KafkaClient(new KafkaClientOptions { BootstrapServers = "127.0.0.1:1" });
        Assert.Throws<ArgumentOutOfRangeException>(() => client.ChoosePartition("k"u8, keyIsNull: false, 0));
    }
}

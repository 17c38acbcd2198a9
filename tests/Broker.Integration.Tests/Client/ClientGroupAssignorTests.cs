using Broker.Client.Consumer;
using Broker.Core.Buffers;
using Broker.Core.Model;
using Broker.Protocol.Codec;
using Broker.Protocol.Messages;
using Xunit;

namespace Broker.Integration.Tests.Client;

/// <summary>
/// The client-side assignors and the consumer protocol payloads, without a broker: the range and round-robin
/// examples from Kafka's own assignor documentation (a mixed group only agrees if the algorithms are exactly
/// Kafka's), member order with static members, unknown topics, and subscription/assignment encoding including
/// newer-version and malformed payloads.
/// </summary>
public sealed class ClientGroupAssignorTests
{
    private static readonly Dictionary<string, int> TwoTopicsOfThree = new() { ["t0"] = 3, ["t1"] = 3 };

    [Fact]
    public void Range_PerTopicContiguousRanges_FirstMembersGetTheExtra()
    {
        var plan = new RangeAssignor().Assign(new[] { Member("C0", "t0", "t1"), Member("C1", "t0", "t1") }, TwoTopicsOfThree);
        Assert.Equal(new[] { "t0-0", "t0-1", "t1-0", "t1-1" }, Names(plan["C0"]));
        Assert.Equal(new[] { "t0-2", "t1-2" }, Names(plan["C1"]));
    }

    [Fact]
    public void Range_OnlySubscribersOfATopicShareIt_MembersInIdOrder()
    {
        var counts = new Dictionary<string, int> { ["a"] = 5, ["b"] = 2 };
        // Given out of order: the assignment follows the member id order (m1 < m2 < m3).
        var plan = new RangeAssignor().Assign(new[] { Member("m3", "a"), Member("m1", "a", "b"), Member("m2", "a", "b") }, counts);
        Assert.Equal(new[] { "a-0", "a-1", "b-0" }, Names(plan["m1"]));
        Assert.Equal(new[] { "a-2", "a-3", "b-1" }, Names(plan["m2"]));
        Assert.Equal(new[] { "a-4" }, Names(plan["m3"]));
    }

    [Fact]
    public void Range_StaticMembersFirst_ByInstanceId()
    {
        var members = new[]
        {
            new MemberSubscription("a-dynamic", null, new[] { "t" }),
            new MemberSubscription("z-static", "instance-2", new[] { "t" }),
            new MemberSubscription("y-static", "instance-1", new[] { "t" }),
        };
        var plan = new RangeAssignor().Assign(members, new Dictionary<string, int> { ["t"] = 3 });
        Assert.Equal(new[] { "t-0" }, Names(plan["y-static"]));
        Assert.Equal(new[] { "t-1" }, Names(plan["z-static"]));
        Assert.Equal(new[] { "t-2" }, Names(plan["a-dynamic"]));
    }

    [Fact]
    public void RoundRobin_SameSubscriptions_AlternatesOverAllPartitions()
    {
        var plan = new RoundRobinAssignor().Assign(new[] { Member("C1", "t0", "t1"), Member("C0", "t0", "t1") }, TwoTopicsOfThree);
        Assert.Equal(new[] { "t0-0", "t0-2", "t1-1" }, Names(plan["C0"]));
        Assert.Equal(new[] { "t0-1", "t1-0", "t1-2" }, Names(plan["C1"]));
    }

    [Fact]
    public void RoundRobin_DifferentSubscriptions_SkipsMembersNotSubscribed()
    {
        var counts = new Dictionary<string, int> { ["t0"] = 1, ["t1"] = 2, ["t2"] = 3 };
        var plan = new RoundRobinAssignor().Assign(new[] { Member("C0", "t0"), Member("C1", "t0", "t1"), Member("C2", "t0", "t1", "t2") }, counts);
        Assert.Equal(new[] { "t0-0" }, Names(plan["C0"]));
        Assert.Equal(new[] { "t1-0" }, Names(plan["C1"]));
        Assert.Equal(new[] { "t1-1", "t2-0", "t2-1", "t2-2" }, Names(plan["C2"]));
    }

    [Fact]
    public void UnknownTopics_AreNotAssigned_EveryMemberGetsAnEntry()
    {
        var members = new[] { Member("m1", "missing"), Member("m2", "t0") };
        foreach (IPartitionAssignor assignor in new IPartitionAssignor[] { new RangeAssignor(), new RoundRobinAssignor() })
        {
            var plan = assignor.Assign(members, TwoTopicsOfThree);
            Assert.Empty(plan["m1"]);
            Assert.Equal(new[] { "t0-0", "t0-1", "t0-2" }, Names(plan["m2"]));
            Assert.Empty(assignor.Assign(Array.Empty<MemberSubscription>(), TwoTopicsOfThree));
        }
    }

    [Fact]
    public void Subscription_RoundTrips_AndNewerVersionsDecode()
    {
        byte[] encoded = ConsumerProtocol.EncodeSubscription(new[] { "orders", "payments" });
        Assert.Equal(0, encoded[0] << 8 | encoded[1]); // version 0
        Assert.True(ConsumerProtocol.TryDecodeSubscription(encoded, out var topics, out _));
        Assert.Equal(new[] { "orders", "payments" }, topics);

        // Version 3 (owned partitions, generation, rack) from a newer client: the topics are still read.
        var v3 = new ConsumerProtocolSubscription
        {
            Topics = new() { "t" },
            OwnedPartitions = new() { new ConsumerProtocolSubscription.TopicPartition { Topic = "t", Partitions = new() { 1, 2 } } },
            GenerationId = 7,
            RackId = "rack-a",
        };
        Assert.True(ConsumerProtocol.TryDecodeSubscription(EncodeVersioned(v3, 3), out topics, out _));
        Assert.Equal(new[] { "t" }, topics);
        // A version above any we know is read with the newest layout (later versions only append fields).
        Assert.True(ConsumerProtocol.TryDecodeSubscription(EncodeVersioned(v3, 3, writeVersion: 9), out topics, out _));
        Assert.Equal(new[] { "t" }, topics);
    }

    [Fact]
    public void Assignment_RoundTrips_GroupedByTopic_EmptyIsEmpty()
    {
        var partitions = new[] { new TopicPartition("a", 2), new TopicPartition("b", 0), new TopicPartition("a", 0) };
        byte[] encoded = ConsumerProtocol.EncodeAssignment(partitions);
        Assert.True(ConsumerProtocol.TryDecodeAssignment(encoded, out var decoded, out _));
        Assert.Equal(new[] { "a-2", "a-0", "b-0" }, Names(decoded));
        Assert.True(ConsumerProtocol.TryDecodeAssignment(Array.Empty<byte>(), out decoded, out _));
        Assert.Empty(decoded);
    }

    [Theory]
    [InlineData(new byte[] { 0 })]                         // truncated version
    [InlineData(new byte[] { 0, 0, 0, 0, 0, 9 })]          // 9 topics announced, none present
    [InlineData(new byte[] { 0, 0, 0, 0, 0, 1, 0, 50, 1 })] // a topic name longer than the payload
    [InlineData(new byte[] { 255, 255, 0, 0, 0, 0 })]      // negative version
    public void MalformedPayloads_AreRejectedWithAReason_NotThrown(byte[] payload)
    {
        Assert.False(ConsumerProtocol.TryDecodeSubscription(payload, out var topics, out string? problem));
        Assert.Empty(topics);
        Assert.False(string.IsNullOrEmpty(problem));
        Assert.False(ConsumerProtocol.TryDecodeAssignment(payload, out var partitions, out problem));
        Assert.Empty(partitions);
        Assert.False(string.IsNullOrEmpty(problem));
    }

    private static MemberSubscription Member(string id, params string[] topics) => new(id, null, topics);

    private static string[] Names(IEnumerable<TopicPartition> partitions) => partitions.Select(tp => tp.ToString()).ToArray();

    private static byte[] EncodeVersioned(IKafkaMessage message, short version, short? writeVersion = null)
    {
        using var buffer = new ChunkedBufferWriter(256);
        var writer = new KafkaWriter(buffer);
        writer.WriteInt16(writeVersion ?? version);
        message.Write(ref writer, version);
        return buffer.ToArray()[4..];
    }
}

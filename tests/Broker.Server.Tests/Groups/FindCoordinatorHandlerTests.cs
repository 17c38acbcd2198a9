using Broker.Core.Model;
using Broker.Metadata.Image;
using Broker.Protocol.Messages;
using Broker.Server.Admin;
using Broker.Server.Groups;
using Broker.Server.Handlers;
using Broker.Server.Pipeline;
using Xunit;

namespace Broker.Server.Tests.Groups;

public class FindCoordinatorHandlerTests
{
    private const short Key = 10;
    private static readonly Dictionary<string, int> Placement = new() { ["g0"] = 0, ["g1"] = 1, ["g2"] = 2 };

    private sealed class Setup
    {
        public MetadataImage Image;
        public readonly CapturingTopicAdmin Admin = new();
        public readonly SteppedClock Clock = new();
        public readonly OffsetsTopicCreator Creator;
        public readonly GroupWireHarness Wire;

        public Setup(MetadataImage image, OffsetsTopicSettings? settings = null)
        {
            Image = image;
            Creator = new OffsetsTopicCreator(Admin, settings ?? new OffsetsTopicSettings { Partitions = 5, ReplicationFactor = 3, SegmentBytes = 1 << 20 }, Clock);
            var table = new HandlerTable();
            table.Register(new FindCoordinatorHandler(() => Image, key => Placement.TryGetValue(key, out int p) ? p : 0, Creator));
            Wire = new GroupWireHarness(table);
        }

        public Task<FindCoordinatorResponse> Find(short version, string key, sbyte keyType = 0, string listener = GroupImages.Plaintext) =>
            Wire.CallAsync(Key, version, new FindCoordinatorRequest { Key = key, KeyType = keyType }, FindCoordinatorResponse.Read, listener);

        public Task<FindCoordinatorResponse> FindBatch(string[] keys, sbyte keyType = 0, string listener = GroupImages.Plaintext) =>
            Wire.CallAsync(Key, 4, new FindCoordinatorRequest { CoordinatorKeys = [.. keys], KeyType = keyType }, FindCoordinatorResponse.Read, listener);
    }

    private static MetadataImage ThreeBrokersWithOffsets(params int[] leaders) =>
        GroupImages.Build([GroupImages.Broker(1), GroupImages.Broker(2), GroupImages.Broker(3)],
            b => GroupImages.AddTopic(b, InternalTopics.ConsumerOffsets, leaders));

    private static void AssertNoCoordinator(short error, int nodeId, string host, int port)
    {
        Assert.Equal((short)ErrorCode.CoordinatorNotAvailable, error);
        Assert.Equal((-1, "", -1), (nodeId, host, port));
    }

    [Fact]
    public async Task MissingOffsetsTopicIsCreatedOnceWhileEveryRequestAnswersCoordinatorNotAvailable()
    {
        var s = new Setup(GroupImages.Build([GroupImages.Broker(1)]));
        s.Admin.Hold = true;

        var v0 = await s.Find(0, "g1");
        AssertNoCoordinator(v0.ErrorCode, v0.NodeId, v0.Host, v0.Port);
        var v3 = await s.Find(3, "g2");
        AssertNoCoordinator(v3.ErrorCode, v3.NodeId, v3.Host, v3.Port);
        Assert.NotNull(v3.ErrorMessage);
        var v4 = await s.FindBatch(["g0", "g1"]);
        Assert.Equal(["g0", "g1"], v4.Coordinators.Select(c => c.Key));
        foreach (var c in v4.Coordinators) AssertNoCoordinator(c.ErrorCode, c.NodeId, c.Host, c.Port);

        var spec = Assert.Single(s.Admin.Created); // three requests, one creation in flight
        Assert.Equal(InternalTopics.ConsumerOffsets, spec.Name);
        Assert.Equal(5, spec.NumPartitions);
        Assert.Equal(1, spec.ReplicationFactor); // offsets.topic.replication.factor 3 capped at the one live broker
        Assert.Equal("compact", spec.Configs!["cleanup.policy"]);
        Assert.Equal("1048576", spec.Configs["segment.bytes"]);

        s.Admin.Release();
        await s.Creator.LastAttempt!;
        Assert.Equal(1, s.Creator.Attempts);
    }

    [Theory]
    [InlineData(3, 3)]
    [InlineData(2, 2)]
    public async Task ReplicationFactorIsCappedAtLiveUnfencedBrokers(int unfenced, short expectedRf)
    {
        var brokers = Enumerable.Range(1, 4).Select(id => GroupImages.Broker(id, fenced: id > unfenced));
        var s = new Setup(GroupImages.Build(brokers));
        await s.Find(1, "g0");
        await s.Creator.LastAttempt!;
        Assert.Equal(expectedRf, Assert.Single(s.Admin.Created).ReplicationFactor);
    }

    [Fact]
    public async Task FailedCreationIsRetriedOnlyAfterTheBackoff()
    {
        var s = new Setup(GroupImages.Build([GroupImages.Broker(1)]));
        s.Admin.Answer = ErrorCode.InvalidReplicationFactor;
        await s.Find(2, "g0");
        await s.Creator.LastAttempt!;
        await s.Find(2, "g0");
        Assert.Single(s.Admin.Created);

        s.Clock.Monotonic += OffsetsTopicCreator.RetryBackoffMs;
        s.Admin.Answer = ErrorCode.None;
        s.Admin.Throw = true; // an exception from the admin is logged, never surfaces in the request
        var answer = await s.Find(2, "g0");
        AssertNoCoordinator(answer.ErrorCode, answer.NodeId, answer.Host, answer.Port);
        await s.Creator.LastAttempt!;
        Assert.Equal(2, s.Admin.Created.Count);
        await s.Find(2, "g0");
        Assert.Equal(2, s.Admin.Created.Count);
    }

    [Fact]
    public async Task NoLiveBrokerMeansNoCreationAttempt()
    {
        var s = new Setup(GroupImages.Build([GroupImages.Broker(1, fenced: true)]));
        var answer = await s.Find(0, "g0");
        AssertNoCoordinator(answer.ErrorCode, answer.NodeId, answer.Host, answer.Port);
        Assert.Empty(s.Admin.Created);
        Assert.Null(s.Creator.LastAttempt);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task SingleKeyVersionsAnswerThePartitionLeadersEndpointOnTheRequestListener(short version)
    {
        var s = new Setup(ThreeBrokersWithOffsets(1, 2, 3));
        var plain = await s.Find(version, "g1");
        Assert.Equal((0, 2, "broker2.local", 9092), ((int)plain.ErrorCode, plain.NodeId, plain.Host, plain.Port));
        if (version >= 1) Assert.Null(plain.ErrorMessage);
        if (version >= 1) // v0 has no KeyType, so v0 requests are always groups on the default listener here
        {
            var external = await s.Find(version, "g2", listener: GroupImages.External);
            Assert.Equal((0, 3, "ext3.example", 19092), ((int)external.ErrorCode, external.NodeId, external.Host, external.Port));
        }
        Assert.Empty(s.Admin.Created);
    }

    [Fact]
    public async Task BatchedVersionAnswersEachKey()
    {
        var s = new Setup(ThreeBrokersWithOffsets(3, -1, 1));
        var response = await s.FindBatch(["g2", "g1", "g0", "g2"], listener: GroupImages.External);
        Assert.Equal(["g2", "g1", "g0", "g2"], response.Coordinators.Select(c => c.Key));
        var byIndex = response.Coordinators;
        Assert.Equal((0, 1, "ext1.example", 19092), ((int)byIndex[0].ErrorCode, byIndex[0].NodeId, byIndex[0].Host, byIndex[0].Port));
        AssertNoCoordinator(byIndex[1].ErrorCode, byIndex[1].NodeId, byIndex[1].Host, byIndex[1].Port);
        Assert.NotNull(byIndex[1].ErrorMessage);
        Assert.Equal((0, 3, "ext3.example", 19092), ((int)byIndex[2].ErrorCode, byIndex[2].NodeId, byIndex[2].Host, byIndex[2].Port));
        Assert.Null(byIndex[2].ErrorMessage);
        Assert.Equal(byIndex[0].NodeId, byIndex[3].NodeId);
    }

    [Fact]
    public async Task LeaderThatIsMissingFencedOrWithoutTheListenerIsNotACoordinator()
    {
        var image = GroupImages.Build(
            [GroupImages.Broker(1), GroupImages.Broker(2, fenced: true), GroupImages.Broker(3, plaintextOnly: true)],
            b => GroupImages.AddTopic(b, InternalTopics.ConsumerOffsets, -1, 2, 3));
        var s = new Setup(image);
        foreach (string key in new[] { "g0", "g1", "g2" })
        {
            var answer = await s.Find(3, key, listener: GroupImages.External);
            AssertNoCoordinator(answer.ErrorCode, answer.NodeId, answer.Host, answer.Port);
        }
        var plain = await s.Find(3, "g2"); // broker 3 does serve PLAINTEXT
        Assert.Equal((0, 3), ((int)plain.ErrorCode, plain.NodeId));
        Assert.Empty(s.Admin.Created); // the topic exists: nothing to create
    }

    [Fact]
    public async Task TransactionKeysGetAFatalErrorAndUnknownKeyTypesInvalidRequest()
    {
        var s = new Setup(GroupImages.Build([GroupImages.Broker(1)]));
        foreach (short version in new short[] { 1, 3 })
        {
            var txn = await s.Find(version, "my-txn", keyType: 1);
            Assert.Equal((short)ErrorCode.TransactionalIdAuthorizationFailed, txn.ErrorCode);
            Assert.Equal(FindCoordinatorHandler.TransactionsNotSupported, txn.ErrorMessage);
            Assert.Equal(-1, txn.NodeId);
            var odd = await s.Find(version, "x", keyType: 7);
            Assert.Equal((short)ErrorCode.InvalidRequest, odd.ErrorCode);
        }
        var batch = await s.FindBatch(["t1", "t2"], keyType: 1);
        Assert.All(batch.Coordinators, c =>
        {
            Assert.Equal((short)ErrorCode.TransactionalIdAuthorizationFailed, c.ErrorCode);
            Assert.Equal(FindCoordinatorHandler.TransactionsNotSupported, c.ErrorMessage);
        });
        Assert.Equal(["t1", "t2"], batch.Coordinators.Select(c => c.Key));
        Assert.Empty(s.Admin.Created); // looking for a transaction coordinator never creates __consumer_offsets
    }
}

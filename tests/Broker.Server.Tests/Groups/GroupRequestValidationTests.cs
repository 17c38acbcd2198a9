using Broker.Consensus;
using Broker.Core.Diagnostics;
using Broker.Core.Model;
using Broker.Groups;
using Broker.Network;
using Broker.Protocol.Messages;
using Broker.Server.Admin;
using Broker.Server.Handlers;
using Broker.Server.Pipeline;
using Broker.Server.Tests.Harness;
using Xunit;

namespace Broker.Server.Tests.Groups;

/// <summary>
/// What the group handlers answer before the coordinator is asked anything: the empty group id, v5 SyncGroup
/// without protocol names, commits and deletes of partitions the metadata does not know, malformed requests.
/// The coordinator here has no offsets topic at all, so reaching it would answer NOT_COORDINATOR instead.
/// </summary>
public sealed class GroupRequestValidationTests : IAsyncDisposable
{
    private sealed class NoOffsetsTopic : IOffsetsTopic
    {
        public int PartitionCount => 0;
        public IReplicatedLog? Replica(int partition) => null;
    }

    private readonly GroupCoordinator _coordinator = new(new GroupCoordinatorOptions(), new NoOffsetsTopic(), SystemClock.Instance);
    private readonly GroupWireHarness _wire;

    public GroupRequestValidationTests()
    {
        var image = GroupImages.Build([GroupImages.Broker(1)], b => GroupImages.AddTopic(b, "known", 1));
        var table = new HandlerTable();
        table.Register(new JoinGroupHandler(_coordinator))
            .Register(new SyncGroupHandler(_coordinator))
            .Register(new HeartbeatHandler(_coordinator))
            .Register(new LeaveGroupHandler(_coordinator))
            .Register(new OffsetCommitHandler(_coordinator, () => image))
            .Register(new OffsetFetchHandler(_coordinator))
            .Register(new OffsetDeleteHandler(_coordinator, () => image));
        _wire = new GroupWireHarness(table);
    }

    public ValueTask DisposeAsync() => _coordinator.DisposeAsync();

    [Theory]
    [InlineData(0)]
    [InlineData(5)]
    [InlineData(9)]
    public async Task JoinWithEmptyGroupIdIsInvalidGroupId(short version)
    {
        var request = new JoinGroupRequest { GroupId = "", SessionTimeoutMs = 10000, RebalanceTimeoutMs = 10000, MemberId = "m-1", ProtocolType = "consumer" };
        request.Protocols.Add(new JoinGroupRequest.JoinGroupRequestProtocol { Name = "range", Metadata = [0, 1] });
        var response = await _wire.CallAsync(11, version, request, JoinGroupResponse.Read);
        Assert.Equal((short)ErrorCode.InvalidGroupId, response.ErrorCode);
        Assert.Equal(-1, response.GenerationId);
        Assert.Equal("m-1", response.MemberId);
        Assert.Equal("", response.Leader);
        Assert.Equal(version >= 7 ? null : "", response.ProtocolName);
        Assert.Empty(response.Members);
    }

    [Fact]
    public async Task SyncV5WithoutProtocolNamesIsInconsistentGroupProtocol()
    {
        var request = new SyncGroupRequest { GroupId = "g", GenerationId = 1, MemberId = "m", ProtocolType = "consumer", ProtocolName = null };
        var response = await _wire.CallAsync(14, 5, request, SyncGroupResponse.Read);
        Assert.Equal((short)ErrorCode.InconsistentGroupProtocol, response.ErrorCode);
        Assert.Empty(response.Assignment);

        var empty = await _wire.CallAsync(14, 3, new SyncGroupRequest { GroupId = "", MemberId = "m" }, SyncGroupResponse.Read);
        Assert.Equal((short)ErrorCode.InvalidGroupId, empty.ErrorCode);
    }

    [Fact]
    public async Task HeartbeatLeaveAndOffsetDeleteRefuseTheEmptyGroupId()
    {
        var heartbeat = await _wire.CallAsync(12, 4, new HeartbeatRequest { GroupId = "", MemberId = "m" }, HeartbeatResponse.Read);
        Assert.Equal((short)ErrorCode.InvalidGroupId, heartbeat.ErrorCode);
        var leave = await _wire.CallAsync(13, 0, new LeaveGroupRequest { GroupId = "", MemberId = "m" }, LeaveGroupResponse.Read);
        Assert.Equal((short)ErrorCode.InvalidGroupId, leave.ErrorCode);
        var leaveBatch = await _wire.CallAsync(13, 5, new LeaveGroupRequest { GroupId = "", Members = [new() { MemberId = "m" }] }, LeaveGroupResponse.Read);
        Assert.Equal((short)ErrorCode.InvalidGroupId, leaveBatch.ErrorCode);
        Assert.Empty(leaveBatch.Members);
        var delete = await _wire.CallAsync(47, 0, new OffsetDeleteRequest { GroupId = "" }, OffsetDeleteResponse.Read);
        Assert.Equal((short)ErrorCode.InvalidGroupId, delete.ErrorCode);
        Assert.Empty(delete.Topics);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(2)]
    [InlineData(9)]
    public async Task CommitOfUnknownPartitionsOnlyNeverReachesTheCoordinator(short version)
    {
        var request = new OffsetCommitRequest { GroupId = "g", MemberId = "" };
        request.Topics.Add(new OffsetCommitRequest.OffsetCommitRequestTopic
        {
            Name = "missing",
            Partitions = [new() { PartitionIndex = 0, CommittedOffset = 5 }],
        });
        request.Topics.Add(new OffsetCommitRequest.OffsetCommitRequestTopic
        {
            Name = "known",
            Partitions = [new() { PartitionIndex = 3, CommittedOffset = 5 }], // the topic has one partition
        });
        var response = await _wire.CallAsync(8, version, request, OffsetCommitResponse.Read);
        Assert.Equal(["missing", "known"], response.Topics.Select(t => t.Name));
        Assert.All(response.Topics, t => Assert.Equal((short)ErrorCode.UnknownTopicOrPartition, Assert.Single(t.Partitions).ErrorCode));
    }

    [Fact]
    public async Task OffsetFetchV1WithNullTopicsIsMalformedAndClosesTheConnection()
    {
        // A v2 encoding of a null topic list sent as v1 (the two versions share the layout): -1 topics.
        var frame = HandlerHarness.EncodeRequest(9, 2, new OffsetFetchRequest { GroupId = "g", Topics = null }, 1);
        frame[2] = 0;
        frame[3] = 1; // api version 2 → 1 in the request header
        var error = await _wire.SendExpectingCloseAsync(frame);
        Assert.IsType<ProtocolViolationException>(error);
    }

    [Fact]
    public async Task TruncatedJoinGroupClosesTheConnection()
    {
        var request = new JoinGroupRequest { GroupId = "g", SessionTimeoutMs = 10000, MemberId = "", ProtocolType = "consumer" };
        var frame = HandlerHarness.EncodeRequest(11, 5, request, 1);
        var error = await _wire.SendExpectingCloseAsync(frame[..^3]);
        Assert.IsType<ProtocolViolationException>(error);
    }
}

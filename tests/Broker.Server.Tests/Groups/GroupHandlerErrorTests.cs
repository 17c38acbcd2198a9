using Broker.Core.Model;
using Broker.Protocol.Messages;
using Xunit;

namespace Broker.Server.Tests.Groups;

/// <summary>
/// Group-level errors in each API's own shape (a group placed on an offsets partition node 2 leads answers
/// NOT_COORDINATOR everywhere), batched OffsetFetch with mixed groups, "all offsets" fetches and OffsetDelete.
/// </summary>
public sealed class GroupHandlerErrorTests
{
    private const short NotCoordinator = (short)ErrorCode.NotCoordinator;

    [Fact]
    public async Task EveryApiAnswersNotCoordinatorInItsOwnShape()
    {
        await using var f = await GroupsFixture.StartAsync();
        string remote = f.GroupOn(GroupsFixture.RemotePartition);

        foreach (short version in new short[] { 0, 4, 9 })
        {
            var join = await f.Wire.CallAsync(11, version, new JoinGroupRequest
            {
                GroupId = remote, SessionTimeoutMs = 10_000, MemberId = "m-9", ProtocolType = "consumer",
                Protocols = [new() { Name = "range", Metadata = [1] }],
            }, JoinGroupResponse.Read);
            Assert.Equal((NotCoordinator, -1, "m-9", ""), (join.ErrorCode, join.GenerationId, join.MemberId, join.Leader));
        }
        var sync = await f.Wire.CallAsync(14, 5, new SyncGroupRequest { GroupId = remote, MemberId = "m", ProtocolType = "consumer", ProtocolName = "range" }, SyncGroupResponse.Read);
        Assert.Equal(NotCoordinator, sync.ErrorCode);
        var beat = await f.Wire.CallAsync(12, 0, new HeartbeatRequest { GroupId = remote, MemberId = "m" }, HeartbeatResponse.Read);
        Assert.Equal(NotCoordinator, beat.ErrorCode);
        var leave = await f.Wire.CallAsync(13, 5, new LeaveGroupRequest { GroupId = remote, Members = [new() { MemberId = "m" }] }, LeaveGroupResponse.Read);
        Assert.Equal(NotCoordinator, leave.ErrorCode);
        Assert.Empty(leave.Members);

        var commit = await f.Wire.CallAsync(8, 8, new OffsetCommitRequest
        {
            GroupId = remote,
            Topics = [new() { Name = GroupsFixture.DataTopic, Partitions = [new() { PartitionIndex = 0 }, new() { PartitionIndex = 1 }] }, new() { Name = "nowhere", Partitions = [new() { PartitionIndex = 0 }] }],
        }, OffsetCommitResponse.Read);
        Assert.Equal([NotCoordinator, NotCoordinator], commit.Topics[0].Partitions.Select(p => p.ErrorCode));
        Assert.Equal((short)ErrorCode.UnknownTopicOrPartition, commit.Topics[1].Partitions[0].ErrorCode);

        var fetchTopics = new List<OffsetFetchRequest.OffsetFetchRequestTopic> { new() { Name = GroupsFixture.DataTopic, PartitionIndexes = [0, 1] } };
        var fetchV1 = await f.Wire.CallAsync(9, 1, new OffsetFetchRequest { GroupId = remote, Topics = fetchTopics }, OffsetFetchResponse.Read);
        Assert.All(Assert.Single(fetchV1.Topics).Partitions, p => Assert.Equal((NotCoordinator, -1L), (p.ErrorCode, p.CommittedOffset)));
        var fetchV5 = await f.Wire.CallAsync(9, 5, new OffsetFetchRequest { GroupId = remote, Topics = fetchTopics }, OffsetFetchResponse.Read);
        Assert.Equal(NotCoordinator, fetchV5.ErrorCode);
        Assert.Empty(fetchV5.Topics);

        var describe = await f.Wire.CallAsync(15, 5, new DescribeGroupsRequest { Groups = [remote] }, DescribeGroupsResponse.Read);
        Assert.Equal((NotCoordinator, remote, "", ""), (describe.Groups[0].ErrorCode, describe.Groups[0].GroupId, describe.Groups[0].GroupState, describe.Groups[0].ProtocolType));
        Assert.Empty(describe.Groups[0].Members);
        var delete = await f.Wire.CallAsync(42, 2, new DeleteGroupsRequest { GroupsNames = [remote] }, DeleteGroupsResponse.Read);
        Assert.Equal(NotCoordinator, Assert.Single(delete.Results).ErrorCode);
        var offsetDelete = await f.Wire.CallAsync(47, 0, new OffsetDeleteRequest { GroupId = remote, Topics = [new() { Name = GroupsFixture.DataTopic, Partitions = [new() { PartitionIndex = 0 }] }] }, OffsetDeleteResponse.Read);
        Assert.Equal(NotCoordinator, offsetDelete.ErrorCode);
        Assert.Empty(offsetDelete.Topics);
    }

    [Fact]
    public async Task BatchedFetchAnswersEachGroupAndNullTopicsMeanEveryCommittedOffset()
    {
        await using var f = await GroupsFixture.StartAsync();
        string local = f.GroupOn(0, "batch"), remote = f.GroupOn(GroupsFixture.RemotePartition, "batch");
        var commit = await f.Wire.CallAsync(8, 9, new OffsetCommitRequest
        {
            GroupId = local,
            Topics = [new() { Name = GroupsFixture.DataTopic, Partitions = [new() { PartitionIndex = 1, CommittedOffset = 7 }, new() { PartitionIndex = 0, CommittedOffset = 3 }] }],
        }, OffsetCommitResponse.Read);
        Assert.All(commit.Topics[0].Partitions, p => Assert.Equal(0, p.ErrorCode));

        var batch = await f.Wire.CallAsync(9, 8, new OffsetFetchRequest
        {
            Groups = [new() { GroupId = local, Topics = null }, new() { GroupId = remote, Topics = null }],
        }, OffsetFetchResponse.Read);
        Assert.Equal([local, remote], batch.Groups.Select(g => g.GroupId));
        Assert.Equal(0, batch.Groups[0].ErrorCode);
        var all = Assert.Single(batch.Groups[0].Topics);
        Assert.Equal(GroupsFixture.DataTopic, all.Name);
        Assert.Equal([(0, 3L), (1, 7L)], all.Partitions.Select(p => (p.PartitionIndex, p.CommittedOffset)).OrderBy(p => p.PartitionIndex));
        Assert.Equal(NotCoordinator, batch.Groups[1].ErrorCode);
        Assert.Empty(batch.Groups[1].Topics);

        var v2All = await f.Wire.CallAsync(9, 2, new OffsetFetchRequest { GroupId = local, Topics = null }, OffsetFetchResponse.Read);
        Assert.Equal(2, Assert.Single(v2All.Topics).Partitions.Count);
    }

    [Fact]
    public async Task OffsetDeleteRemovesOffsetsOfAnEmptyGroupAndRefusesUnknownPartitions()
    {
        await using var f = await GroupsFixture.StartAsync();
        string group = f.GroupOn(1, "od");
        await f.Wire.CallAsync(8, 2, new OffsetCommitRequest
        {
            GroupId = group,
            Topics = [new() { Name = GroupsFixture.DataTopic, Partitions = [new() { PartitionIndex = 0, CommittedOffset = 11 }, new() { PartitionIndex = 1, CommittedOffset = 12 }] }],
        }, OffsetCommitResponse.Read);

        var response = await f.Wire.CallAsync(47, 0, new OffsetDeleteRequest
        {
            GroupId = group,
            Topics = [new() { Name = GroupsFixture.DataTopic, Partitions = [new() { PartitionIndex = 0 }] }, new() { Name = "nowhere", Partitions = [new() { PartitionIndex = 0 }] }],
        }, OffsetDeleteResponse.Read);
        Assert.Equal(0, response.ErrorCode);
        Assert.Equal([GroupsFixture.DataTopic, "nowhere"], response.Topics.Select(t => t.Name));
        Assert.Equal(0, response.Topics[0].Partitions[0].ErrorCode);
        Assert.Equal((short)ErrorCode.UnknownTopicOrPartition, response.Topics[1].Partitions[0].ErrorCode);

        var left = await GroupHandlerFlowTests.Fetch(f, 6, group, [0, 1]);
        Assert.Equal([-1L, 12L], left.Select(p => p.Offset));

        var unknownGroup = await f.Wire.CallAsync(47, 0, new OffsetDeleteRequest { GroupId = f.GroupOn(1, "od-none") }, OffsetDeleteResponse.Read);
        Assert.Equal((short)ErrorCode.GroupIdNotFound, unknownGroup.ErrorCode);
    }
}

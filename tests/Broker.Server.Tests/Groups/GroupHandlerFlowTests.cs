using Broker.Core.Model;
using Broker.Protocol.Messages;
using Xunit;

namespace Broker.Server.Tests.Groups;

/// <summary>
/// A consumer's whole life through the handlers and the real coordinator, at the lowest, a middle and the highest
/// version of every group API: FindCoordinator → JoinGroup (MEMBER_ID_REQUIRED first from v4) → SyncGroup →
/// Heartbeat → OffsetCommit → OffsetFetch → DescribeGroups / ListGroups → LeaveGroup → a commit from outside the
/// group → DeleteGroups; checks what each version carries.
/// </summary>
public sealed class GroupHandlerFlowTests
{
    public sealed record Versions(short Find, short Join, short Sync, short Heartbeat, short Leave, short Commit, short Fetch,
        short Describe, short List, short Delete);

    public static TheoryData<Versions> VersionSets => new()
    {
        new Versions(0, 0, 0, 0, 0, 1, 1, 0, 0, 0),
        new Versions(2, 4, 3, 3, 3, 6, 7, 4, 3, 1),
        new Versions(4, 9, 5, 4, 5, 9, 9, 5, 4, 2),
    };

    private static readonly byte[] Subscription = [0, 1, 0, 0, 0, 1, 0, 6, (byte)'o', (byte)'r', (byte)'d', (byte)'e', (byte)'r', (byte)'s', 0, 0, 0, 0];
    private static readonly byte[] Assignment = [0, 1, 0, 0, 0, 1, 0, 6, (byte)'o', (byte)'r', (byte)'d', (byte)'e', (byte)'r', (byte)'s', 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0];

    [Theory]
    [MemberData(nameof(VersionSets))]
    public async Task ConsumerLifecycleAtEachVersion(Versions v)
    {
        await using var f = await GroupsFixture.StartAsync();
        string group = f.GroupOn(1, $"life-v{v.Join}");

        // FindCoordinator: node 1 leads the group's partition.
        var find = await f.Wire.CallAsync(10, v.Find, v.Find >= 4
            ? new FindCoordinatorRequest { CoordinatorKeys = [group] }
            : new FindCoordinatorRequest { Key = group }, FindCoordinatorResponse.Read);
        var (findError, findNode, findHost) = v.Find >= 4
            ? (find.Coordinators[0].ErrorCode, find.Coordinators[0].NodeId, find.Coordinators[0].Host)
            : (find.ErrorCode, find.NodeId, find.Host);
        Assert.Equal((0, 1, "broker1.local"), ((int)findError, findNode, findHost));

        // JoinGroup: v4+ first hands out a member id.
        string memberId = "";
        if (v.Join >= 4)
        {
            var required = await Join(f, v.Join, group, "");
            Assert.Equal((short)ErrorCode.MemberIdRequired, required.ErrorCode);
            Assert.NotEqual("", required.MemberId);
            Assert.StartsWith("group-test-", required.MemberId);
            memberId = required.MemberId;
        }
        var joined = await Join(f, v.Join, group, memberId);
        Assert.Equal(0, joined.ErrorCode);
        memberId = joined.MemberId;
        Assert.NotEqual("", memberId);
        Assert.Equal(1, joined.GenerationId);
        Assert.Equal(memberId, joined.Leader);
        Assert.Equal("range", joined.ProtocolName);
        Assert.Equal(v.Join >= 7 ? "consumer" : null, joined.ProtocolType);
        var member = Assert.Single(joined.Members);
        Assert.Equal(memberId, member.MemberId);
        Assert.Equal(Subscription, member.Metadata);
        Assert.False(joined.SkipAssignment);

        // SyncGroup: the leader's assignment comes back to it.
        var sync = new SyncGroupRequest
        {
            GroupId = group, GenerationId = joined.GenerationId, MemberId = memberId,
            ProtocolType = "consumer", ProtocolName = "range",
            Assignments = [new() { MemberId = memberId, Assignment = Assignment }],
        };
        var synced = await f.Wire.CallAsync(14, v.Sync, sync, SyncGroupResponse.Read);
        Assert.Equal(0, synced.ErrorCode);
        Assert.Equal(Assignment, synced.Assignment);
        Assert.Equal(v.Sync >= 5 ? ("consumer", "range") : (null, null), (synced.ProtocolType, synced.ProtocolName));

        var beat = await f.Wire.CallAsync(12, v.Heartbeat, new HeartbeatRequest { GroupId = group, GenerationId = joined.GenerationId, MemberId = memberId }, HeartbeatResponse.Read);
        Assert.Equal(0, beat.ErrorCode);
        var stale = await f.Wire.CallAsync(12, v.Heartbeat, new HeartbeatRequest { GroupId = group, GenerationId = joined.GenerationId + 5, MemberId = memberId }, HeartbeatResponse.Read);
        Assert.Equal((short)ErrorCode.IllegalGeneration, stale.ErrorCode);

        // OffsetCommit as the member; an unknown topic is refused per partition.
        var commit = await f.Wire.CallAsync(8, v.Commit, Commit(group, joined.GenerationId, memberId, offset: 42, "meta-1"), OffsetCommitResponse.Read);
        Assert.Equal([GroupsFixture.DataTopic, "nowhere"], commit.Topics.Select(t => t.Name));
        Assert.Equal((short)ErrorCode.None, Assert.Single(commit.Topics[0].Partitions).ErrorCode);
        Assert.Equal((short)ErrorCode.UnknownTopicOrPartition, Assert.Single(commit.Topics[1].Partitions).ErrorCode);

        var fetched = await Fetch(f, v.Fetch, group, [0, 1]);
        Assert.Equal((42L, "meta-1", v.Fetch >= 5 && v.Commit >= 6 ? 7 : -1), (fetched[0].Offset, fetched[0].Metadata, fetched[0].LeaderEpoch));
        Assert.Equal((-1L, ""), (fetched[1].Offset, fetched[1].Metadata));
        Assert.All(fetched, p => Assert.Equal(0, p.Error));

        // DescribeGroups / ListGroups.
        var described = await f.Wire.CallAsync(15, v.Describe, new DescribeGroupsRequest { Groups = [group, "never-seen"], IncludeAuthorizedOperations = true }, DescribeGroupsResponse.Read);
        var d = described.Groups[0];
        Assert.Equal((0, group, "Stable", "consumer", "range"), ((int)d.ErrorCode, d.GroupId, d.GroupState, d.ProtocolType, d.ProtocolData));
        var dm = Assert.Single(d.Members);
        Assert.Equal((memberId, "group-test", "/127.0.0.1"), (dm.MemberId, dm.ClientId, dm.ClientHost));
        Assert.Equal(Subscription, dm.MemberMetadata);
        Assert.Equal(Assignment, dm.MemberAssignment);
        Assert.Equal(v.Describe >= 3 ? 328 : int.MinValue, d.AuthorizedOperations);
        Assert.Equal((0, "Dead"), ((int)described.Groups[1].ErrorCode, described.Groups[1].GroupState));

        var listed = await f.Wire.CallAsync(16, v.List, new ListGroupsRequest(), ListGroupsResponse.Read);
        Assert.Equal(0, listed.ErrorCode);
        var entry = Assert.Single(listed.Groups, g => g.GroupId == group);
        Assert.Equal(("consumer", v.List >= 4 ? "Stable" : ""), (entry.ProtocolType, entry.GroupState));
        if (v.List >= 4)
        {
            var onlyEmpty = await f.Wire.CallAsync(16, v.List, new ListGroupsRequest { StatesFilter = ["Empty"] }, ListGroupsResponse.Read);
            Assert.DoesNotContain(onlyEmpty.Groups, g => g.GroupId == group);
        }

        // LeaveGroup, then the group is empty: a commit from outside the group protocol (generation -1) is accepted.
        var leave = v.Leave >= 3
            ? new LeaveGroupRequest { GroupId = group, Members = [new() { MemberId = memberId }] }
            : new LeaveGroupRequest { GroupId = group, MemberId = memberId };
        var left = await f.Wire.CallAsync(13, v.Leave, leave, LeaveGroupResponse.Read);
        Assert.Equal(0, left.ErrorCode);
        if (v.Leave >= 3) Assert.Equal((memberId, (short)0), (Assert.Single(left.Members).MemberId, left.Members[0].ErrorCode));

        var outside = await f.Wire.CallAsync(8, 0, Commit(group, -1, "", offset: 50, null), OffsetCommitResponse.Read);
        Assert.Equal((short)ErrorCode.None, outside.Topics[0].Partitions[0].ErrorCode);
        var afterLeave = (await Fetch(f, v.Fetch, group, [0]))[0];
        Assert.Equal((50L, ""), (afterLeave.Offset, afterLeave.Metadata));

        var deleted = await f.Wire.CallAsync(42, v.Delete, new DeleteGroupsRequest { GroupsNames = [group, group, "never-seen"] }, DeleteGroupsResponse.Read);
        Assert.Equal([group, "never-seen"], deleted.Results.Select(r => r.GroupId));
        Assert.Equal([(short)ErrorCode.None, (short)ErrorCode.GroupIdNotFound], deleted.Results.Select(r => r.ErrorCode));
        Assert.Equal(-1L, (await Fetch(f, v.Fetch, group, [0]))[0].Offset);
    }

    private static Task<JoinGroupResponse> Join(GroupsFixture f, short version, string group, string memberId)
    {
        var request = new JoinGroupRequest
        {
            GroupId = group, SessionTimeoutMs = 10_000, RebalanceTimeoutMs = 10_000, MemberId = memberId, ProtocolType = "consumer",
            Protocols = [new() { Name = "range", Metadata = Subscription }],
        };
        return f.Wire.CallAsync(11, version, request, JoinGroupResponse.Read);
    }

    private static OffsetCommitRequest Commit(string group, int generation, string memberId, long offset, string? metadata) => new()
    {
        GroupId = group, GenerationIdOrMemberEpoch = generation, MemberId = memberId,
        Topics =
        [
            new() { Name = GroupsFixture.DataTopic, Partitions = [new() { PartitionIndex = 0, CommittedOffset = offset, CommittedLeaderEpoch = 7, CommittedMetadata = metadata }] },
            new() { Name = "nowhere", Partitions = [new() { PartitionIndex = 0, CommittedOffset = offset }] },
        ],
    };

    internal readonly record struct Fetched(int Partition, long Offset, int LeaderEpoch, string? Metadata, short Error);

    /// <summary>OffsetFetch of orders' <paramref name="partitions"/> at any version (v8+ through the groups batch).</summary>
    internal static async Task<List<Fetched>> Fetch(GroupsFixture f, short version, string group, int[] partitions)
    {
        var result = new List<Fetched>();
        if (version >= 8)
        {
            var request = new OffsetFetchRequest { Groups = [new() { GroupId = group, Topics = [new() { Name = GroupsFixture.DataTopic, PartitionIndexes = [.. partitions] }] }] };
            var response = await f.Wire.CallAsync(9, version, request, OffsetFetchResponse.Read);
            var g = Assert.Single(response.Groups);
            Assert.Equal((group, (short)0), (g.GroupId, g.ErrorCode));
            foreach (var p in Assert.Single(g.Topics).Partitions) result.Add(new(p.PartitionIndex, p.CommittedOffset, p.CommittedLeaderEpoch, p.Metadata, p.ErrorCode));
            return result;
        }
        var single = new OffsetFetchRequest { GroupId = group, Topics = [new() { Name = GroupsFixture.DataTopic, PartitionIndexes = [.. partitions] }], RequireStable = version >= 7 };
        var answer = await f.Wire.CallAsync(9, version, single, OffsetFetchResponse.Read);
        Assert.Equal(0, answer.ErrorCode);
        foreach (var p in Assert.Single(answer.Topics).Partitions) result.Add(new(p.PartitionIndex, p.CommittedOffset, p.CommittedLeaderEpoch, p.Metadata, p.ErrorCode));
        return result;
    }
}

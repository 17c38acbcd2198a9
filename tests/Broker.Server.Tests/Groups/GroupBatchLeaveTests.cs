using Broker.Core.Model;
using Broker.Protocol.Messages;
using Xunit;

namespace Broker.Server.Tests.Groups;

/// <summary>
/// Batch LeaveGroup (v3+, KIP-345) through the handler and the real coordinator: a stable group of two members gets
/// one request naming one real member and one unknown member id; each member gets its own error, the real one is
/// removed and the remaining member is sent into a rebalance that completes without the leaver.
/// </summary>
public sealed class GroupBatchLeaveTests
{
    private static readonly byte[] Subscription = [0, 1, 0, 0, 0, 1, 0, 6, (byte)'o', (byte)'r', (byte)'d', (byte)'e', (byte)'r', (byte)'s', 0, 0, 0, 0];

    [Theory]
    [InlineData((short)5, (short)3)]
    [InlineData((short)9, (short)5)]
    public async Task Batch_leave_removes_the_known_member_and_reports_the_unknown_one(short joinVersion, short leaveVersion)
    {
        await using var f = await GroupsFixture.StartAsync();
        string group = f.GroupOn(0, $"batch-leave-v{leaveVersion}");

        // A joins alone (generation 1) and syncs.
        string a = await NewMemberIdAsync(f, joinVersion, group);
        var first = await JoinAsync(f, joinVersion, group, a);
        Assert.Equal((0, 1, a), (first.ErrorCode, first.GenerationId, first.Leader));
        Assert.Equal(0, (await SyncAsync(f, group, 1, a, [a])).ErrorCode);

        // B joins: the rebalance completes once A rejoins (generation 2, both members).
        string b = await NewMemberIdAsync(f, joinVersion, group);
        var bJoin = JoinAsync(f, joinVersion, group, b);
        var aJoin = await JoinAsync(f, joinVersion, group, a);
        var bJoined = await bJoin.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal((0, 0, 2, 2), (aJoin.ErrorCode, bJoined.ErrorCode, aJoin.GenerationId, bJoined.GenerationId));
        string leader = aJoin.Leader;
        Assert.Equal(leader, bJoined.Leader);
        string follower = leader == a ? b : a;
        Assert.Equal(2, (leader == a ? aJoin : bJoined).Members.Count);
        var followerSync = SyncAsync(f, group, 2, follower, []);
        Assert.Equal(0, (await SyncAsync(f, group, 2, leader, [a, b])).ErrorCode);
        Assert.Equal(0, (await followerSync.WaitAsync(TimeSpan.FromSeconds(10))).ErrorCode);

        var before = await DescribeAsync(f, group);
        Assert.Equal("Stable", before.GroupState);
        Assert.Equal(new[] { a, b }.Order(StringComparer.Ordinal), before.Members.Select(m => m.MemberId).Order(StringComparer.Ordinal));

        // One request: the follower (known) and a member id the group never had.
        const string ghost = "ghost-member-id";
        var leave = new LeaveGroupRequest
        {
            GroupId = group,
            Members = [new() { MemberId = follower, Reason = "shutting down" }, new() { MemberId = ghost }],
        };
        var left = await f.Wire.CallAsync(13, leaveVersion, leave, LeaveGroupResponse.Read);
        Assert.Equal((short)ErrorCode.None, left.ErrorCode);
        Assert.Equal([(follower, (short)ErrorCode.None), (ghost, (short)ErrorCode.UnknownMemberId)],
            left.Members.Select(m => (m.MemberId, m.ErrorCode)));

        // The follower is gone and the leader is told to rebalance.
        var after = await DescribeAsync(f, group);
        Assert.Equal("PreparingRebalance", after.GroupState);
        Assert.Equal([leader], after.Members.Select(m => m.MemberId));
        Assert.Equal((short)ErrorCode.RebalanceInProgress, (await HeartbeatAsync(f, group, 2, leader)).ErrorCode);
        Assert.Equal((short)ErrorCode.UnknownMemberId, (await HeartbeatAsync(f, group, 2, follower)).ErrorCode);

        // The leader rejoins alone: generation 3 with one member.
        var rejoined = await JoinAsync(f, joinVersion, group, leader).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal((0, 3, leader), (rejoined.ErrorCode, rejoined.GenerationId, rejoined.Leader));
        Assert.Equal([leader], rejoined.Members.Select(m => m.MemberId));
    }

    private static async Task<string> NewMemberIdAsync(GroupsFixture f, short version, string group)
    {
        var required = await JoinAsync(f, version, group, "");
        Assert.Equal((short)ErrorCode.MemberIdRequired, required.ErrorCode);
        Assert.NotEqual("", required.MemberId);
        return required.MemberId;
    }

    private static Task<JoinGroupResponse> JoinAsync(GroupsFixture f, short version, string group, string memberId) =>
        f.Wire.CallAsync(11, version, new JoinGroupRequest
        {
            GroupId = group, SessionTimeoutMs = 10_000, RebalanceTimeoutMs = 10_000, MemberId = memberId, ProtocolType = "consumer",
            Protocols = [new() { Name = "range", Metadata = Subscription }],
        }, JoinGroupResponse.Read);

    private static Task<SyncGroupResponse> SyncAsync(GroupsFixture f, string group, int generation, string memberId, string[] assignTo)
    {
        var request = new SyncGroupRequest
        {
            GroupId = group, GenerationId = generation, MemberId = memberId, ProtocolType = "consumer", ProtocolName = "range",
        };
        foreach (string m in assignTo) request.Assignments.Add(new() { MemberId = m, Assignment = [0, 1, 0, 0, 0, 0, 0, 0, 0, 0] });
        return f.Wire.CallAsync(14, 5, request, SyncGroupResponse.Read);
    }

    private static Task<HeartbeatResponse> HeartbeatAsync(GroupsFixture f, string group, int generation, string memberId) =>
        f.Wire.CallAsync(12, 4, new HeartbeatRequest { GroupId = group, GenerationId = generation, MemberId = memberId }, HeartbeatResponse.Read);

    private static async Task<DescribeGroupsResponse.DescribedGroup> DescribeAsync(GroupsFixture f, string group)
    {
        var response = await f.Wire.CallAsync(15, 5, new DescribeGroupsRequest { Groups = [group] }, DescribeGroupsResponse.Read);
        var described = Assert.Single(response.Groups);
        Assert.Equal((short)ErrorCode.None, described.ErrorCode);
        return described;
    }
}

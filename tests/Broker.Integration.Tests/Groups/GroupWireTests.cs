using System.Diagnostics;
using Broker.Integration.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace Broker.Integration.Tests.Groups;

/// <summary>
/// The group APIs over raw Kafka wire against the real binary (one node): FindCoordinator creates
/// __consumer_offsets on first use (COORDINATOR_NOT_AVAILABLE until then), then a consumer's life — JoinGroup
/// (MEMBER_ID_REQUIRED first from v4), SyncGroup, Heartbeat, OffsetCommit, OffsetFetch, DescribeGroups, ListGroups,
/// LeaveGroup, DeleteGroups — at the lowest and the highest version of every API, and the committed offsets
/// surviving a restart of the broker.
/// </summary>
public sealed class GroupWireTests : IntegrationTest
{
    internal const string Topic = "orders";

    /// <summary>Broker settings for group tests: no initial rebalance delay, a small offsets topic.</summary>
    internal static readonly Dictionary<string, string> GroupProps = new()
    {
        ["group.initial.rebalance.delay.ms"] = "0",
        ["offsets.topic.num.partitions"] = "4",
    };

    internal static readonly byte[] Subscription = [0, 1, 0, 0, 0, 1, 0, 6, (byte)'o', (byte)'r', (byte)'d', (byte)'e', (byte)'r', (byte)'s', 0, 0, 0, 0];
    internal static readonly byte[] Assignment = [0, 1, 0, 0, 0, 1, 0, 6, (byte)'o', (byte)'r', (byte)'d', (byte)'e', (byte)'r', (byte)'s', 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0];

    public GroupWireTests(ITestOutputHelper output) : base(output) { }

    public sealed record Versions(short Find, short Join, short Sync, short Heartbeat, short Leave, short Commit, short Fetch,
        short Describe, short List, short Delete);

    public static TheoryData<Versions> VersionSets => new()
    {
        new Versions(0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
        new Versions(4, 9, 5, 4, 5, 9, 9, 5, 4, 2),
    };

    [Theory]
    [MemberData(nameof(VersionSets))]
    public void ConsumerLifecycle_OverRawWire(Versions v)
    {
        var broker = StartBroker($"groups-v{v.Join}", GroupProps);
        var created = ClusterWire.CreateTopic("127.0.0.1", broker.Port, Topic, 2, 1, null, TimeSpan.FromSeconds(10));
        Assert.Equal(0, created.Error);
        string group = $"wire-group-v{v.Join}";

        using var bootstrap = new WireConnection("127.0.0.1", broker.Port);
        var first = bootstrap.FindCoordinator(v.Find, 0, group).Single();
        Assert.True(first.Error == 15, $"the first FindCoordinator should find no __consumer_offsets yet: {first}");
        Assert.Equal((-1, "", -1), (first.NodeId, first.Host, first.Port));
        var coordinator = WaitForCoordinator(bootstrap, v.Find, group, broker);
        Assert.Equal((1, "127.0.0.1", broker.Port), (coordinator.NodeId, coordinator.Host, coordinator.Port));

        using var c = new WireConnection(coordinator.Host, coordinator.Port, "wire-consumer");
        var joined = JoinUntilMember(c, v.Join, group, broker);
        Assert.Equal((1, joined.MemberId, "range"), (joined.Generation, joined.Leader, joined.ProtocolName));
        Assert.Equal(v.Join >= 7 ? "consumer" : null, joined.ProtocolType);
        Assert.Equal(Subscription, Assert.Single(joined.Members).Metadata);
        string member = joined.MemberId;

        var synced = c.SyncGroup(v.Sync, group, joined.Generation, member, null, [(member, Assignment)]);
        Assert.Equal(0, synced.Error);
        Assert.Equal(Assignment, synced.Assignment);
        Assert.Equal(v.Sync >= 5 ? ("consumer", "range") : (null, null), (synced.ProtocolType, synced.ProtocolName));
        Assert.Equal(0, c.Heartbeat(v.Heartbeat, group, joined.Generation, member));
        Assert.Equal(25, c.Heartbeat(v.Heartbeat, group, joined.Generation, "nobody")); // UNKNOWN_MEMBER_ID

        // v0 commits carry no generation: the coordinator takes them only from outside a group with members.
        short commitVersion = v.Commit == 0 ? (short)2 : v.Commit;
        var committed = c.OffsetCommit(commitVersion, group, joined.Generation, member,
            [(Topic, 0, 42, 5, "first"), (Topic, 1, 7, 5, null), ("no-such-topic", 0, 1, -1, null)]);
        Assert.Equal([(Topic, 0, (short)0), (Topic, 1, (short)0), ("no-such-topic", 0, (short)3)], committed);

        var fetched = c.OffsetFetch(v.Fetch, group, [(Topic, [0, 1]), ("never-committed", [0])]);
        Assert.Equal(0, fetched.Error);
        var byPartition = fetched.Offsets.ToDictionary(o => (o.Topic, o.Partition));
        Assert.Equal((42L, "first", v.Fetch >= 5 ? 5 : -1, (short)0), (byPartition[(Topic, 0)].Offset, byPartition[(Topic, 0)].Metadata, byPartition[(Topic, 0)].LeaderEpoch, byPartition[(Topic, 0)].Error));
        Assert.Equal((7L, ""), (byPartition[(Topic, 1)].Offset, byPartition[(Topic, 1)].Metadata));
        Assert.Equal(-1L, byPartition[("never-committed", 0)].Offset);

        var described = c.DescribeGroups(v.Describe, group).Single();
        Assert.Equal((0, group, "Stable", "consumer", "range"), ((int)described.Error, described.GroupId, described.State, described.ProtocolType, described.Protocol));
        var dm = Assert.Single(described.Members);
        Assert.Equal((member, "wire-consumer", "/127.0.0.1"), (dm.MemberId, dm.ClientId, dm.ClientHost));
        Assert.Equal(Assignment, dm.Assignment);

        var (listError, listed) = c.ListGroups(v.List);
        Assert.Equal(0, listError);
        var entry = Assert.Single(listed, g => g.GroupId == group);
        Assert.Equal(("consumer", v.List >= 4 ? "Stable" : ""), (entry.ProtocolType, entry.State));

        var left = c.LeaveGroup(v.Leave, group, member);
        Assert.Equal(0, left.Error);
        if (v.Leave >= 3) Assert.Equal((member, (short)0), (Assert.Single(left.Members).MemberId, left.Members[0].Error));
        Assert.Equal("Empty", c.DescribeGroups(v.Describe, group).Single().State);

        // The group is empty now: a commit from outside the group protocol (v0 here when testing v0) is accepted.
        var outside = c.OffsetCommit(v.Commit, group, -1, "", [(Topic, 0, 50, -1, "outside")]);
        Assert.Equal((short)0, Assert.Single(outside).Error);
        Assert.Equal(50L, c.OffsetFetch(v.Fetch, group, [(Topic, [0])]).Offsets.Single().Offset);

        var deleted = c.DeleteGroups(v.Delete, group, "wire-never-existed");
        Assert.Equal([(group, (short)0), ("wire-never-existed", (short)69)], deleted);
        Assert.Equal(-1L, c.OffsetFetch(v.Fetch, group, [(Topic, [0])]).Offsets.Single().Offset);
        Assert.Equal("Dead", c.DescribeGroups(v.Describe, group).Single().State);
    }

    [Fact]
    public void CommittedOffsetsAndTheGroupSurviveARestart()
    {
        var broker = StartBroker("groups-restart", GroupProps);
        Assert.Equal(0, ClusterWire.CreateTopic("127.0.0.1", broker.Port, Topic, 2, 1, null, TimeSpan.FromSeconds(10)).Error);
        const string group = "wire-durable";
        using (var bootstrap = new WireConnection("127.0.0.1", broker.Port))
            WaitForCoordinator(bootstrap, 3, group, broker);
        using (var c = new WireConnection("127.0.0.1", broker.Port))
        {
            var joined = JoinUntilMember(c, 5, group, broker);
            Assert.Equal(0, c.SyncGroup(3, group, joined.Generation, joined.MemberId, null, [(joined.MemberId, Assignment)]).Error);
            var committed = c.OffsetCommit(8, group, joined.Generation, joined.MemberId, [(Topic, 1, 1234, 2, "before restart")]);
            Assert.Equal((short)0, Assert.Single(committed).Error);
        }

        broker.Stop();
        broker.Restart();

        using var after = new WireConnection("127.0.0.1", broker.Port);
        WaitForCoordinator(after, 3, group, broker);
        var sw = Stopwatch.StartNew();
        WireFetch fetched;
        while (true)
        {
            fetched = after.OffsetFetch(8, group, null);
            if (fetched.Error == 0) break;
            Assert.True(fetched.Error is 14 or 15 or 16 && sw.Elapsed < TimeSpan.FromSeconds(20), $"OffsetFetch after restart: error {fetched.Error}\n{broker.DescribeState()}");
            Thread.Sleep(100);
        }
        var offset = Assert.Single(fetched.Offsets);
        Assert.Equal((Topic, 1, 1234L, 2, "before restart"), (offset.Topic, offset.Partition, offset.Offset, offset.LeaderEpoch, offset.Metadata));
        // The group's metadata was persisted too (Kafka keeps the protocol type even once the members expired).
        Assert.Equal("consumer", after.DescribeGroups(5, group).Single().ProtocolType);
    }

    /// <summary>FindCoordinator until it names a node (bounded; 15 COORDINATOR_NOT_AVAILABLE while the topic is created).</summary>
    internal static WireCoordinator WaitForCoordinator(WireConnection c, short version, string group, BrokerProcess? broker, TimeSpan? timeout = null)
    {
        var limit = timeout ?? TimeSpan.FromSeconds(20);
        var sw = Stopwatch.StartNew();
        while (true)
        {
            var answer = c.FindCoordinator(version, 0, group).Single();
            if (answer.Error == 0) return answer;
            if (answer.Error != 15 || sw.Elapsed > limit)
                Assert.Fail($"FindCoordinator({group}) v{version}: {answer} after {sw.ElapsedMilliseconds} ms\n{broker?.DescribeState()}");
            Thread.Sleep(100);
        }
    }

    /// <summary>JoinGroup until the member is in (MEMBER_ID_REQUIRED handled; load-in-progress retried, bounded).</summary>
    internal static WireJoin JoinUntilMember(WireConnection c, short version, string group, BrokerProcess? broker, string? describe = null)
    {
        var sw = Stopwatch.StartNew();
        string memberId = "";
        bool sawMemberIdRequired = false;
        while (true)
        {
            var joined = c.JoinGroup(version, group, memberId, null, Subscription);
            if (joined.Error == 0)
            {
                Assert.Equal(version >= 4, sawMemberIdRequired);
                return joined;
            }
            if (joined.Error == 79) // MEMBER_ID_REQUIRED carries the id to use
            {
                Assert.True(version >= 4, $"JoinGroup v{version} must not ask for a member id");
                Assert.NotEqual("", joined.MemberId);
                sawMemberIdRequired = true;
                memberId = joined.MemberId;
                continue;
            }
            if (joined.Error != 14 || sw.Elapsed > TimeSpan.FromSeconds(20))
                Assert.Fail($"JoinGroup({group}) v{version}: {joined}\n{describe ?? broker?.DescribeState()}");
            Thread.Sleep(100);
        }
    }
}

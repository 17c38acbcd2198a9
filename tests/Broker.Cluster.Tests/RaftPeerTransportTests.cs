using System.Diagnostics;
using Broker.Cluster.Transport;
using Broker.Core.Model;
using Broker.Protocol.Messages;
using Broker.Raft;
using Broker.Raft.Messages;
using static Broker.Cluster.Tests.ClusterTestKit;

namespace Broker.Cluster.Tests;

public sealed class RaftPeerTransportTests
{
    [Fact]
    public async Task Two_nodes_deliver_several_groups_intact_and_in_order_both_ways()
    {
        var directory = new PeerDirectory();
        await using var a = new TestNode(1, directory).StartListener();
        await using var b = new TestNode(2, directory).StartListener();
        var inboxesA = new Inbox[3];
        var inboxesB = new Inbox[3];
        for (int g = 0; g < 3; g++)
        {
            inboxesA[g] = new Inbox();
            inboxesB[g] = new Inbox();
            a.Transport.Subscribe(Group(g), inboxesA[g].Add);
            b.Transport.Subscribe(Group(g), inboxesB[g].Add);
        }
        var entry = new RaftEntry(3, 5, 2, new byte[] { 1, 2, 3, 4, 5 });
        for (int i = 0; i < 300; i++)
        {
            a.Transport.Send(Group(i % 3), Numbered(1, 2, i));
            b.Transport.Send(Group(i % 3), Numbered(2, 1, i));
        }
        var rich = new AppendRequest(1, 2, 3, 4, 2, 4, [entry]);
        a.Transport.Send(Group(0), rich);

        Assert.True(await WaitUntilAsync(() => inboxesB.Sum(x => x.Count) == 301 && inboxesA.Sum(x => x.Count) == 300));
        for (int g = 0; g < 3; g++)
        {
            long[] expected = Enumerable.Range(0, 300).Where(i => i % 3 == g).Select(i => (long)i).ToArray();
            Assert.Equal(expected, inboxesB[g].Snapshot().Take(100).Select(m => ((AppendRequest)m).Commit).ToArray());
            Assert.Equal(expected, inboxesA[g].SequencesFrom(2));
            Assert.All(inboxesB[g].Snapshot(), m => Assert.Equal((1, 2), (m.From, m.To)));
        }
        var got = Assert.IsType<AppendRequest>(inboxesB[0].Snapshot()[^1]);
        Assert.Equal((rich.Term, rich.PrevOffset, rich.PrevTerm, rich.Commit), (got.Term, got.PrevOffset, got.PrevTerm, got.Commit));
        Assert.Equal(entry.Payload.ToArray(), Assert.Single(got.Entries).Payload.ToArray());
        Assert.Equal(301, a.Transport.MessagesSent);
        Assert.Equal(300, a.Transport.MessagesReceived);
        Assert.Equal(0, a.Transport.MessagesDropped + b.Transport.MessagesDropped);
        Assert.True(await WaitUntilAsync(() => a.Transport.EnvelopesAcked == a.Transport.EnvelopesSent));
        Assert.Equal(1, a.Transport.Connects);
        Assert.Equal(b.Transport.EnvelopesReceived, a.Transport.EnvelopesSent);
    }

    [Fact]
    public async Task A_burst_for_many_groups_is_batched_into_few_envelopes()
    {
        var directory = new PeerDirectory();
        await using var a = new TestNode(1, directory).StartListener();
        await using var b = new TestNode(2, directory).StartListener();
        const int groups = 50, perGroup = 40;
        var inboxes = new Inbox[groups];
        for (int g = 0; g < groups; g++)
        {
            inboxes[g] = new Inbox();
            b.Transport.Subscribe(Group(g), inboxes[g].Add);
        }
        for (int i = 0; i < perGroup; i++)
            for (int g = 0; g < groups; g++)
                a.Transport.Send(Group(g), Numbered(1, 2, i));

        Assert.True(await WaitUntilAsync(() => b.Transport.MessagesReceived == groups * perGroup));
        foreach (Inbox inbox in inboxes) Assert.Equal(Enumerable.Range(0, perGroup).Select(i => (long)i).ToArray(), inbox.SequencesFrom(1));
        Assert.True(a.Transport.EnvelopesSent * 20 <= groups * perGroup,
            $"{a.Transport.EnvelopesSent} envelopes for {groups * perGroup} messages");
        Assert.Equal(a.Transport.EnvelopesSent, b.Transport.EnvelopesReceived);
    }

    [Fact]
    public async Task Three_nodes_full_mesh_keeps_order_per_source_and_group()
    {
        var directory = new PeerDirectory();
        await using var n1 = new TestNode(1, directory).StartListener();
        await using var n2 = new TestNode(2, directory).StartListener();
        await using var n3 = new TestNode(3, directory).StartListener();
        TestNode[] nodes = [n1, n2, n3];
        var inbox = new Dictionary<(int Node, int Group), Inbox>();
        foreach (TestNode n in nodes)
            for (int g = 0; g < 4; g++)
            {
                var box = new Inbox();
                inbox[(n.Id, g)] = box;
                n.Transport.Subscribe(Group(g), box.Add);
            }
        var senders = nodes.Select(n => Task.Run(() =>
        {
            for (int i = 0; i < 200; i++)
                foreach (TestNode peer in nodes)
                    if (peer.Id != n.Id) n.Transport.Send(Group(i % 4), Numbered(n.Id, peer.Id, i));
        })).ToArray();
        await Task.WhenAll(senders);

        Assert.True(await WaitUntilAsync(() => nodes.Sum(n => n.Transport.MessagesReceived) == 3 * 2 * 200));
        foreach (TestNode n in nodes)
            foreach (TestNode source in nodes)
            {
                if (source.Id == n.Id) continue;
                for (int g = 0; g < 4; g++)
                    Assert.Equal(Enumerable.Range(0, 200).Where(i => i % 4 == g).Select(i => (long)i).ToArray(),
                        inbox[(n.Id, g)].SequencesFrom(source.Id));
            }
    }

    [Fact]
    public async Task Unsubscribe_stops_delivery_and_unknown_groups_are_counted()
    {
        var directory = new PeerDirectory();
        await using var a = new TestNode(1, directory).StartListener();
        await using var b = new TestNode(2, directory).StartListener();
        var inbox = new Inbox();
        IDisposable subscription = b.Transport.Subscribe(Group(0), inbox.Add);
        Assert.Throws<InvalidOperationException>(() => b.Transport.Subscribe(Group(0), _ => { }));
        a.Transport.Send(Group(0), Numbered(1, 2, 0));
        Assert.True(await WaitUntilAsync(() => inbox.Count == 1));

        subscription.Dispose();
        for (int i = 1; i <= 5; i++) a.Transport.Send(Group(0), Numbered(1, 2, i));
        a.Transport.Send(Group(7), Numbered(1, 2, 99));
        Assert.True(await WaitUntilAsync(() => b.Transport.UnknownGroupMessages == 6));
        Assert.Equal(1, inbox.Count);

        var again = new Inbox();
        using (b.Transport.Subscribe(Group(0), again.Add)) // the group can be subscribed anew
        {
            a.Transport.Send(Group(0), Numbered(1, 2, 6));
            Assert.True(await WaitUntilAsync(() => again.Count == 1));
        }
        Assert.Equal(0, b.Transport.InvalidMessages);
    }

    [Fact]
    public async Task Garbage_payload_is_counted_answered_invalid_and_the_connection_keeps_working()
    {
        var directory = new PeerDirectory();
        await using var b = new TestNode(2, directory).StartListener();
        var inbox = new Inbox();
        b.Transport.Subscribe(Group(0), inbox.Add);
        using var client = await RawEnvelopeClient.ConnectAsync(b.Port);

        var bad = new RaftEnvelopeRequest { SourceNodeId = 1 };
        bad.Messages.Add(Message(Group(0), [0xFF, 1, 2]));                                   // undecodable
        bad.Messages.Add(Message(Group(0), RaftMessageCodec.Encode(Numbered(1, 2, 1))));     // good
        bad.Messages.Add(Message(Group(0), RaftMessageCodec.Encode(Numbered(3, 2, 2))));     // From != source
        bad.Messages.Add(Message(Group(0), RaftMessageCodec.Encode(Numbered(1, 4, 3))));     // To != this node
        Assert.Equal((short)ErrorCode.InvalidRequest, await client.SendAsync(bad));
        Assert.Equal(3, b.Transport.InvalidMessages);
        Assert.Equal([1L], inbox.SequencesFrom(1));

        var good = new RaftEnvelopeRequest { SourceNodeId = 1 };
        good.Messages.Add(Message(Group(0), RaftMessageCodec.Encode(Numbered(1, 2, 2))));
        Assert.Equal((short)ErrorCode.None, await client.SendAsync(good));
        Assert.Equal([1L, 2L], inbox.SequencesFrom(1));
        Assert.Equal(2, b.Transport.EnvelopesReceived);
    }

    [Fact]
    public async Task A_throwing_receiver_does_not_stop_later_messages()
    {
        var directory = new PeerDirectory();
        await using var a = new TestNode(1, directory).StartListener();
        await using var b = new TestNode(2, directory).StartListener();
        var inbox = new Inbox();
        b.Transport.Subscribe(Group(0), m => { if (((AppendRequest)m).Commit == 0) throw new InvalidOperationException("boom"); inbox.Add(m); });
        for (int i = 0; i < 3; i++) a.Transport.Send(Group(0), Numbered(1, 2, i));
        Assert.True(await WaitUntilAsync(() => inbox.Count == 2));
        Assert.Equal([1L, 2L], inbox.SequencesFrom(1));
        Assert.Equal(0, a.Transport.ConnectionsLost);
    }

    [Fact]
    public async Task Dispose_is_prompt_with_connected_down_and_unknown_peers_and_later_sends_are_dropped()
    {
        var directory = new PeerDirectory();
        await using var b = new TestNode(2, directory).StartListener();
        var a = new TestNode(1, directory);
        directory.Set(3, "127.0.0.1", ReservePort()); // nobody listens
        var inbox = new Inbox();
        b.Transport.Subscribe(Group(0), inbox.Add);
        a.Transport.Send(Group(0), Numbered(1, 2, 0));
        Assert.True(await WaitUntilAsync(() => inbox.Count == 1));
        for (int i = 0; i < 1000; i++)
        {
            a.Transport.Send(Group(0), Numbered(1, 3, i));
            a.Transport.Send(Group(0), Numbered(1, 9, i)); // no address at all
        }

        var sw = Stopwatch.StartNew();
        await a.DisposeAsync();
        Assert.True(sw.ElapsedMilliseconds < 1000, $"dispose took {sw.ElapsedMilliseconds} ms");
        long dropped = a.Transport.MessagesDropped;
        Assert.True(dropped >= 2000, $"dropped {dropped}");
        a.Transport.Send(Group(0), Numbered(1, 2, 1));
        Assert.Equal(dropped + 1, a.Transport.MessagesDropped);
        await a.Transport.DisposeAsync(); // idempotent
    }

    private static RaftEnvelopeRequest.RaftGroupMessage Message(TopicPartition group, byte[] payload) =>
        new() { GroupTopic = group.Topic, GroupPartition = group.Partition, Payload = payload };
}

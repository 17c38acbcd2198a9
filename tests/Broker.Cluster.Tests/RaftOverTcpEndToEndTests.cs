using Broker.Cluster.Transport;
using Broker.Consensus;
using Broker.Core.Model;
using Broker.Raft;
using Broker.Raft.Messages;
using static Broker.Cluster.Tests.ClusterTestKit;

namespace Broker.Cluster.Tests;

/// <summary>The real Raft core over the TCP transport: three nodes elect a leader and commit proposals.</summary>
public sealed class RaftOverTcpEndToEndTests
{
    private static readonly TopicPartition MetadataGroup = new("__cluster_metadata", 0);

    [Fact]
    public async Task Three_raft_nodes_over_tcp_elect_a_leader_and_commit_proposals_in_two_groups()
    {
        var directory = new PeerDirectory();
        await using var n1 = new TestNode(1, directory).StartListener();
        await using var n2 = new TestNode(2, directory).StartListener();
        await using var n3 = new TestNode(3, directory).StartListener();
        TestNode[] nodes = [n1, n2, n3];
        TopicPartition[] groups = [MetadataGroup, new("orders", 0)];
        var drivers = new List<RaftDriver>();
        try
        {
            foreach (TestNode n in nodes)
                foreach (TopicPartition g in groups)
                    drivers.Add(new RaftDriver(n.Id, [1, 2, 3], g, n.Transport));

            foreach (TopicPartition g in groups)
            {
                RaftDriver[] members = drivers.Where(d => d.Group == g).ToArray();
                Assert.True(await WaitUntilAsync(() => members.Count(d => d.IsLeader) == 1, 8000), $"{g} elects a leader");
                RaftDriver leader = members.Single(d => d.IsLeader);
                for (int i = 0; i < 5; i++) Assert.True(leader.Propose(new[] { (byte)i, (byte)g.Partition }), "leader accepts");

                byte[][] expected = Enumerable.Range(0, 5).Select(i => new[] { (byte)i, (byte)g.Partition }).ToArray();
                Assert.True(await WaitUntilAsync(() => members.All(d => d.AppliedPayloads().Length == 5), 5000),
                    $"{g}: every node applies the 5 proposals");
                foreach (RaftDriver d in members) Assert.Equal(expected, d.AppliedPayloads());
            }
        }
        finally
        {
            foreach (RaftDriver d in drivers) d.Dispose();
        }
        Assert.All(nodes, n => Assert.True(n.Transport.MessagesReceived > 0));
        Assert.All(nodes, n => Assert.Equal(0, n.Transport.InvalidMessages));
    }

    /// <summary>A minimal driver: a lock, a timer calling Tick, Step on receive, and a drain that persists
    /// nothing (the in-memory log is the "disk"), sends messages through the transport and records applied entries.</summary>
    private sealed class RaftDriver : IDisposable
    {
        private readonly object _lock = new();
        private readonly RaftNode _node;
        private readonly IRaftTransport _transport;
        private readonly IDisposable _subscription;
        private readonly Timer _timer;
        private readonly List<byte[]> _applied = new();
        private bool _disposed;

        public RaftDriver(int id, int[] voters, TopicPartition group, IRaftTransport transport)
        {
            Group = group;
            _transport = transport;
            _node = new RaftNode(new RaftConfig(id, voters) { ElectionTicks = 10, HeartbeatTicks = 1 },
                new InMemoryRaftLog(), HardState.Initial, null, new Random(id * 7919 + group.Partition));
            _subscription = transport.Subscribe(group, OnReceive);
            _timer = new Timer(_ => OnTick(), null, 20, 20);
        }

        public TopicPartition Group { get; }

        public bool IsLeader
        {
            get { lock (_lock) return _node.IsLeader; }
        }

        public bool Propose(byte[] payload)
        {
            lock (_lock)
            {
                bool accepted = _node.Propose(payload).Accepted;
                Drain();
                return accepted;
            }
        }

        public byte[][] AppliedPayloads()
        {
            lock (_lock) return _applied.ToArray();
        }

        private void OnReceive(RaftMessage message)
        {
            lock (_lock)
            {
                if (_disposed) return;
                _node.Step(message);
                Drain();
            }
        }

        private void OnTick()
        {
            lock (_lock)
            {
                if (_disposed) return;
                _node.Tick();
                Drain();
            }
        }

        private void Drain()
        {
            while (_node.HasReady)
            {
                RaftReady ready = _node.GetReady();
                foreach (RaftMessage m in ready.Messages) _transport.Send(Group, m);
                foreach (RaftEntry e in ready.CommittedEntries)
                    if (e.Payload.Length > 0) _applied.Add(e.Payload.ToArray());
            }
        }

        public void Dispose()
        {
            lock (_lock) _disposed = true;
            _timer.Dispose();
            _subscription.Dispose();
        }
    }
}

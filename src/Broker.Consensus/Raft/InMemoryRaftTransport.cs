using System.Collections.Concurrent;
using Broker.Core.Model;
using Broker.Raft.Messages;

namespace Broker.Consensus.Raft;

/// <summary>
/// An in-process network for Raft groups: every node gets an <see cref="InMemoryRaftTransport"/> endpoint from
/// <see cref="Endpoint"/>, and messages are routed to the endpoint of <see cref="RaftMessage.To"/> asynchronously on
/// the ThreadPool. Messages go through <see cref="RaftMessageCodec"/> (so no payload is shared between nodes).
/// Test controls: <see cref="Isolate"/>/<see cref="Heal"/> cut a node off, <see cref="DropRate"/> loses messages at
/// random, <see cref="Filter"/> decides per message. Used by tests and by a single-process cluster mode.
/// </summary>
public sealed class InMemoryRaftNetwork
{
    private readonly ConcurrentDictionary<(int Node, TopicPartition Group), Action<RaftMessage>> _receivers = new();
    private readonly ConcurrentDictionary<int, bool> _isolated = new();
    private readonly ConcurrentDictionary<int, InMemoryRaftTransport> _endpoints = new();
    private readonly Random _random;
    private long _delivered;
    private long _dropped;

    public InMemoryRaftNetwork(int seed = 1) => _random = new Random(seed);

    /// <summary>Probability in [0, 1] that a message is lost.</summary>
    public double DropRate { get; set; }
    /// <summary>When set, a message is delivered only if this returns true.</summary>
    public Func<TopicPartition, RaftMessage, bool>? Filter { get; set; }
    public long Delivered => Interlocked.Read(ref _delivered);
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>The transport node <paramref name="nodeId"/> uses (one per node, created on first use).</summary>
    public InMemoryRaftTransport Endpoint(int nodeId) => _endpoints.GetOrAdd(nodeId, id => new InMemoryRaftTransport(this, id));

    /// <summary>Cuts <paramref name="nodeId"/> off: nothing it sends or should receive is delivered until healed.</summary>
    public void Isolate(int nodeId) => _isolated[nodeId] = true;
    public void Heal(int nodeId) => _isolated.TryRemove(nodeId, out _);
    public void HealAll() => _isolated.Clear();
    public bool IsIsolated(int nodeId) => _isolated.ContainsKey(nodeId);

    internal void Subscribe(int node, TopicPartition group, Action<RaftMessage> receiver)
    {
        if (!_receivers.TryAdd((node, group), receiver))
            throw new InvalidOperationException($"node {node} already subscribed to {group}");
    }

    internal void Unsubscribe(int node, TopicPartition group, Action<RaftMessage> receiver) =>
        _receivers.TryRemove(new KeyValuePair<(int, TopicPartition), Action<RaftMessage>>((node, group), receiver));

    internal void Send(int from, TopicPartition group, RaftMessage message)
    {
        if (!ShouldDeliver(from, group, message))
        {
            Interlocked.Increment(ref _dropped);
            return;
        }
        byte[] encoded = RaftMessageCodec.Encode(message);
        ThreadPool.UnsafeQueueUserWorkItem(static state => state.Network.Deliver(state.Group, state.To, state.Bytes),
            (Network: this, Group: group, To: message.To, Bytes: encoded), preferLocal: false);
    }

    private bool ShouldDeliver(int from, TopicPartition group, RaftMessage message)
    {
        if (_isolated.ContainsKey(from) || _isolated.ContainsKey(message.To)) return false;
        double rate = DropRate;
        if (rate > 0)
        {
            lock (_random)
            {
                if (_random.NextDouble() < rate) return false;
            }
        }
        return Filter?.Invoke(group, message) ?? true;
    }

    private void Deliver(TopicPartition group, int to, byte[] encoded)
    {
        if (_isolated.ContainsKey(to) || !_receivers.TryGetValue((to, group), out var receiver))
        {
            Interlocked.Increment(ref _dropped);
            return;
        }
        RaftMessage message = RaftMessageCodec.Read(encoded);
        if (_isolated.ContainsKey(message.From))
        {
            Interlocked.Increment(ref _dropped);
            return;
        }
        Interlocked.Increment(ref _delivered);
        receiver(message);
    }
}

/// <summary>One node's view of an <see cref="InMemoryRaftNetwork"/>.</summary>
public sealed class InMemoryRaftTransport : IRaftTransport
{
    private readonly InMemoryRaftNetwork _network;

    internal InMemoryRaftTransport(InMemoryRaftNetwork network, int nodeId)
    {
        _network = network;
        NodeId = nodeId;
    }

    public int NodeId { get; }

    public void Send(TopicPartition group, RaftMessage message) => _network.Send(NodeId, group, message);

    public IDisposable Subscribe(TopicPartition group, Action<RaftMessage> receiver)
    {
        ArgumentNullException.ThrowIfNull(receiver);
        _network.Subscribe(NodeId, group, receiver);
        return new Subscription(_network, NodeId, group, receiver);
    }

    private sealed class Subscription(InMemoryRaftNetwork network, int node, TopicPartition group, Action<RaftMessage> receiver)
        : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0) network.Unsubscribe(node, group, receiver);
        }
    }
}

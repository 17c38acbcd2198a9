using System.Collections.Concurrent;
using Broker.Consensus;
using Broker.Core.Diagnostics;
using Broker.Core.Model;
using Broker.Protocol.Messages;
using Broker.Raft.Messages;

namespace Broker.Cluster.Transport;

/// <summary>
/// The inter-node <see cref="IRaftTransport"/> over TCP. Outbound: <see cref="Send"/> enqueues into a bounded queue
/// per destination node (full → the oldest message is dropped, never blocking), and one sender per peer keeps one
/// connection to the peer's controller listener, draining everything queued into ONE RaftEnvelope request per
/// write, so the heartbeats of every group two nodes share travel together. Envelopes are pipelined (bounded
/// in-flight) and acknowledged. Inbound: the controller listener's RaftEnvelope handler calls
/// <see cref="Deliver"/>, which decodes each message and hands it to its group's subscribed receiver.
/// Counters are plain totals since construction, safe to read from any thread.
/// </summary>
public sealed class RaftPeerTransport : IRaftTransport, IRaftEnvelopeSink, IAsyncDisposable
{
    private static readonly Logger Logger = Log.For("raft-transport");

    private readonly IPeerDirectory _directory;
    private readonly RaftTransportOptions _options;
    private readonly ConcurrentDictionary<int, PeerSender> _peers = new();
    private readonly ConcurrentDictionary<TopicPartition, Subscription> _receivers = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly object _peersLock = new();
    private volatile bool _disposed;

    private long _messagesSent, _messagesDropped, _messagesDroppedQueueFull, _envelopesSent, _envelopesAcked, _envelopesRejected;
    private long _connects, _connectFailures, _connectionsLost;
    private long _messagesReceived, _envelopesReceived, _unknownGroup, _invalid;

    public RaftPeerTransport(int localNodeId, IPeerDirectory directory, RaftTransportOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(directory);
        _options = options ?? new RaftTransportOptions();
        _options.Validate();
        LocalNodeId = localNodeId;
        _directory = directory;
    }

    public int LocalNodeId { get; }

    /// <summary>Messages written to a peer's socket inside an envelope.</summary>
    public long MessagesSent => Interlocked.Read(ref _messagesSent);
    /// <summary>Messages delivered to a subscribed receiver.</summary>
    public long MessagesReceived => Interlocked.Read(ref _messagesReceived);
    /// <summary>All messages not sent: queue overflow, lost with a broken connection, sent after dispose or to self.</summary>
    public long MessagesDropped => Interlocked.Read(ref _messagesDropped);
    /// <summary>The part of <see cref="MessagesDropped"/> evicted from a full per-peer queue.</summary>
    public long MessagesDroppedQueueFull => Interlocked.Read(ref _messagesDroppedQueueFull);
    public long EnvelopesSent => Interlocked.Read(ref _envelopesSent);
    public long EnvelopesAcked => Interlocked.Read(ref _envelopesAcked);
    /// <summary>Envelopes the peer acknowledged with a non-zero error code.</summary>
    public long EnvelopesRejected => Interlocked.Read(ref _envelopesRejected);
    public long EnvelopesReceived => Interlocked.Read(ref _envelopesReceived);
    /// <summary>Inbound messages for a group nobody here subscribed to (dropped).</summary>
    public long UnknownGroupMessages => Interlocked.Read(ref _unknownGroup);
    /// <summary>Inbound messages that did not decode or were misaddressed (dropped).</summary>
    public long InvalidMessages => Interlocked.Read(ref _invalid);
    /// <summary>Outbound connections established (the first one to each peer included).</summary>
    public long Connects => Interlocked.Read(ref _connects);
    public long ConnectFailures => Interlocked.Read(ref _connectFailures);
    /// <summary>Established connections that broke (peer closed, reset, timeout, bad response).</summary>
    public long ConnectionsLost => Interlocked.Read(ref _connectionsLost);

    /// <summary>Messages waiting in the queue for <paramref name="nodeId"/> (0 for an unknown peer).</summary>
    public int QueuedFor(int nodeId) => _peers.TryGetValue(nodeId, out PeerSender? p) ? p.QueuedCount : 0;

    internal RaftTransportOptions Options => _options;
    internal IPeerDirectory Directory => _directory;
    internal CancellationToken Stopping => _stopping.Token;

    public void Send(TopicPartition group, RaftMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (_disposed || message.To == LocalNodeId)
        {
            Interlocked.Increment(ref _messagesDropped);
            return;
        }
        if (!_peers.TryGetValue(message.To, out PeerSender? peer)) peer = AddPeer(message.To);
        if (peer is null)
        {
            Interlocked.Increment(ref _messagesDropped);
            return;
        }
        peer.Enqueue(new OutboundMessage(group, message));
    }

    private PeerSender? AddPeer(int nodeId)
    {
        lock (_peersLock)
        {
            if (_disposed) return null;
            if (_peers.TryGetValue(nodeId, out PeerSender? existing)) return existing;
            var peer = new PeerSender(this, nodeId);
            _peers[nodeId] = peer;
            peer.Start();
            return peer;
        }
    }

    public IDisposable Subscribe(TopicPartition group, Action<RaftMessage> receiver)
    {
        ArgumentNullException.ThrowIfNull(receiver);
        var subscription = new Subscription(this, group, receiver);
        if (!_receivers.TryAdd(group, subscription))
            throw new InvalidOperationException($"group {group} already has a receiver on node {LocalNodeId}");
        return subscription;
    }

    public RaftEnvelopeDelivery Deliver(RaftEnvelopeRequest envelope)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        Interlocked.Increment(ref _envelopesReceived);
        int delivered = 0, unknown = 0, invalid = 0;
        foreach (RaftEnvelopeRequest.RaftGroupMessage m in envelope.Messages)
        {
            RaftMessage message;
            try
            {
                message = RaftMessageCodec.Read(m.Payload);
            }
            catch (RaftCodecException ex)
            {
                invalid++;
                if (Logger.IsDebugEnabled) Logger.Debug($"node {envelope.SourceNodeId} sent an undecodable message for {m.GroupTopic}-{m.GroupPartition}: {ex.Message}");
                continue;
            }
            if (message.From != envelope.SourceNodeId || message.To != LocalNodeId)
            {
                invalid++;
                if (Logger.IsDebugEnabled) Logger.Debug($"misaddressed {message.Type} {message.From}->{message.To} in an envelope from node {envelope.SourceNodeId} to node {LocalNodeId}");
                continue;
            }
            if (!_receivers.TryGetValue(new TopicPartition(m.GroupTopic, m.GroupPartition), out Subscription? sub) || sub.IsDisposed)
            {
                unknown++;
                continue;
            }
            try
            {
                sub.Receiver(message);
                delivered++;
            }
            catch (Exception ex)
            {
                Logger.Error($"receiver of {sub.Group} failed on {message.Type} from node {message.From}", ex);
            }
        }
        if (delivered > 0) Interlocked.Add(ref _messagesReceived, delivered);
        if (unknown > 0) Interlocked.Add(ref _unknownGroup, unknown);
        if (invalid > 0)
        {
            Interlocked.Add(ref _invalid, invalid);
            Logger.Warn($"node {envelope.SourceNodeId} sent {invalid} invalid Raft message(s) in an envelope of {envelope.Messages.Count}");
        }
        return new RaftEnvelopeDelivery(delivered, unknown, invalid);
    }

    /// <summary>Stops every sender, closes outbound connections and drops what is still queued. Prompt: it does not
    /// wait for queued messages to be sent. Inbound delivery stops too (later envelopes find no receivers).</summary>
    public async ValueTask DisposeAsync()
    {
        PeerSender[] peers;
        lock (_peersLock)
        {
            if (_disposed) return;
            _disposed = true;
            peers = _peers.Values.ToArray();
        }
        _receivers.Clear();
        _stopping.Cancel();
        var tasks = new Task[peers.Length];
        for (int i = 0; i < peers.Length; i++) tasks[i] = peers[i].StopAsync();
        try
        {
            await Task.WhenAll(tasks).WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            Logger.Warn($"node {LocalNodeId}: Raft peer senders still stopping after 5 s");
        }
        _stopping.Dispose();
    }

    internal void CountDropped(int count, bool queueFull)
    {
        Interlocked.Add(ref _messagesDropped, count);
        if (queueFull) Interlocked.Add(ref _messagesDroppedQueueFull, count);
    }

    internal void CountSent(int messages)
    {
        Interlocked.Add(ref _messagesSent, messages);
        Interlocked.Increment(ref _envelopesSent);
    }

    internal void CountAck(short errorCode)
    {
        Interlocked.Increment(ref _envelopesAcked);
        if (errorCode != 0) Interlocked.Increment(ref _envelopesRejected);
    }

    internal void CountConnect(bool success) => Interlocked.Increment(ref success ? ref _connects : ref _connectFailures);

    internal void CountConnectionLost() => Interlocked.Increment(ref _connectionsLost);

    private sealed class Subscription(RaftPeerTransport owner, TopicPartition group, Action<RaftMessage> receiver) : IDisposable
    {
        private volatile bool _disposed;
        public TopicPartition Group { get; } = group;
        public Action<RaftMessage> Receiver { get; } = receiver;
        public bool IsDisposed => _disposed;

        public void Dispose()
        {
            if (_disposed) return;
            _disposed = true;
            owner._receivers.TryRemove(new KeyValuePair<TopicPartition, Subscription>(Group, this));
        }
    }
}

/// <summary>One queued outbound message and the group it belongs to.</summary>
internal readonly record struct OutboundMessage(TopicPartition Group, RaftMessage Message);

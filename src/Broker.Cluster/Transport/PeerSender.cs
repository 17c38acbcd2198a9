using System.Threading.Channels;
using Broker.Core.Diagnostics;
using Broker.Raft.Messages;

namespace Broker.Cluster.Transport;

/// <summary>
/// Everything the transport sends to one peer: the bounded drop-oldest queue and the sender loop, which connects
/// lazily (when there is something to send), reconnects with exponential backoff, and drains the whole queue into
/// one envelope per write (up to <see cref="RaftTransportOptions.MaxEnvelopeBytes"/>), pipelining envelopes on
/// the connection up to <see cref="RaftTransportOptions.MaxInFlightEnvelopes"/>.
/// </summary>
internal sealed class PeerSender
{
    private static readonly Logger Logger = Log.For("raft-transport");
    /// <summary>Envelope bytes per message besides its Raft payload: group name, partition, lengths, tag byte.</summary>
    private const int PerMessageOverhead = 16;

    private readonly RaftPeerTransport _owner;
    private readonly Channel<OutboundMessage> _queue;
    private readonly List<OutboundMessage> _batch = new();
    private readonly string _clientId;
    private Task _loop = Task.CompletedTask;
    private PeerConnection? _connection;
    private bool _failing;

    public PeerSender(RaftPeerTransport owner, int nodeId)
    {
        _owner = owner;
        NodeId = nodeId;
        _clientId = $"raft-{owner.LocalNodeId}";
        var options = new BoundedChannelOptions(owner.Options.QueueCapacityPerPeer)
        {
            FullMode = BoundedChannelFullMode.DropOldest,
            SingleReader = true,
            SingleWriter = false,
        };
        _queue = Channel.CreateBounded<OutboundMessage>(options, _ => owner.CountDropped(1, queueFull: true));
    }

    public int NodeId { get; }
    public int QueuedCount => _queue.Reader.Count;

    public void Start() => _loop = Task.Run(RunAsync);

    /// <summary>Never blocks: a full queue evicts its oldest message; a stopped sender drops the message.</summary>
    public void Enqueue(OutboundMessage message)
    {
        if (!_queue.Writer.TryWrite(message)) _owner.CountDropped(1, queueFull: false);
    }

    /// <summary>Called after the transport's stopping token was cancelled.</summary>
    public async Task StopAsync()
    {
        _queue.Writer.TryComplete();
        _connection?.Break(null);
        try
        {
            await _loop.ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            Logger.Error($"node {_owner.LocalNodeId}: sender to node {NodeId} failed", ex);
        }
    }

    private async Task RunAsync()
    {
        CancellationToken stopping = _owner.Stopping;
        RaftTransportOptions options = _owner.Options;
        TimeSpan backoff = options.InitialReconnectBackoff;
        try
        {
            while (!stopping.IsCancellationRequested)
            {
                if (!await _queue.Reader.WaitToReadAsync(stopping).ConfigureAwait(false)) break;
                if (_connection is null || _connection.IsBroken)
                {
                    _connection?.Dispose();
                    _connection = await ConnectAsync(stopping).ConfigureAwait(false);
                    if (_connection is null)
                    {
                        await Task.Delay(backoff, stopping).ConfigureAwait(false);
                        backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, options.MaxReconnectBackoff.Ticks));
                        continue;
                    }
                    backoff = options.InitialReconnectBackoff;
                }
                if (!await _connection.WaitForSlotAsync().ConfigureAwait(false)) continue; // broken: reconnect
                Drain(options.MaxEnvelopeBytes);
                if (_batch.Count == 0)
                {
                    _connection.ReleaseSlot();
                    continue;
                }
                if (await _connection.SendEnvelopeAsync(_batch).ConfigureAwait(false))
                {
                    _owner.CountSent(_batch.Count);
                }
                else
                {
                    _owner.CountDropped(_batch.Count, queueFull: false);
                }
                _batch.Clear();
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
        finally
        {
            _connection?.Dispose();
            _connection = null;
            int left = _batch.Count;
            _batch.Clear();
            while (_queue.Reader.TryRead(out _)) left++;
            if (left > 0) _owner.CountDropped(left, queueFull: false);
        }
    }

    /// <summary>Moves queued messages into <see cref="_batch"/> until the queue is empty or the envelope is full.</summary>
    private void Drain(int maxBytes)
    {
        long bytes = 0;
        while (_queue.Reader.TryPeek(out OutboundMessage next))
        {
            int size = RaftMessageCodec.GetEncodedSize(next.Message) + next.Group.Topic.Length + PerMessageOverhead;
            if (_batch.Count > 0 && bytes + size > maxBytes) break;
            if (!_queue.Reader.TryRead(out next)) break;
            _batch.Add(next);
            bytes += size;
        }
    }

    private async Task<PeerConnection?> ConnectAsync(CancellationToken stopping)
    {
        if (!_owner.Directory.TryGetAddress(NodeId, out PeerAddress address))
        {
            _owner.CountConnect(success: false);
            if (!_failing) Logger.Warn($"node {_owner.LocalNodeId}: no address known for node {NodeId}; queueing (bounded) and retrying");
            _failing = true;
            return null;
        }
        try
        {
            PeerConnection connection = await PeerConnection.ConnectAsync(_owner, NodeId, address, _clientId, stopping).ConfigureAwait(false);
            _owner.CountConnect(success: true);
            if (_failing || Logger.IsDebugEnabled) Logger.Info($"node {_owner.LocalNodeId}: connected to node {NodeId} at {address}");
            _failing = false;
            return connection;
        }
        catch (PeerConnectionException ex)
        {
            _owner.CountConnect(success: false);
            if (!_failing) Logger.Warn($"node {_owner.LocalNodeId}: {ex.Message}; retrying with backoff");
            else if (Logger.IsDebugEnabled) Logger.Debug($"node {_owner.LocalNodeId}: {ex.Message}");
            _failing = true;
            return null;
        }
    }
}

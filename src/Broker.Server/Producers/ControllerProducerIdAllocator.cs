using Broker.Core.Diagnostics;
using Broker.Core.Model;
using Broker.Metadata.Controller;
using Broker.Protocol.Codec;
using Broker.Protocol.Messages;
using Broker.Server.Lifecycle;

namespace Broker.Server.Producers;

/// <summary>
/// <see cref="IProducerIdAllocator"/> over the wire: sends AllocateProducerIds v0 to the active controller's
/// listener (also when that is this very node, as the broker lifecycle does) and maps the answer to a
/// <see cref="ProducerIdBlock"/>. Rules:
/// * No active controller known: NOT_CONTROLLER (the caller retries after a pause).
/// * A connection that fails or times out: NETWORK_EXCEPTION; the connection is dropped.
/// * NOT_CONTROLLER from the controller (leadership moved): the connection is dropped so the next call connects
///   to the controller then named.
/// * A success whose block is empty or negative is refused as UNKNOWN_SERVER_ERROR.
/// One connection, one call at a time; every connect and round trip is bounded.
/// </summary>
public sealed class ControllerProducerIdAllocator : IProducerIdAllocator, IDisposable
{
    private const short Version = 0;

    private readonly Func<(string Host, int Port)?> _activeController;
    private readonly TimeSpan _requestTimeout;
    private readonly TimeSpan _connectTimeout;
    private readonly string _clientId;
    private readonly Logger _logger;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private ControllerChannel? _channel;
    private (string Host, int Port) _channelTarget;
    private volatile bool _disposed;

    /// <param name="activeController">The active controller's listener endpoint; null while unknown.</param>
    /// <param name="requestTimeout">Bound on one round trip (default 10 s: the controller waits for a metadata commit).</param>
    /// <param name="connectTimeout">Bound on connecting (default 2 s).</param>
    public ControllerProducerIdAllocator(
        Func<(string Host, int Port)?> activeController,
        TimeSpan? requestTimeout = null,
        TimeSpan? connectTimeout = null,
        string? clientId = null,
        Logger? logger = null)
    {
        _activeController = activeController ?? throw new ArgumentNullException(nameof(activeController));
        _requestTimeout = requestTimeout ?? TimeSpan.FromSeconds(10);
        _connectTimeout = connectTimeout ?? TimeSpan.FromSeconds(2);
        if (_requestTimeout <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(requestTimeout));
        if (_connectTimeout <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(connectTimeout));
        _clientId = clientId ?? "producer-ids";
        _logger = logger ?? Log.For("producer-ids");
    }

    public async Task<ProducerIdBlock> AllocateAsync(int brokerId, long brokerEpoch, CancellationToken cancellationToken)
    {
        var target = _activeController();
        if (target is null) return new ProducerIdBlock(ErrorCode.NotController, -1, 0);

        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var channel = _channel;
            if (channel is null || _channelTarget != target.Value)
            {
                DropChannel();
                channel = await ControllerChannel.ConnectAsync(target.Value.Host, target.Value.Port, _clientId, _connectTimeout, cancellationToken)
                    .ConfigureAwait(false);
                _channel = channel;
                _channelTarget = target.Value;
                if (_disposed) DropChannel();
            }
            var request = new AllocateProducerIdsRequest { BrokerId = brokerId, BrokerEpoch = brokerEpoch };
            var response = await channel.SendAsync(ApiKey.AllocateProducerIds, Version, request,
                static (ref KafkaReader r, short v) => AllocateProducerIdsResponse.Read(ref r, v), _requestTimeout, cancellationToken)
                .ConfigureAwait(false);
            return ToBlock(response, target.Value);
        }
        catch (ControllerChannelException ex)
        {
            _logger.Debug($"AllocateProducerIds to {target.Value.Host}:{target.Value.Port} failed: {ex.Message}");
            DropChannel();
            return new ProducerIdBlock(ErrorCode.NetworkException, -1, 0);
        }
        catch
        {
            DropChannel(); // abandoned mid-request (cancelled): a response may still arrive on it
            throw;
        }
        finally { _gate.Release(); }
    }

    private ProducerIdBlock ToBlock(AllocateProducerIdsResponse response, (string Host, int Port) target)
    {
        var error = (ErrorCode)response.ErrorCode;
        if (error == ErrorCode.NotController) DropChannel();
        if (error != ErrorCode.None) return new ProducerIdBlock(error, -1, 0);
        if (response.ProducerIdStart < 0 || response.ProducerIdLen <= 0 || response.ProducerIdStart > long.MaxValue - response.ProducerIdLen)
        {
            _logger.Error($"the controller at {target.Host}:{target.Port} answered an invalid producer id block " +
                          $"(start {response.ProducerIdStart}, length {response.ProducerIdLen})");
            return new ProducerIdBlock(ErrorCode.UnknownServerError, -1, 0);
        }
        return new ProducerIdBlock(ErrorCode.None, response.ProducerIdStart, response.ProducerIdLen);
    }

    private void DropChannel() => Interlocked.Exchange(ref _channel, null)?.Dispose();

    /// <summary>Closes the connection; a call in flight fails with a connection error. Later calls throw.</summary>
    public void Dispose()
    {
        _disposed = true;
        DropChannel();
    }
}

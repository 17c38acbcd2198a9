using Broker.Core.Model;
using Broker.Protocol.Messages;

namespace Broker.Server.Lifecycle;

/// <summary>The background loop: connect, register, heartbeat, and what each answer means.</summary>
public sealed partial class BrokerLifecycleClient
{
    private async Task RunAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            TimeSpan pause;
            try
            {
                if (BrokerEpoch < 0 && _shutdownRequested)
                {
                    _logger.Info($"broker {_options.BrokerId}: shutdown requested while unregistered; stopping");
                    SetState(BrokerLifecycleState.Stopped);
                    return;
                }
                var channel = _channel ?? await ConnectAsync(cancellationToken).ConfigureAwait(false);
                if (channel is null) { pause = _options.RetryBackoff; }
                else if (BrokerEpoch < 0) pause = await RegisterAsync(channel, cancellationToken).ConfigureAwait(false);
                else pause = await HeartbeatAsync(channel, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested) { return; }
            catch (ControllerChannelException ex)
            {
                _logger.Warn($"broker {_options.BrokerId}: {ex.Message}");
                pause = MoveToNextController();
            }
            catch (Exception ex)
            {
                _logger.Error($"broker {_options.BrokerId}: lifecycle loop failed unexpectedly", ex);
                pause = MoveToNextController();
            }

            if (State == BrokerLifecycleState.ShouldShutDown) return; // the controller agreed: heartbeats stop
            if (pause <= TimeSpan.Zero) continue;
            try { await _wake.WaitAsync(pause, cancellationToken).ConfigureAwait(false); }
            catch (OperationCanceledException) { return; }
        }
    }

    /// <summary>Connects to the current endpoint; null (and the next endpoint selected) when that fails.</summary>
    private async Task<ControllerChannel?> ConnectAsync(CancellationToken cancellationToken)
    {
        var (host, port) = _endpoints[_endpointIndex];
        try
        {
            _channel = await ControllerChannel.ConnectAsync(host, port, _options.ClientId, _options.ConnectTimeout, cancellationToken).ConfigureAwait(false);
            return _channel;
        }
        catch (ControllerChannelException ex)
        {
            _logger.Warn($"broker {_options.BrokerId}: {ex.Message}");
            var pause = MoveToNextController();
            return pause > TimeSpan.Zero ? null : await ConnectAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Drops the connection and selects the next endpoint; returns the pause due (one per full round of failures).</summary>
    private TimeSpan MoveToNextController()
    {
        _channel?.Dispose();
        _channel = null;
        ControllerEndpoint = null;
        _endpointIndex = (_endpointIndex + 1) % _endpoints.Length;
        _failuresInRound++;
        if (_failuresInRound < _endpoints.Length) return TimeSpan.Zero;
        _failuresInRound = 0;
        return _options.RetryBackoff;
    }

    private async Task<TimeSpan> RegisterAsync(ControllerChannel channel, CancellationToken cancellationToken)
    {
        var request = new BrokerRegistrationRequest
        {
            BrokerId = _options.BrokerId,
            ClusterId = _options.ClusterId,
            IncarnationId = _options.IncarnationId,
            Rack = _options.Rack,
            Listeners = new List<BrokerRegistrationRequest.Listener>(_options.Listeners.Count),
            Features =
            [
                new BrokerRegistrationRequest.Feature
                {
                    Name = "metadata.version",
                    MinSupportedVersion = _options.MinMetadataVersion,
                    MaxSupportedVersion = _options.MaxMetadataVersion,
                },
            ],
        };
        foreach (var l in _options.Listeners)
            request.Listeners.Add(new BrokerRegistrationRequest.Listener { Name = l.Name, Host = l.Host, Port = checked((ushort)l.Port), SecurityProtocol = l.SecurityProtocol });

        var response = await channel.SendAsync(ApiKey.BrokerRegistration, RegistrationVersion, request, ReadRegistration,
            _options.RequestTimeout, cancellationToken).ConfigureAwait(false);
        var error = (ErrorCode)response.ErrorCode;
        LastError = error;
        if (error == ErrorCode.NotController)
        {
            _logger.Info($"broker {_options.BrokerId}: {channel.Endpoint} is not the active controller");
            return MoveToNextController();
        }
        if (error != ErrorCode.None)
        {
            _logger.Warn($"broker {_options.BrokerId}: registration with {channel.Endpoint} failed: {error}; retrying");
            return _options.RetryBackoff;
        }

        _failuresInRound = 0;
        ControllerEndpoint = channel.Endpoint;
        Interlocked.Exchange(ref _brokerEpoch, response.BrokerEpoch);
        _logger.Info($"broker {_options.BrokerId} registered with {channel.Endpoint}: epoch {response.BrokerEpoch}, incarnation {_options.IncarnationId}");
        SetState(BrokerLifecycleState.Fenced);
        return TimeSpan.Zero; // first heartbeat at once
    }

    private async Task<TimeSpan> HeartbeatAsync(ControllerChannel channel, CancellationToken cancellationToken)
    {
        bool wantShutDown = _shutdownRequested;
        var request = new BrokerHeartbeatRequest
        {
            BrokerId = _options.BrokerId,
            BrokerEpoch = BrokerEpoch,
            CurrentMetadataOffset = CurrentMetadataOffset(),
            WantFence = !ReadyToUnfence(),
            WantShutDown = wantShutDown,
        };
        var response = await channel.SendAsync(ApiKey.BrokerHeartbeat, HeartbeatVersion, request, ReadHeartbeat,
            _options.RequestTimeout, cancellationToken).ConfigureAwait(false);
        var error = (ErrorCode)response.ErrorCode;
        LastError = error;
        switch (error)
        {
            case ErrorCode.None:
                break;
            case ErrorCode.NotController:
                _logger.Info($"broker {_options.BrokerId}: {channel.Endpoint} is no longer the active controller");
                return MoveToNextController();
            case ErrorCode.StaleBrokerEpoch:
            case ErrorCode.BrokerIdNotRegistered:
                _logger.Warn($"broker {_options.BrokerId}: heartbeat with epoch {request.BrokerEpoch} refused ({error}); registering again");
                Interlocked.Exchange(ref _brokerEpoch, -1);
                SetState(BrokerLifecycleState.NotRegistered);
                return TimeSpan.Zero;
            default:
                _logger.Warn($"broker {_options.BrokerId}: heartbeat to {channel.Endpoint} failed: {error}");
                return _options.RetryBackoff;
        }

        _failuresInRound = 0;
        ControllerEndpoint = channel.Endpoint;
        IsCaughtUp = response.IsCaughtUp;
        if (response.ShouldShutDown)
        {
            SetState(BrokerLifecycleState.ShouldShutDown);
            return TimeSpan.Zero;
        }
        SetState(response.IsFenced ? BrokerLifecycleState.Fenced
            : wantShutDown ? BrokerLifecycleState.ControlledShutdown
            : BrokerLifecycleState.Active);
        // While fenced (catching up after registration) or shutting down, poll faster than the heartbeat interval so
        // the broker is unfenced, or the process let go, without waiting a whole interval.
        return wantShutDown || response.IsFenced ? Min(_options.HeartbeatInterval, FastPollInterval) : _options.HeartbeatInterval;
    }

    private static readonly TimeSpan FastPollInterval = TimeSpan.FromMilliseconds(50);

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;
}

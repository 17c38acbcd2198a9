using Broker.Core.Model;
using Broker.Metadata.Image;
using Broker.Metadata.Records;

namespace Broker.Metadata.Controller;

/// <summary>Broker registration, fencing and producer-id blocks.</summary>
public sealed partial class ClusterController
{
    /// <summary>
    /// Registers a broker process: writes a fenced RegisterBrokerRecord whose BrokerEpoch is the record's own
    /// offset, then, when <see cref="ControllerOptions.UnfenceOnRegistration"/> is set, an UnfenceBrokerRecord.
    /// Registering again with the same incarnation id is idempotent and returns the existing epoch.
    /// Rejecting a second live incarnation (DUPLICATE_BROKER_REGISTRATION) needs heartbeat sessions: callers that
    /// have them go through <see cref="BrokerHeartbeatManager.RegisterAsync"/>.
    /// </summary>
    public Task<BrokerRegistrationResult> RegisterBrokerAsync(
        int brokerId, Guid incarnationId, IReadOnlyList<BrokerEndpoint> endpoints, string? rack, CancellationToken cancellationToken = default) =>
        RegisterBrokerAsync(brokerId, incarnationId, endpoints, rack, _options.UnfenceOnRegistration, cancellationToken);

    /// <summary>
    /// As above, but <paramref name="unfence"/> decides whether the broker is unfenced at once (single node) or left
    /// fenced until its heartbeats show it caught up (Kafka's behaviour; <see cref="BrokerHeartbeatManager"/>).
    /// An idempotent re-registration (same incarnation) keeps the broker's current fencing when unfence is false.
    /// </summary>
    public async Task<BrokerRegistrationResult> RegisterBrokerAsync(
        int brokerId, Guid incarnationId, IReadOnlyList<BrokerEndpoint> endpoints, string? rack, bool unfence, CancellationToken cancellationToken = default)
    {
        var invalid = ValidateRegistration(brokerId, endpoints);
        if (invalid is not null) return new BrokerRegistrationResult(ErrorCode.InvalidRequest, invalid, -1);

        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var ready = await CatchUpAsync(cancellationToken).ConfigureAwait(false);
            if (!ready.IsSuccess) return new BrokerRegistrationResult(ready.Error, ready.Message, -1);
            var existing = _applier.Current.GetBroker(brokerId);
            long epoch;
            if (existing is not null && existing.IncarnationId == incarnationId)
            {
                epoch = existing.BrokerEpoch;
            }
            else
            {
                epoch = NextMetadataOffset;
                var endpointArray = new BrokerEndpoint[endpoints.Count];
                for (int i = 0; i < endpointArray.Length; i++) endpointArray[i] = endpoints[i];
                var register = new RegisterBrokerRecord(brokerId, incarnationId, epoch, endpointArray, rack, Fenced: true);
                var written = await CommitAsync([register], cancellationToken, expectedFirstOffset: epoch).ConfigureAwait(false);
                if (!written.IsSuccess) return new BrokerRegistrationResult(written.Error, written.Message, -1);
                _logger.Info($"registered broker {brokerId} (incarnation {incarnationId}) with epoch {epoch}");
            }

            if (unfence)
            {
                var unfenced = await SetFencedLockedAsync(brokerId, epoch, fenced: false, cancellationToken).ConfigureAwait(false);
                if (!unfenced.IsSuccess) return new BrokerRegistrationResult(unfenced.Error, unfenced.Message, -1);
            }
            return new BrokerRegistrationResult(ErrorCode.None, null, epoch);
        }
        finally { _writeLock.Release(); }
    }

    /// <summary>Unfences a registered broker (seam for heartbeat-driven unfencing once it caught up).</summary>
    public Task<ControllerResult> UnfenceBrokerAsync(int brokerId, long brokerEpoch, CancellationToken cancellationToken = default) =>
        SetFencedAsync(brokerId, brokerEpoch, fenced: false, cancellationToken);

    /// <summary>Fences a registered broker (seam for session expiry). Moving leadership away is not done yet.</summary>
    public Task<ControllerResult> FenceBrokerAsync(int brokerId, long brokerEpoch, CancellationToken cancellationToken = default) =>
        SetFencedAsync(brokerId, brokerEpoch, fenced: true, cancellationToken);

    /// <summary>
    /// Marks a registered broker as in controlled shutdown (BrokerRegistrationChangeRecord InControlledShutdown=1);
    /// does nothing when it already is. Used by <see cref="BrokerHeartbeatManager"/> on WantShutDown.
    /// </summary>
    public async Task<ControllerResult> BeginControlledShutdownAsync(int brokerId, long brokerEpoch, CancellationToken cancellationToken = default)
    {
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var ready = await CatchUpAsync(cancellationToken).ConfigureAwait(false);
            if (!ready.IsSuccess) return ready;
            var check = CheckEpoch(_applier.Current, brokerId, brokerEpoch, out var broker);
            if (!check.IsSuccess) return check;
            if (broker!.InControlledShutdown) return ControllerResult.Ok;
            var written = await CommitAsync([new BrokerRegistrationChangeRecord(brokerId, brokerEpoch, Fenced: 0, InControlledShutdown: 1)], cancellationToken).ConfigureAwait(false);
            if (written.IsSuccess) _logger.Info($"broker {brokerId} (epoch {brokerEpoch}) entered controlled shutdown");
            return written;
        }
        finally { _writeLock.Release(); }
    }

    /// <summary>
    /// Hands out the next <paramref name="blockSize"/> producer ids to a broker (ProducerIdsRecord).
    /// </summary>
    public async Task<ProducerIdBlock> AllocateProducerIdsAsync(int brokerId, long brokerEpoch, int blockSize = 1000, CancellationToken cancellationToken = default)
    {
        if (blockSize < 1) throw new ArgumentOutOfRangeException(nameof(blockSize));
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var ready = await CatchUpAsync(cancellationToken).ConfigureAwait(false);
            if (!ready.IsSuccess) return new ProducerIdBlock(ready.Error, -1, 0);
            var check = CheckEpoch(_applier.Current, brokerId, brokerEpoch, out _);
            if (!check.IsSuccess) return new ProducerIdBlock(check.Error, -1, 0);
            long first = _applier.Current.NextProducerId;
            var written = await CommitAsync([new ProducerIdsRecord(brokerId, brokerEpoch, first + blockSize)], cancellationToken).ConfigureAwait(false);
            return written.IsSuccess ? new ProducerIdBlock(ErrorCode.None, first, blockSize) : new ProducerIdBlock(written.Error, -1, 0);
        }
        finally { _writeLock.Release(); }
    }

    private async Task<ControllerResult> SetFencedAsync(int brokerId, long brokerEpoch, bool fenced, CancellationToken cancellationToken)
    {
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var ready = await CatchUpAsync(cancellationToken).ConfigureAwait(false);
            return ready.IsSuccess ? await SetFencedLockedAsync(brokerId, brokerEpoch, fenced, cancellationToken).ConfigureAwait(false) : ready;
        }
        finally { _writeLock.Release(); }
    }

    private async Task<ControllerResult> SetFencedLockedAsync(int brokerId, long brokerEpoch, bool fenced, CancellationToken cancellationToken)
    {
        var check = CheckEpoch(_applier.Current, brokerId, brokerEpoch, out var broker);
        if (!check.IsSuccess) return check;
        if (broker!.Fenced == fenced) return ControllerResult.Ok;
        MetadataRecord record = fenced ? new FenceBrokerRecord(brokerId, brokerEpoch) : new UnfenceBrokerRecord(brokerId, brokerEpoch);
        var written = await CommitAsync([record], cancellationToken).ConfigureAwait(false);
        if (written.IsSuccess) _logger.Info($"broker {brokerId} (epoch {brokerEpoch}) {(fenced ? "fenced" : "unfenced")}");
        return written;
    }

    private static ControllerResult CheckEpoch(MetadataImage image, int brokerId, long brokerEpoch, out BrokerRegistration? broker)
    {
        broker = image.GetBroker(brokerId);
        if (broker is null) return new(ErrorCode.BrokerIdNotRegistered, $"Broker {brokerId} is not registered.");
        if (broker.BrokerEpoch != brokerEpoch)
            return new(ErrorCode.StaleBrokerEpoch, $"Broker {brokerId} has epoch {broker.BrokerEpoch}, not {brokerEpoch}.");
        return ControllerResult.Ok;
    }

    private static string? ValidateRegistration(int brokerId, IReadOnlyList<BrokerEndpoint> endpoints)
    {
        if (brokerId < 0) return $"Invalid broker id {brokerId}.";
        if (endpoints is null || endpoints.Count == 0) return $"Broker {brokerId} registered no listener endpoints.";
        for (int i = 0; i < endpoints.Count; i++)
        {
            var e = endpoints[i];
            if (string.IsNullOrEmpty(e.Name) || e.Host is null || e.Port is < 0 or > 65535)
                return $"Broker {brokerId} endpoint {i} is invalid: {e}.";
            for (int j = 0; j < i; j++)
                if (endpoints[j].Name == e.Name) return $"Broker {brokerId} registered listener '{e.Name}' twice.";
        }
        return null;
    }
}

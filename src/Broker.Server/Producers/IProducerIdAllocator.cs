using Broker.Metadata.Controller;

namespace Broker.Server.Producers;

/// <summary>
/// Where a broker gets blocks of producer ids: the active controller (<see cref="ControllerProducerIdAllocator"/>),
/// or a fake in tests. A block is [<see cref="ProducerIdBlock.FirstProducerId"/>, + <see cref="ProducerIdBlock.Size"/>);
/// the controller never hands the same id out twice, whichever broker asks.
/// </summary>
public interface IProducerIdAllocator
{
    /// <summary>
    /// Asks for the next block for broker <paramref name="brokerId"/> registered with <paramref name="brokerEpoch"/>.
    /// Failures are answered as a block with an error (NOT_CONTROLLER, STALE_BROKER_EPOCH, a timeout, ...); an
    /// exception is treated the same way by the caller.
    /// </summary>
    Task<ProducerIdBlock> AllocateAsync(int brokerId, long brokerEpoch, CancellationToken cancellationToken);
}

// AllocateProducerIds (key 67): v0 (flexible), served on the controller listener only. A broker asks the active
// controller for a block of producer ids. Behaviour:
// * NOT_CONTROLLER when this node is not the active controller.
// * Otherwise ClusterController.AllocateProducerIdsAsync decides (a newly elected controller first waits for its
//   predecessors' entries to commit, so a block the previous controller handed out is never handed out again): BROKER_ID_NOT_REGISTERED, STALE_BROKER_EPOCH (the
//   epoch is not the broker's current registration), NOT_CONTROLLER (leadership lost meanwhile), REQUEST_TIMED_OUT
//   (the metadata commit timed out), or a block of ProducerIdManager.DefaultBlockSize (1000) ids written as a
//   ProducerIdsRecord: ProducerIdStart / ProducerIdLen.
// * Error responses carry ProducerIdStart -1 and ProducerIdLen 0. ThrottleTimeMs 0. The request is bounded by the
//   connection's lifetime; the controller's commit timeout applies.
using Broker.Core.Model;
using Broker.Metadata.Controller;
using Broker.Protocol.Codec;
using Broker.Protocol.Messages;
using Broker.Server.Pipeline;
using Broker.Server.Producers;

namespace Broker.Server.Handlers;

/// <param name="controller">This node's controller; null = NOT_CONTROLLER.</param>
public sealed class AllocateProducerIdsHandler(
    Func<ClusterController?> controller,
    int blockSize = ProducerIdManager.DefaultBlockSize) : KafkaHandler<AllocateProducerIdsRequest>
{
    private readonly int _blockSize = blockSize > 0 ? blockSize : throw new ArgumentOutOfRangeException(nameof(blockSize));

    public override ApiKey Key => ApiKey.AllocateProducerIds;
    public override short MinVersion => 0;
    public override short MaxVersion => 0;

    protected override AllocateProducerIdsRequest Parse(ref KafkaReader reader, short version) =>
        AllocateProducerIdsRequest.Read(ref reader, version);

    protected override async ValueTask<IKafkaMessage?> Handle(RequestContext context, AllocateProducerIdsRequest request)
    {
        var active = controller();
        if (active is null || !active.IsActive) return Failed(ErrorCode.NotController);

        var block = await active.AllocateProducerIdsAsync(request.BrokerId, request.BrokerEpoch, _blockSize, context.Connection.Closed)
            .ConfigureAwait(false);
        if (block.Error != ErrorCode.None) return Failed(block.Error);
        return new AllocateProducerIdsResponse { ProducerIdStart = block.FirstProducerId, ProducerIdLen = block.Size };
    }

    private static AllocateProducerIdsResponse Failed(ErrorCode error) =>
        new() { ErrorCode = (short)error, ProducerIdStart = -1, ProducerIdLen = 0 };
}

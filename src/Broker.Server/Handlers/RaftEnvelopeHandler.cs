// RaftEnvelope (key 120): v0 only. A PRIVATE API of this broker, not an Apache Kafka key; register it on the
// controller listener only (never on client listeners, whose ApiVersions must list Kafka APIs alone).
// Behaviour:
// * One request carries every Raft message the source node had queued for this node, for all groups
//   (partitions and the metadata log); they are handed to the Raft transport (IRaftEnvelopeSink.Deliver)
//   synchronously, in order, before the response is produced, so per-connection order is delivery order.
// * ErrorCode 0 acknowledges the envelope. INVALID_REQUEST when some payloads did not decode or were misaddressed
//   (From != SourceNodeId or To != this node); the good messages of the envelope are still delivered.
//   Messages for a group this node does not host are dropped and counted, not an error (groups come and go).
// * The response is only an ack: Raft replies travel as Raft messages in the other direction.
// * A malformed envelope (bad framing of the Kafka structure itself) closes the connection, as for any API.
using Broker.Cluster.Transport;
using Broker.Core.Model;
using Broker.Protocol.Codec;
using Broker.Protocol.Messages;
using Broker.Server.Pipeline;

namespace Broker.Server.Handlers;

public sealed class RaftEnvelopeHandler(IRaftEnvelopeSink sink) : KafkaHandler<RaftEnvelopeRequest>
{
    public override ApiKey Key => ApiKey.RaftEnvelope;
    public override short MinVersion => 0;
    public override short MaxVersion => 0;

    protected override RaftEnvelopeRequest Parse(ref KafkaReader reader, short version) => RaftEnvelopeRequest.Read(ref reader, version);

    protected override ValueTask<IKafkaMessage?> Handle(RequestContext context, RaftEnvelopeRequest request)
    {
        RaftEnvelopeDelivery delivery = sink.Deliver(request);
        var error = delivery.HasInvalid ? ErrorCode.InvalidRequest : ErrorCode.None;
        return new(new RaftEnvelopeResponse { ErrorCode = (short)error });
    }
}

using Broker.Core.Buffers;
using Broker.Protocol.Codec;
using Broker.Protocol.Messages;
using Broker.Raft.Messages;

namespace Broker.Cluster.Transport;

/// <summary>
/// Writes a complete, size-prefixed RaftEnvelope v0 request frame straight from queued messages: each Raft message
/// is encoded by <see cref="RaftMessageCodec.Write"/> directly into the output buffer, so no per-message byte[]
/// is allocated. The layout is exactly what <see cref="RaftEnvelopeRequest.Write"/> produces.
/// </summary>
internal static class RaftEnvelopeEncoder
{
    private const short Version = 0;

    public static ChunkedBufferWriter Encode(int sourceNodeId, int correlationId, string clientId, List<OutboundMessage> batch)
    {
        var output = new ChunkedBufferWriter(EstimateSize(batch));
        try
        {
            var writer = new KafkaWriter(output);
            new RequestHeader(RaftEnvelopeRequest.ApiKey, Version, correlationId, clientId).Write(ref writer);
            writer.WriteInt32(sourceNodeId);
            writer.WriteArrayLength(batch.Count, flexible: true);
            for (int i = 0; i < batch.Count; i++)
            {
                OutboundMessage m = batch[i];
                writer.WriteString(m.Group.Topic, flexible: true);
                writer.WriteInt32(m.Group.Partition);
                int size = RaftMessageCodec.GetEncodedSize(m.Message);
                writer.WriteUnsignedVarint((uint)size + 1);
                int written = RaftMessageCodec.Write(m.Message, output.GetSpan(size));
                output.Advance(written);
                writer.WriteEmptyTaggedFields();
            }
            writer.WriteEmptyTaggedFields();
            output.WriteSizePrefix();
            return output;
        }
        catch
        {
            output.Dispose();
            throw;
        }
    }

    private static int EstimateSize(List<OutboundMessage> batch)
    {
        long size = 64;
        for (int i = 0; i < batch.Count; i++)
            size += RaftMessageCodec.GetEncodedSize(batch[i].Message) + batch[i].Group.Topic.Length * 3 + 16;
        return (int)Math.Min(size, 1024 * 1024);
    }
}

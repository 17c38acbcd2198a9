using Broker.Protocol.Messages;

namespace Broker.Cluster.Transport;

/// <summary>
/// The inbound side of the Raft transport as the controller listener's RaftEnvelope handler sees it: hand over a
/// decoded envelope, get counts back. Implemented by <see cref="RaftPeerTransport"/>.
/// </summary>
public interface IRaftEnvelopeSink
{
    /// <summary>Decodes every message of <paramref name="envelope"/> and hands each to its group's receiver, on the
    /// calling thread, in envelope order. Bad messages are counted and skipped; the good ones are still delivered.</summary>
    RaftEnvelopeDelivery Deliver(RaftEnvelopeRequest envelope);
}

/// <summary>What became of an envelope's messages. <see cref="Invalid"/> counts payloads that did not decode or
/// were not addressed from the envelope's source to this node; unknown groups are not an error of the sender.</summary>
public readonly record struct RaftEnvelopeDelivery(int Delivered, int UnknownGroup, int Invalid)
{
    public bool HasInvalid => Invalid > 0;
}

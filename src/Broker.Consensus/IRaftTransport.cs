using Broker.Core.Model;

using Broker.Raft.Messages;

namespace Broker.Consensus;

/// <summary>
/// Carries Raft messages between nodes for many groups (one group per partition, plus the metadata log). Owned by
/// the consensus layer, implemented over TCP by the cluster layer and in memory by tests.
/// Raft tolerates loss, duplication and reordering, so sending is fire-and-forget: an implementation may drop
/// messages (e.g. while a peer is unreachable) but must never block the caller.
/// </summary>
public interface IRaftTransport
{
    /// <summary>Queues <paramref name="message"/> for node <see cref="RaftMessage.To"/> as part of <paramref name="group"/>.</summary>
    void Send(TopicPartition group, RaftMessage message);

    /// <summary>
    /// Delivers messages of <paramref name="group"/> that arrive from peers to <paramref name="receiver"/>, on a
    /// transport thread: receivers must only enqueue. Disposing the result stops delivery.
    /// </summary>
    IDisposable Subscribe(TopicPartition group, Action<RaftMessage> receiver);
}

using Broker.Raft.Messages;

namespace Broker.Raft;

/// <summary>
/// Everything a <see cref="RaftNode"/> produced since the last drain, handled by the driver in this order:
/// 1. persist <see cref="HardState"/> (when not null) and make log writes since <see cref="LogWrittenFrom"/>
///    durable, and persist <see cref="Snapshot"/> (when not null);
/// 2. send <see cref="Messages"/>;
/// 3. restore the state machine from <see cref="Snapshot"/> (when not null), then apply
///    <see cref="CommittedEntries"/> in order.
/// </summary>
public sealed class RaftReady
{
    public HardState? HardState { get; internal set; }
    /// <summary>Lowest offset written (appended or truncated) to the log since the last drain; -1 when unchanged.</summary>
    public long LogWrittenFrom { get; internal set; } = -1;
    public List<RaftMessage> Messages { get; } = new();
    public List<RaftEntry> CommittedEntries { get; } = new();
    /// <summary>A snapshot received from the leader, to persist and install (the log now starts after it).</summary>
    public RaftSnapshot? Snapshot { get; internal set; }

    public bool IsEmpty => HardState is null && LogWrittenFrom < 0 && Messages.Count == 0
                           && CommittedEntries.Count == 0 && Snapshot is null;
}

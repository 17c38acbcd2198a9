namespace Broker.Raft;

/// <summary>
/// The Raft log as the core sees it: entries with a term and a dense offset range. Offsets start at 0; after a
/// snapshot the log starts right after the snapshot's last offset, whose term stays known (<see cref="BaseTerm"/>)
/// so log matching works at the boundary. The core writes through this interface; the driver makes writes
/// durable before sending the messages of the same <see cref="RaftReady"/>.
/// </summary>
public interface IRaftLog
{
    /// <summary>First offset held; equals <see cref="LogEndOffset"/> when the log is empty.</summary>
    long StartOffset { get; }
    /// <summary>Next offset to be assigned (last offset + 1).</summary>
    long LogEndOffset { get; }
    /// <summary>Term of offset StartOffset - 1 (the last offset covered by the snapshot), 0 when none.</summary>
    long BaseTerm { get; }

    /// <summary>Term of the entry holding <paramref name="offset"/>, for offsets in [StartOffset - 1, LogEndOffset - 1].</summary>
    long TermAt(long offset);
    /// <summary>First offset of the entry holding <paramref name="offset"/> (in [StartOffset, LogEndOffset - 1]).</summary>
    long EntryStart(long offset);
    /// <summary>Appends an entry whose first offset must be <see cref="LogEndOffset"/>.</summary>
    void Append(in RaftEntry entry);
    /// <summary>Adds to <paramref name="into"/> up to <paramref name="maxEntries"/> entries starting with the entry
    /// whose first offset is <paramref name="fromOffset"/>; returns how many were added.</summary>
    int Read(long fromOffset, int maxEntries, List<RaftEntry> into);
    /// <summary>Removes every entry from <paramref name="fromOffset"/> (an entry start) to the end.</summary>
    void TruncateSuffix(long fromOffset);
    /// <summary>Removes entries whose last offset is &lt;= <paramref name="upToOffset"/> (an entry end).</summary>
    void CompactPrefix(long upToOffset);
    /// <summary>Discards the whole log: it becomes empty and starts at <paramref name="snapshotOffset"/> + 1.</summary>
    void ResetToSnapshot(long snapshotOffset, long snapshotTerm);
}

public static class RaftLogExtensions
{
    public static long LastOffset(this IRaftLog log) => log.LogEndOffset - 1;
    public static long LastTerm(this IRaftLog log) => log.TermAt(log.LogEndOffset - 1);
}

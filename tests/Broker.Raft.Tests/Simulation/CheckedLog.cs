namespace Broker.Raft.Tests.Simulation;

/// <summary>An <see cref="InMemoryRaftLog"/> that reports every truncation to the checker before doing it: a node
/// must never truncate an entry that is committed (by any node), nor below its own commit.</summary>
public sealed class CheckedLog(SimChecker checker, int nodeId, Func<long> commitOf) : IRaftLog
{
    private readonly InMemoryRaftLog _inner = new();

    public long StartOffset => _inner.StartOffset;
    public long LogEndOffset => _inner.LogEndOffset;
    public long BaseTerm => _inner.BaseTerm;
    public long TermAt(long offset) => _inner.TermAt(offset);
    public long EntryStart(long offset) => _inner.EntryStart(offset);
    public void Append(in RaftEntry entry) => _inner.Append(entry);
    public int Read(long fromOffset, int maxEntries, List<RaftEntry> into) => _inner.Read(fromOffset, maxEntries, into);
    public void CompactPrefix(long upToOffset) => _inner.CompactPrefix(upToOffset);
    public void ResetToSnapshot(long snapshotOffset, long snapshotTerm) => _inner.ResetToSnapshot(snapshotOffset, snapshotTerm);

    public void TruncateSuffix(long fromOffset)
    {
        if (fromOffset < _inner.LogEndOffset)
        {
            if (fromOffset <= commitOf())
                throw new SimViolation($"node {nodeId} truncates at {fromOffset} at or below its commit {commitOf()}");
            checker.CheckTruncation(nodeId, fromOffset, _inner.TermAt(fromOffset));
        }
        _inner.TruncateSuffix(fromOffset);
    }
}

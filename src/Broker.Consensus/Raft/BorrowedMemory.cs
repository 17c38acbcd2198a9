using System.Buffers;

namespace Broker.Consensus.Raft;

/// <summary>
/// A <see cref="Memory{T}"/> over bytes the caller has pinned for the duration of one synchronous call, so a
/// produce request's batches can be proposed to Raft as they are instead of being copied first. Only valid while
/// the caller's <c>fixed</c> block runs: the Raft entry it backs is written to the partition log inside
/// <see cref="Broker.Raft.RaftNode.Propose"/> (PartitionRaftLog never keeps a payload; followers are sent copies read
/// back from the log). One instance per group, used under the group's lock, so proposing allocates nothing.
/// </summary>
internal sealed unsafe class BorrowedMemory : MemoryManager<byte>
{
    private byte* _pointer;
    private int _length;

    /// <summary>Points this instance at <paramref name="length"/> pinned bytes; returns the memory over them.</summary>
    public Memory<byte> Lend(byte* pointer, int length)
    {
        _pointer = pointer;
        _length = length;
        return Memory;
    }

    /// <summary>Forgets the pointer once the call that pinned it returns (later use reads nothing).</summary>
    public void Return()
    {
        _pointer = null;
        _length = 0;
    }

    public override Span<byte> GetSpan() =>
        _pointer == null ? throw new ObjectDisposedException(nameof(BorrowedMemory), "borrowed bytes used after the call that lent them")
            : new Span<byte>(_pointer, _length);

    public override MemoryHandle Pin(int elementIndex = 0) => new(_pointer + elementIndex);

    public override void Unpin() { }

    protected override void Dispose(bool disposing) => Return();
}

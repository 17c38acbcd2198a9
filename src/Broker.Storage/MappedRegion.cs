using System.Buffers;
using System.IO.MemoryMappedFiles;
using Microsoft.Win32.SafeHandles;

namespace Broker.Storage;

/// <summary>
/// A read-only, reference-counted memory mapping of the first <see cref="Capacity"/> bytes of a segment file.
/// The pointer is acquired once when mapped and released when the last reference goes. The creator holds the first
/// reference; every reader takes one with <see cref="TryAddRef"/> and gives it back with <see cref="Dispose"/>, which
/// makes the region itself the lease handed out in <see cref="LogReadResult"/> (no allocation per read).
/// Writes never go through the mapping (they use pwrite, so a full disk is an IOException and not a SIGBUS); the
/// mapping is MAP_SHARED, so it sees them at once through the page cache.
/// </summary>
internal sealed unsafe class MappedRegion : IDisposable
{
    private readonly MemoryMappedViewAccessor _view;
    private readonly byte* _pointer;
    private readonly Manager _manager;
    private int _refCount = 1;

    private MappedRegion(MemoryMappedViewAccessor view, byte* pointer, int capacity)
    {
        _view = view;
        _pointer = pointer;
        Capacity = capacity;
        _manager = new Manager(this);
    }

    /// <summary>Number of mapped bytes (the file must be at least this long while mapped bytes are read).</summary>
    public int Capacity { get; }

    /// <summary>The whole mapping as memory; callers slice it. Valid while they hold a reference.</summary>
    public ReadOnlyMemory<byte> Memory => _manager.Memory;

    public ReadOnlySpan<byte> Span => new(_pointer, Capacity);

    /// <summary>Maps the first <paramref name="capacity"/> bytes of the file (which must be at least that long).</summary>
    public static MappedRegion Map(SafeFileHandle file, int capacity)
    {
        if (capacity <= 0) throw new ArgumentOutOfRangeException(nameof(capacity), "cannot map an empty region");
        // Read-only maps must be created at exactly the file's length (capacity 0); the view then takes a prefix.
        // The view keeps its own reference to the file (mmap holds the inode), so the MemoryMappedFile object and
        // the handle can be closed while the view lives on.
        using var mmf = MemoryMappedFile.CreateFromFile(file, null, 0, MemoryMappedFileAccess.Read,
            HandleInheritability.None, leaveOpen: true);
        var view = mmf.CreateViewAccessor(0, capacity, MemoryMappedFileAccess.Read);
        byte* p = null;
        try
        {
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
        }
        catch
        {
            view.Dispose();
            throw;
        }
        return new MappedRegion(view, p + view.PointerOffset, capacity);
    }

    /// <summary>Takes a reference unless the region is already unmapped (count reached zero).</summary>
    public bool TryAddRef()
    {
        int current = Volatile.Read(ref _refCount);
        while (current > 0)
        {
            int seen = Interlocked.CompareExchange(ref _refCount, current + 1, current);
            if (seen == current) return true;
            current = seen;
        }
        return false;
    }

    /// <summary>Releases one reference; the mapping goes away with the last one.</summary>
    public void Dispose()
    {
        int left = Interlocked.Decrement(ref _refCount);
        if (left > 0) return;
        if (left < 0)
        {
            // A lease disposed twice: keep the count pinned at zero and do not unmap a second time.
            Interlocked.Exchange(ref _refCount, 0);
            return;
        }
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
    }

    /// <summary>Exposes the mapped bytes as Memory&lt;byte&gt;. Lifetime is the region's reference count, not Pin().</summary>
    private sealed class Manager(MappedRegion owner) : MemoryManager<byte>
    {
        public override Span<byte> GetSpan() => new(owner._pointer, owner.Capacity);

        public override MemoryHandle Pin(int elementIndex = 0)
        {
            if ((uint)elementIndex > (uint)owner.Capacity) throw new ArgumentOutOfRangeException(nameof(elementIndex));
            return new MemoryHandle(owner._pointer + elementIndex);
        }

        public override void Unpin() { }

        protected override void Dispose(bool disposing) { }
    }
}

using System.Buffers;
using System.IO.MemoryMappedFiles;
using Broker.Core.Buffers;
using Microsoft.Win32.SafeHandles;

namespace Broker.Storage;

/// <summary>
/// A read-only, reference-counted memory mapping of the first <see cref="Capacity"/> bytes of a segment file.
/// The pointer is acquired once when mapped and released when the last reference goes. The creator holds the first
/// reference; every reader takes one with <see cref="TryAddRef"/> and gives it back with <see cref="Dispose"/>, which
/// makes the region itself the lease handed out in <see cref="LogReadResult"/> (no allocation per read).
/// Writes never go through the mapping (they use pwrite, so a full disk is an IOException and not a SIGBUS); the
/// mapping is MAP_SHARED, so it sees them at once through the page cache.
/// The region's memory is also <see cref="IFileBackedMemory"/>: once a reader has told it the file's path
/// (<see cref="NoteFilePath"/>), a plaintext connection can send its bytes with sendfile(2) from a read-only handle the
/// region opens on first use (checked to be the mapped file: same device and inode) and closes with the mapping.
/// </summary>
internal sealed unsafe class MappedRegion : IDisposable
{
    private readonly MemoryMappedViewAccessor _view;
    private readonly byte* _pointer;
    private readonly Manager _manager;
    private int _refCount = 1;
    /// <summary>Device and inode of the mapped file (none when fstat is unavailable: no sendfile then).</summary>
    private readonly FileIdentity _identity;
    private string? _filePath;
    /// <summary>The sendfile handle, opened on first use; <see cref="FileUnavailable"/> once opening failed.</summary>
    private SafeFileHandle? _file;
    private static readonly SafeFileHandle FileUnavailable = new(IntPtr.Zero, ownsHandle: false);

    private MappedRegion(MemoryMappedViewAccessor view, byte* pointer, int capacity, FileIdentity identity)
    {
        _view = view;
        _pointer = pointer;
        Capacity = capacity;
        _identity = identity;
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
        return new MappedRegion(view, p + view.PointerOffset, capacity, FileIdentity.Of(file));
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
        CloseFileHandle();
    }

    /// <summary>Where the mapped file lives (the segment's path): enables <see cref="TryGetFileHandle"/>. Idempotent.</summary>
    public void NoteFilePath(string path)
    {
        if (_filePath is null) Volatile.Write(ref _filePath, path);
    }

    /// <summary>
    /// The read-only sendfile handle of the mapped file (see <see cref="IFileBackedMemory"/>): opened by path on first
    /// use and kept only when it is the same file (a deleted or replaced segment file gives null, for good). Callers
    /// hold a reference, so the handle cannot be closed under them.
    /// </summary>
    public SafeFileHandle? TryGetFileHandle()
    {
        SafeFileHandle? current = Volatile.Read(ref _file);
        if (current is not null) return ReferenceEquals(current, FileUnavailable) ? null : current;
        string? path = Volatile.Read(ref _filePath);
        if (path is null || !_identity.IsKnown) return null;
        SafeFileHandle? opened = null;
        try
        {
            opened = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            if (!_identity.Equals(FileIdentity.Of(opened)))
            {
                opened.Dispose(); // the path names another file now (replaced by compaction, or recreated)
                opened = null;
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            opened?.Dispose();
            opened = null; // deleted by retention meanwhile: the mapping still has the bytes
        }
        SafeFileHandle next = opened ?? FileUnavailable;
        current = Interlocked.CompareExchange(ref _file, next, null);
        if (current is null) return opened;
        opened?.Dispose(); // another reader won the race
        return ReferenceEquals(current, FileUnavailable) ? null : current;
    }

    /// <summary>Called with the last reference: nobody can be using the handle any more.</summary>
    private void CloseFileHandle()
    {
        SafeFileHandle? file = Interlocked.Exchange(ref _file, FileUnavailable);
        if (file is not null && !ReferenceEquals(file, FileUnavailable)) file.Dispose();
    }

    /// <summary>
    /// Exposes the mapped bytes as Memory&lt;byte&gt;. Lifetime is the region's reference count, not Pin(). As
    /// <see cref="IFileBackedMemory"/> it hands out the mapped file for sendfile.
    /// </summary>
    private sealed class Manager(MappedRegion owner) : MemoryManager<byte>, IFileBackedMemory
    {
        public SafeFileHandle? TryGetFileHandle() => owner.TryGetFileHandle();

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

/// <summary>A file's device and inode number, read with fstat(2): tells whether two handles name the same file.</summary>
internal readonly partial struct FileIdentity : IEquatable<FileIdentity>
{
    private readonly ulong _device;
    private readonly ulong _inode;

    private FileIdentity(ulong device, ulong inode)
    {
        _device = device;
        _inode = inode;
    }

    /// <summary>False when the identity could not be read (not Linux, or fstat failed).</summary>
    public bool IsKnown => _inode != 0;

    public static unsafe FileIdentity Of(SafeFileHandle file)
    {
        if (!OperatingSystem.IsLinux()) return default;
        // struct stat starts with st_dev and st_ino (two 64-bit fields) on x86-64 and arm64 alike; 256 bytes cover it.
        byte* stat = stackalloc byte[256];
        bool added = false;
        try
        {
            file.DangerousAddRef(ref added);
            if (FStat((int)file.DangerousGetHandle(), stat) != 0) return default;
        }
        catch (Exception ex) when (ex is EntryPointNotFoundException or DllNotFoundException or ObjectDisposedException)
        {
            return default; // a libc without fstat (glibc < 2.33) or a closed handle: no sendfile, mapping only
        }
        finally
        {
            if (added) file.DangerousRelease();
        }
        return new FileIdentity(((ulong*)stat)[0], ((ulong*)stat)[1]);
    }

    public bool Equals(FileIdentity other) => IsKnown && _device == other._device && _inode == other._inode;

    public override bool Equals(object? obj) => obj is FileIdentity other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(_device, _inode);

    [System.Runtime.InteropServices.LibraryImport("libc.so.6", EntryPoint = "fstat")]
    private static unsafe partial int FStat(int fd, byte* stat);
}

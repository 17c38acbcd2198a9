using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Broker.Core.Buffers;

/// <summary>
/// Implemented by the <see cref="MemoryManager{T}"/> of external memory that is a read-only mapping of a file, from the
/// file's first byte (index i of the memory = byte i of the file). It lets a plaintext connection send such a chunk
/// with sendfile(2) from the file's page cache instead of through the mapped pages (see
/// <see cref="ChunkedBufferWriter.TryGetFileBacking"/>).
/// </summary>
public interface IFileBackedMemory
{
    /// <summary>
    /// A read-only handle of the very file that is mapped (opened on first use, then cached and closed with the
    /// mapping), or null when it cannot be had (the file was deleted or replaced since it was mapped, or the platform
    /// cannot tell): then send the memory itself. Call only while holding the lease that keeps the mapping alive;
    /// the handle is valid as long as that lease is held.
    /// </summary>
    SafeFileHandle? TryGetFileHandle();
}

/// <summary>
/// An output buffer made of chunks: pooled segments the writer fills, interleaved with external read-only
/// memory (for example record batches in a memory-mapped segment) that is referenced, not copied. An external chunk
/// whose memory is <see cref="IFileBackedMemory"/> is a file region as well (<see cref="TryGetFileBacking"/>): the
/// network layer may send it from the file instead of from memory.
/// The network layer sends the chunks in order; <see cref="Dispose"/> returns pooled segments and releases
/// the leases that keep external memory alive.
/// The first 4 bytes are reserved for the Kafka size prefix, filled in by <see cref="WriteSizePrefix"/>.
/// Not thread-safe: one writer, then one sender.
/// </summary>
public sealed class ChunkedBufferWriter : IBufferWriter<byte>, IDisposable
{
    /// <summary>External memory shorter than this is copied: a separate send would cost more than the copy.</summary>
    public const int MinExternalChunk = 512;
    private const int DefaultSegmentSize = 16 * 1024;

    private readonly List<ReadOnlyMemory<byte>> _chunks = new(4);
    private readonly List<byte[]> _rented = new(2);
    private readonly List<IDisposable> _leases = new();
    private byte[] _current;
    private int _currentStart;   // where the open chunk begins inside _current
    private int _written;        // bytes used in _current
    private long _length;        // total bytes including finished chunks

    public ChunkedBufferWriter(int initialSize = DefaultSegmentSize)
    {
        _current = ArrayPool<byte>.Shared.Rent(Math.Max(initialSize, 64));
        _rented.Add(_current);
        _written = 4; // size prefix
        _length = 4;
    }

    /// <summary>Total length in bytes, size prefix included.</summary>
    public long Length => _length;

    public void Advance(int count)
    {
        if (count < 0 || _written + count > _current.Length) throw new ArgumentOutOfRangeException(nameof(count));
        _written += count;
        _length += count;
    }

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _current.AsMemory(_written);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _current.AsSpan(_written);
    }

    public void Write(ReadOnlySpan<byte> bytes)
    {
        while (bytes.Length > 0)
        {
            var span = GetSpan(1);
            int n = Math.Min(span.Length, bytes.Length);
            bytes[..n].CopyTo(span);
            Advance(n);
            bytes = bytes[n..];
        }
    }

    /// <summary>
    /// Appends <paramref name="memory"/> by reference (copied when small). <paramref name="lease"/>, if given,
    /// is disposed when this writer is disposed, i.e. after the bytes were sent.
    /// </summary>
    public void WriteExternal(ReadOnlyMemory<byte> memory, IDisposable? lease)
    {
        if (memory.Length < MinExternalChunk)
        {
            Write(memory.Span);
            lease?.Dispose();
            return;
        }
        CloseOpenChunk();
        _chunks.Add(memory);
        _length += memory.Length;
        if (lease is not null) _leases.Add(lease);
    }

    /// <summary>Keeps <paramref name="lease"/> (e.g. a mapped segment) alive until this writer is disposed.</summary>
    public void AddLease(IDisposable lease) => _leases.Add(lease);

    /// <summary>Writes the big-endian int32 size prefix (total length minus the prefix itself).</summary>
    public void WriteSizePrefix() =>
        BinaryPrimitives.WriteInt32BigEndian(_rented[0].AsSpan(0, 4), checked((int)(_length - 4)));

    /// <summary>The chunks to send, in order. Call after writing is finished.</summary>
    public IReadOnlyList<ReadOnlyMemory<byte>> GetChunks()
    {
        CloseOpenChunk();
        return _chunks;
    }

    /// <summary>
    /// Whether <paramref name="chunk"/> (one of <see cref="GetChunks"/>) is a region of a mapped file: then
    /// <paramref name="file"/> gives the file and <paramref name="fileOffset"/> is where the chunk starts in it.
    /// </summary>
    public static bool TryGetFileBacking(ReadOnlyMemory<byte> chunk, out IFileBackedMemory? file, out long fileOffset)
    {
        if (MemoryMarshal.TryGetMemoryManager(chunk, out MemoryManager<byte>? manager, out int start, out _)
            && manager is IFileBackedMemory backed)
        {
            file = backed;
            fileOffset = start;
            return true;
        }
        file = null;
        fileOffset = 0;
        return false;
    }

    /// <summary>Copies all bytes into one array (tests and small responses).</summary>
    public byte[] ToArray()
    {
        var all = new byte[_length];
        int pos = 0;
        foreach (var m in GetChunks()) { m.Span.CopyTo(all.AsSpan(pos)); pos += m.Length; }
        return all;
    }

    public void Dispose()
    {
        foreach (var a in _rented) ArrayPool<byte>.Shared.Return(a);
        _rented.Clear();
        _chunks.Clear();
        foreach (var l in _leases) l.Dispose();
        _leases.Clear();
    }

    private void Ensure(int sizeHint)
    {
        if (sizeHint <= 0) sizeHint = 1;
        if (_current.Length - _written >= sizeHint) return;
        CloseOpenChunk();
        _current = ArrayPool<byte>.Shared.Rent(Math.Max(sizeHint, DefaultSegmentSize));
        _rented.Add(_current);
        _currentStart = 0;
        _written = 0;
    }

    /// <summary>Ends the chunk being filled; later writes continue in the same array after it.</summary>
    private void CloseOpenChunk()
    {
        if (_written > _currentStart) _chunks.Add(_current.AsMemory(_currentStart, _written - _currentStart));
        _currentStart = _written;
    }
}

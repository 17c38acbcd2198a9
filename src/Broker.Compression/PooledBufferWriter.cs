using System.Buffers;

namespace Broker.Compression;

/// <summary>
/// A growable <see cref="IBufferWriter{T}"/> over one <see cref="ArrayPool{T}"/> array: the scratch buffer batches
/// are (de)compressed into before the exact-size result is copied out (or the array is detached and handed on).
/// Dispose returns the array. Public: the broker's recompression, timestamp lookup and cleaner use it too.
/// </summary>
public sealed class PooledBufferWriter : IBufferWriter<byte>, IDisposable
{
    private byte[] _buffer;
    private int _written;

    public PooledBufferWriter(int initialCapacity) =>
        _buffer = ArrayPool<byte>.Shared.Rent(Math.Clamp(initialCapacity, 256, Array.MaxLength));

    public int WrittenCount => _written;

    public Span<byte> WrittenSpan => _buffer.AsSpan(0, _written);

    public void Advance(int count)
    {
        if ((uint)count > (uint)(_buffer.Length - _written)) throw new ArgumentOutOfRangeException(nameof(count));
        _written += count;
    }

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsMemory(_written);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsSpan(_written);
    }

    /// <summary>Forgets what was written and keeps the array for reuse (one owner reusing a scratch buffer).</summary>
    public void Reset() => _written = 0;

    /// <summary>Hands the array (and the duty to return it to the pool) to the caller; the writer is empty afterwards.</summary>
    public byte[] Detach(out int length)
    {
        byte[] buffer = _buffer;
        length = _written;
        _buffer = Array.Empty<byte>();
        _written = 0;
        return buffer;
    }

    public void Write(ReadOnlySpan<byte> data)
    {
        data.CopyTo(GetSpan(data.Length));
        _written += data.Length;
    }

    private void Ensure(int sizeHint)
    {
        if (sizeHint < 1) sizeHint = 1;
        if (_buffer.Length - _written >= sizeHint) return;
        long needed = (long)_written + sizeHint;
        if (needed > Array.MaxLength) throw new CompressionException($"(de)compressed data above {Array.MaxLength} bytes");
        long size = Math.Min(Math.Max(needed, (long)_buffer.Length * 2), Array.MaxLength);
        byte[] next = ArrayPool<byte>.Shared.Rent((int)size);
        _buffer.AsSpan(0, _written).CopyTo(next);
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = next;
    }

    public void Dispose()
    {
        byte[] buffer = _buffer;
        _buffer = Array.Empty<byte>();
        _written = 0;
        if (buffer.Length > 0) ArrayPool<byte>.Shared.Return(buffer);
    }
}

namespace Broker.Compression.Native;

/// <summary>
/// A small lock-free pool of native codec contexts (zstd/lz4 state is costly to create per batch). A context that
/// does not fit back into the pool is freed. Pooled contexts live as long as the process.
/// </summary>
internal sealed class NativeHandlePool(int capacity, Func<nint> create, Action<nint> destroy)
{
    private readonly nint[] _slots = new nint[capacity];

    /// <summary>A pooled context, or a new one; throws <see cref="CompressionException"/> when creation fails.</summary>
    public nint Rent()
    {
        var slots = _slots;
        for (int i = 0; i < slots.Length; i++)
        {
            if (slots[i] == 0) continue;
            nint handle = Interlocked.Exchange(ref slots[i], 0);
            if (handle != 0) return handle;
        }
        nint created = create();
        return created != 0 ? created : throw new CompressionException("could not create a native codec context (out of memory?)");
    }

    public void Return(nint handle)
    {
        if (handle == 0) return;
        var slots = _slots;
        for (int i = 0; i < slots.Length; i++)
        {
            if (slots[i] == 0 && Interlocked.CompareExchange(ref slots[i], handle, 0) == 0) return;
        }
        destroy(handle);
    }
}

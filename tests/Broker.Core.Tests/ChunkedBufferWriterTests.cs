using System.Buffers.Binary;
using Broker.Core.Buffers;
using Xunit;

namespace Broker.Core.Tests;

public class ChunkedBufferWriterTests
{
    private sealed class CountingLease : IDisposable
    {
        public int Disposed;
        public void Dispose() => Disposed++;
    }

    [Fact]
    public void SizePrefixCoversEverythingAfterIt()
    {
        using var w = new ChunkedBufferWriter(64);
        w.Write(new byte[] { 1, 2, 3 });
        w.WriteSizePrefix();
        var all = w.ToArray();
        Assert.Equal(7, all.Length);
        Assert.Equal(3, BinaryPrimitives.ReadInt32BigEndian(all));
        Assert.Equal(new byte[] { 1, 2, 3 }, all[4..]);
    }

    [Fact]
    public void LargeExternalMemoryIsReferencedNotCopiedAndLeaseReleasedOnDispose()
    {
        var external = new byte[4096];
        new Random(1).NextBytes(external);
        var lease = new CountingLease();
        var w = new ChunkedBufferWriter(64);
        w.Write(new byte[] { 9, 9 });
        w.WriteExternal(external, lease);
        w.Write(new byte[] { 7 });
        w.WriteSizePrefix();

        var chunks = w.GetChunks();
        Assert.Equal(3, chunks.Count);
        Assert.True(System.Runtime.InteropServices.MemoryMarshal.TryGetArray(chunks[1], out var seg));
        Assert.Same(external, seg.Array); // same memory, no copy
        var all = w.ToArray();
        Assert.Equal(4 + 2 + 4096 + 1, all.Length);
        Assert.Equal(external, all[6..4102]);
        Assert.Equal(7, all[^1]);
        Assert.Equal(0, lease.Disposed);
        w.Dispose();
        Assert.Equal(1, lease.Disposed);
    }

    [Fact]
    public void SmallExternalMemoryIsCopiedAndItsLeaseReleasedAtOnce()
    {
        var lease = new CountingLease();
        using var w = new ChunkedBufferWriter(64);
        w.WriteExternal(new byte[] { 5, 6 }, lease);
        Assert.Equal(1, lease.Disposed);
        Assert.Equal(new byte[] { 5, 6 }, w.ToArray()[4..]);
    }

    [Fact]
    public void GrowsAcrossManySegments()
    {
        using var w = new ChunkedBufferWriter(64);
        var expected = new List<byte>();
        for (int i = 0; i < 100_000; i++)
        {
            var span = w.GetSpan(3);
            span[0] = (byte)i; span[1] = (byte)(i >> 8); span[2] = (byte)(i >> 16);
            w.Advance(3);
            expected.Add((byte)i); expected.Add((byte)(i >> 8)); expected.Add((byte)(i >> 16));
        }
        w.WriteSizePrefix();
        var all = w.ToArray();
        Assert.Equal(expected.Count, BinaryPrimitives.ReadInt32BigEndian(all));
        Assert.Equal(expected.ToArray(), all[4..]);
    }
}

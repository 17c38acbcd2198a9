using System.Buffers;

namespace Broker.Compression;

/// <summary>
/// Counts decompressed bytes against a ceiling (the decompression-bomb guard). Each step offers the decoder at most
/// one byte more than the ceiling allows, so output past the limit is seen and refused before it is committed.
/// </summary>
internal struct OutputLimit(string codec, int maxBytes)
{
    /// <summary>How much output buffer each streaming step asks for at least.</summary>
    public const int StepHint = 64 * 1024;

    public int Total { get; private set; }

    /// <summary>Bytes a decoder may still write in one step (the remaining allowance plus one).</summary>
    public readonly int Room => (int)Math.Min((long)maxBytes - Total + 1, int.MaxValue);

    /// <summary>A destination span of at most <see cref="Room"/> bytes.</summary>
    public readonly Span<byte> NextSpan(IBufferWriter<byte> destination)
    {
        int room = Room;
        var span = destination.GetSpan(Math.Min(room, StepHint));
        return span.Length > room ? span[..room] : span;
    }

    /// <summary>Commits <paramref name="count"/> decoded bytes, or throws when they pass the ceiling.</summary>
    public void Commit(IBufferWriter<byte> destination, int count)
    {
        Check(count);
        destination.Advance(count);
        Total += count;
    }

    /// <summary>Throws when <paramref name="more"/> further bytes would pass the ceiling.</summary>
    public readonly void Check(long more)
    {
        if (more > (long)maxBytes - Total)
            throw new CompressionException($"{codec}: decompressed data exceeds the limit of {maxBytes} bytes");
    }
}

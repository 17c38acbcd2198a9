using System.Buffers;
using System.IO.Compression;

namespace Broker.Compression;

/// <summary>
/// gzip (RFC 1952) through System.IO.Compression. GZipStream treats input that ends early as a clean end of data, so
/// decompression appends a sentinel: one extra gzip member holding a fixed marker. The marker only comes out if every
/// real member ended with a trailer whose CRC-32 and length zlib verified and nothing but whole members came before
/// the sentinel; otherwise the data was truncated or carried trailing garbage.
/// </summary>
internal static unsafe class GzipCodec
{
    private static ReadOnlySpan<byte> Marker => "\0BrokerGzipEnd\0"u8;
    private static readonly byte[] Sentinel = BuildSentinel();
    /// <summary>The smallest gzip member: 10-byte header, an empty final block, 8-byte trailer.</summary>
    private const int MinimumMemberSize = 20;

    /// <summary>A gzip member holding no data: GZipStream writes nothing at all when given no data.</summary>
    private static ReadOnlySpan<byte> EmptyMember => [0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 0xFF, 0x03, 0, 0, 0, 0, 0, 0, 0, 0, 0];

    public static void Compress(ReadOnlySpan<byte> source, IBufferWriter<byte> destination)
    {
        if (source.IsEmpty)
        {
            EmptyMember.CopyTo(destination.GetSpan(EmptyMember.Length));
            destination.Advance(EmptyMember.Length);
            return;
        }
        using var output = new BufferWriterStream(destination);
        using (var gzip = new GZipStream(output, CompressionLevel.Optimal, leaveOpen: true))
        {
            gzip.Write(source);
        }
    }

    public static int Decompress(ReadOnlySpan<byte> source, IBufferWriter<byte> destination, int maxBytes)
    {
        if (source.Length < MinimumMemberSize)
            throw new CompressionException($"gzip: {source.Length} bytes is shorter than any gzip stream (truncated data)");
        var limit = new OutputLimit("gzip", maxBytes);
        int markerLength = Marker.Length;
        byte[] buffer = ArrayPool<byte>.Shared.Rent(OutputLimit.StepHint + markerLength);
        try
        {
            fixed (byte* input = source)
            {
                using var stream = new SentinelStream(input, source.Length, Sentinel);
                using var gzip = new GZipStream(stream, CompressionMode.Decompress);
                // buffer[0..held) is decoded output not yet committed: the last markerLength bytes are always held
                // back, because at the end they must be the marker, which is not part of the data.
                int held = 0;
                while (true)
                {
                    int n = gzip.Read(buffer, held, OutputLimit.StepHint + markerLength - held);
                    if (n == 0) break;
                    held += n;
                    int flush = held - markerLength;
                    if (flush <= 0) continue;
                    limit.Commit(destination, Copy(buffer.AsSpan(0, flush), destination));
                    buffer.AsSpan(flush, markerLength).CopyTo(buffer);
                    held = markerLength;
                }
                if (held < markerLength || !buffer.AsSpan(held - markerLength, markerLength).SequenceEqual(Marker))
                    throw new CompressionException("gzip: data truncated or followed by bytes that are not a gzip member");
                return limit.Total;
            }
        }
        catch (InvalidDataException ex)
        {
            throw new CompressionException($"gzip: corrupt data ({ex.Message})", ex);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static int Copy(ReadOnlySpan<byte> data, IBufferWriter<byte> destination)
    {
        data.CopyTo(destination.GetSpan(data.Length));
        return data.Length;
    }

    private static byte[] BuildSentinel()
    {
        using var ms = new MemoryStream();
        using (var gzip = new GZipStream(ms, CompressionLevel.Fastest, leaveOpen: true)) gzip.Write(Marker);
        return ms.ToArray();
    }

    /// <summary>A read-only stream over pinned input followed by the sentinel member.</summary>
    private sealed class SentinelStream(byte* data, int length, byte[] sentinel) : Stream
    {
        private int _position;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            int total = length + sentinel.Length;
            int n = Math.Min(buffer.Length, total - _position);
            if (n <= 0) return 0;
            int fromData = Math.Clamp(length - _position, 0, n);
            if (fromData > 0) new ReadOnlySpan<byte>(data + _position, fromData).CopyTo(buffer);
            if (n > fromData) sentinel.AsSpan(_position + fromData - length, n - fromData).CopyTo(buffer[fromData..]);
            _position += n;
            return n;
        }

        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    /// <summary>A write-only stream appending to an <see cref="IBufferWriter{T}"/> (what GZipStream compresses into).</summary>
    private sealed class BufferWriterStream(IBufferWriter<byte> destination) : Stream
    {
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            buffer.CopyTo(destination.GetSpan(buffer.Length));
            destination.Advance(buffer.Length);
        }

        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }
}

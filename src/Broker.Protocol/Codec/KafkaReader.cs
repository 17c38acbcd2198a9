using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Text;
using Broker.Core.Encoding;

namespace Broker.Protocol.Codec;

/// <summary>
/// Reads Kafka primitive types (big-endian) from a request or response frame. Byte and record fields are slices of
/// the frame, not copies. Any truncated or impossible input throws <see cref="KafkaProtocolException"/>, which the
/// server turns into closing the connection.
/// </summary>
public ref struct KafkaReader
{
    private readonly ReadOnlyMemory<byte> _memory;
    private readonly ReadOnlySpan<byte> _span;
    private int _position;

    public KafkaReader(ReadOnlyMemory<byte> memory)
    {
        _memory = memory;
        _span = memory.Span;
        _position = 0;
    }

    public int Position { readonly get => _position; set => _position = value; }
    public readonly int Remaining => _span.Length - _position;
    public readonly bool IsAtEnd => _position >= _span.Length;

    public sbyte ReadInt8() => (sbyte)Take(1)[0];
    public bool ReadBool() => Take(1)[0] != 0;
    public short ReadInt16() => BinaryPrimitives.ReadInt16BigEndian(Take(2));
    public ushort ReadUInt16() => BinaryPrimitives.ReadUInt16BigEndian(Take(2));
    public int ReadInt32() => BinaryPrimitives.ReadInt32BigEndian(Take(4));
    public uint ReadUInt32() => BinaryPrimitives.ReadUInt32BigEndian(Take(4));
    public long ReadInt64() => BinaryPrimitives.ReadInt64BigEndian(Take(8));
    public double ReadFloat64() => BinaryPrimitives.ReadDoubleBigEndian(Take(8));
    public Guid ReadUuid() => new(Take(16), bigEndian: true);

    public uint ReadUnsignedVarint()
    {
        int n = Varint.ReadUnsigned(_span[_position..], out uint value);
        if (n <= 0) ThrowMalformed("unsigned varint");
        _position += n;
        return value;
    }

    public int ReadVarint()
    {
        int n = Varint.ReadZigZag32(_span[_position..], out int value);
        if (n <= 0) ThrowMalformed("varint");
        _position += n;
        return value;
    }

    public long ReadVarlong()
    {
        int n = Varint.ReadZigZag64(_span[_position..], out long value);
        if (n <= 0) ThrowMalformed("varlong");
        _position += n;
        return value;
    }

    /// <summary>A non-null string; a null on the wire becomes "" (lenient, as Kafka brokers are for most fields).</summary>
    public string ReadString(bool flexible) => ReadNullableString(flexible) ?? string.Empty;

    public string? ReadNullableString(bool flexible)
    {
        int length = flexible ? (int)ReadUnsignedVarint() - 1 : ReadInt16();
        if (length < -1) ThrowMalformed($"string length {length}");
        if (length < 0) return null;
        return Encoding.UTF8.GetString(Take(length));
    }

    public byte[] ReadBytes(bool flexible) => ReadNullableBytes(flexible) ?? Array.Empty<byte>();

    public byte[]? ReadNullableBytes(bool flexible)
    {
        int length = ReadLength(flexible);
        return length < 0 ? null : Take(length).ToArray();
    }

    /// <summary>Record batches: a slice of the frame (no copy), null when the length is -1.</summary>
    public ReadOnlyMemory<byte>? ReadRecords(bool flexible)
    {
        int length = ReadLength(flexible);
        if (length < 0) return null;
        EnsureAvailable(length);
        var slice = _memory.Slice(_position, length);
        _position += length;
        return slice;
    }

    /// <summary>Array element count (-1 = null). Rejects counts that cannot fit in the remaining bytes.</summary>
    public int ReadArrayLength(bool flexible)
    {
        int count = flexible ? (int)ReadUnsignedVarint() - 1 : ReadInt32();
        if (count < -1 || count > Remaining) ThrowMalformed($"array length {count}");
        return count;
    }

    /// <summary>Start of a nullable nested struct: -1 means null, 1 means present.</summary>
    public bool ReadStructPresent() => ReadInt8() >= 0;

    public void Skip(int count) => Take(count);

    /// <summary>Skips a tagged-field section entirely (used by headers).</summary>
    public void SkipTaggedFields()
    {
        uint count = ReadUnsignedVarint();
        for (uint i = 0; i < count; i++)
        {
            ReadUnsignedVarint();
            Skip((int)ReadUnsignedVarint());
        }
    }

    private int ReadLength(bool flexible)
    {
        int length = flexible ? (int)ReadUnsignedVarint() - 1 : ReadInt32();
        if (length < -1) ThrowMalformed($"length {length}");
        return length;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ReadOnlySpan<byte> Take(int count)
    {
        EnsureAvailable(count);
        var s = _span.Slice(_position, count);
        _position += count;
        return s;
    }

    private readonly void EnsureAvailable(int count)
    {
        if ((uint)count > (uint)(_span.Length - _position)) ThrowTruncated(count, _span.Length - _position);
    }

    private static void ThrowTruncated(int wanted, int left) =>
        throw new KafkaProtocolException($"truncated message: needed {wanted} bytes, {left} left");

    private static void ThrowMalformed(string what) => throw new KafkaProtocolException($"malformed {what}");
}

/// <summary>The bytes are not a valid Kafka message of the declared version.</summary>
public sealed class KafkaProtocolException(string message) : Exception(message);

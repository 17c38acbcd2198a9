using System.Buffers.Binary;
using System.Text;
using Broker.Core.Encoding;

namespace Broker.Groups.Internal;

/// <summary>
/// Writes the fields of __consumer_offsets keys and values in Kafka's classic (non-flexible) encoding: big-endian
/// integers, int16-length UTF-8 strings (-1 = null), int32-length bytes and int32-count arrays.
/// </summary>
internal ref struct FieldWriter(Span<byte> buffer)
{
    private readonly Span<byte> _buffer = buffer;
    private int _position;

    public readonly int Position => _position;

    public static int StringSize(string? s)
    {
        if (s is null) return 2;
        int n = Encoding.UTF8.GetByteCount(s);
        if (n > short.MaxValue) throw new ArgumentException($"string of {n} bytes is longer than a Kafka string may be");
        return 2 + n;
    }

    public void Int16(short v) { BinaryPrimitives.WriteInt16BigEndian(_buffer[_position..], v); _position += 2; }
    public void Int32(int v) { BinaryPrimitives.WriteInt32BigEndian(_buffer[_position..], v); _position += 4; }
    public void Int64(long v) { BinaryPrimitives.WriteInt64BigEndian(_buffer[_position..], v); _position += 8; }

    public void String(string? s)
    {
        if (s is null) { Int16(-1); return; }
        int n = Encoding.UTF8.GetBytes(s, _buffer[(_position + 2)..]);
        Int16((short)n);
        _position += n;
    }

    public void Bytes(ReadOnlySpan<byte> b)
    {
        Int32(b.Length);
        b.CopyTo(_buffer[_position..]);
        _position += b.Length;
    }
}

/// <summary>
/// Reads __consumer_offsets fields in either encoding: classic, or flexible (compact lengths as unsigned varints of
/// length + 1, tagged fields skipped) for the record versions Kafka made flexible. Throws
/// <see cref="FormatException"/> when a field runs past the end.
/// </summary>
internal ref struct FieldReader(ReadOnlySpan<byte> buffer, bool flexible)
{
    private readonly ReadOnlySpan<byte> _buffer = buffer;
    private readonly bool _flexible = flexible;
    private int _position;

    public readonly bool AtEnd => _position >= _buffer.Length;

    public short Int16() { Need(2); short v = BinaryPrimitives.ReadInt16BigEndian(_buffer[_position..]); _position += 2; return v; }
    public int Int32() { Need(4); int v = BinaryPrimitives.ReadInt32BigEndian(_buffer[_position..]); _position += 4; return v; }
    public long Int64() { Need(8); long v = BinaryPrimitives.ReadInt64BigEndian(_buffer[_position..]); _position += 8; return v; }

    public string String() => NullableString() ?? throw new FormatException("null where a string is required");

    public string? NullableString()
    {
        int length = _flexible ? CompactLength() : Int16();
        if (length < 0) return null;
        Need(length);
        string s = Encoding.UTF8.GetString(_buffer.Slice(_position, length));
        _position += length;
        return s;
    }

    public byte[] Bytes()
    {
        int length = _flexible ? CompactLength() : Int32();
        if (length < 0) return [];
        Need(length);
        byte[] b = _buffer.Slice(_position, length).ToArray();
        _position += length;
        return b;
    }

    public int ArrayCount()
    {
        int count = _flexible ? CompactLength() : Int32();
        if (count > _buffer.Length - _position) throw new FormatException("array count larger than the record");
        return count;
    }

    /// <summary>Skips the tagged-field section of a flexible struct (nothing in classic encoding).</summary>
    public void TaggedFields()
    {
        if (!_flexible) return;
        uint count = UnsignedVarint();
        for (uint i = 0; i < count; i++)
        {
            UnsignedVarint(); // tag
            uint size = UnsignedVarint();
            if (size > int.MaxValue) throw new FormatException("tagged field too long");
            Need((int)size);
            _position += (int)size;
        }
    }

    private int CompactLength()
    {
        uint n = UnsignedVarint();
        if (n > int.MaxValue) throw new FormatException("compact length out of range");
        return (int)n - 1;
    }

    private uint UnsignedVarint()
    {
        int read = Varint.ReadUnsigned(_buffer[_position..], out uint v);
        if (read <= 0) throw new FormatException("malformed varint");
        _position += read;
        return v;
    }

    private readonly void Need(int n)
    {
        if (n < 0 || n > _buffer.Length - _position) throw new FormatException("field runs past the end of the record");
    }
}

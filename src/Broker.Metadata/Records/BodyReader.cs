using System.Buffers.Binary;
using Broker.Core.Encoding;

namespace Broker.Metadata.Records;

/// <summary>
/// Reads what <see cref="BodyWriter"/> writes. Every read is bounds-checked; malformed input throws
/// <see cref="MetadataFormatException"/> naming what was being read.
/// </summary>
public ref struct BodyReader
{
    private readonly ReadOnlySpan<byte> _buffer;
    private int _position;

    public BodyReader(ReadOnlySpan<byte> buffer)
    {
        _buffer = buffer;
        _position = 0;
    }

    public readonly int Position => _position;
    public readonly int Remaining => _buffer.Length - _position;

    public sbyte ReadInt8() => (sbyte)Take(1, "int8")[0];

    public bool ReadBool() => Take(1, "bool")[0] != 0;

    public short ReadInt16() => BinaryPrimitives.ReadInt16BigEndian(Take(2, "int16"));

    public int ReadInt32() => BinaryPrimitives.ReadInt32BigEndian(Take(4, "int32"));

    public long ReadInt64() => BinaryPrimitives.ReadInt64BigEndian(Take(8, "int64"));

    public Guid ReadUuid() => new(Take(16, "uuid"), bigEndian: true);

    public uint ReadUVarint()
    {
        int n = Varint.ReadUnsigned(_buffer[_position..], out uint value);
        if (n == 0) throw new MetadataFormatException($"truncated varint at byte {_position}");
        if (n < 0) throw new MetadataFormatException($"malformed varint at byte {_position}");
        _position += n;
        return value;
    }

    public string ReadString() =>
        ReadNullableString() ?? throw new MetadataFormatException($"null string at byte {_position} where one is required");

    public string? ReadNullableString()
    {
        uint lengthPlusOne = ReadUVarint();
        if (lengthPlusOne == 0) return null;
        int length = CheckedLength(lengthPlusOne - 1, 1, "string");
        return System.Text.Encoding.UTF8.GetString(Take(length, "string"));
    }

    /// <summary>Reads an array length prefix; -1 for null. Rejects counts the remaining bytes cannot hold.</summary>
    public int ReadArrayLength(int minElementSize)
    {
        uint countPlusOne = ReadUVarint();
        return countPlusOne == 0 ? -1 : CheckedLength(countPlusOne - 1, Math.Max(1, minElementSize), "array");
    }

    public int[] ReadInt32Array() =>
        ReadNullableInt32Array() ?? throw new MetadataFormatException($"null array at byte {_position} where one is required");

    public int[]? ReadNullableInt32Array()
    {
        int count = ReadArrayLength(4);
        if (count < 0) return null;
        var values = count == 0 ? Array.Empty<int>() : new int[count];
        for (int i = 0; i < count; i++) values[i] = ReadInt32();
        return values;
    }

    /// <summary>Skips <paramref name="count"/> bytes (e.g. an unknown tagged field); throws when fewer remain.</summary>
    public void Skip(uint count, string what)
    {
        if (count > (uint)Remaining)
            throw new MetadataFormatException($"truncated {what} at byte {_position}: need {count}, have {Remaining}");
        _position += (int)count;
    }

    /// <summary>Skips the tagged-field section that ends a structure (unknown tags are ignored).</summary>
    public void SkipTaggedFields()
    {
        uint count = ReadUVarint();
        for (uint i = 0; i < count; i++)
        {
            ReadUVarint(); // tag
            int size = CheckedLength(ReadUVarint(), 1, "tagged field");
            Take(size, "tagged field");
        }
    }

    private int CheckedLength(uint length, int elementSize, string what)
    {
        if ((ulong)length * (ulong)elementSize > (ulong)Remaining)
            throw new MetadataFormatException($"{what} of length {length} at byte {_position} exceeds the {Remaining} remaining bytes");
        return (int)length;
    }

    private ReadOnlySpan<byte> Take(int count, string what)
    {
        if (count > Remaining)
            throw new MetadataFormatException($"truncated {what} at byte {_position}: need {count}, have {Remaining}");
        var span = _buffer.Slice(_position, count);
        _position += count;
        return span;
    }
}

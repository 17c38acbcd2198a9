using System.Buffers;
using System.Buffers.Binary;
using Broker.Core.Encoding;

namespace Broker.Metadata.Records;

/// <summary>
/// Writes metadata record bodies in a compact, Kafka-flexible-like encoding: fixed-width big-endian integers,
/// UUIDs as 16 big-endian bytes, strings and arrays prefixed with an unsigned varint of length+1 (0 = null),
/// and a trailing tagged-field section (an unsigned varint count; this writer emits none).
/// </summary>
public sealed class BodyWriter
{
    private readonly ArrayBufferWriter<byte> _buffer;

    public BodyWriter(int initialCapacity = 256) => _buffer = new ArrayBufferWriter<byte>(initialCapacity);

    public ReadOnlySpan<byte> WrittenSpan => _buffer.WrittenSpan;
    public int Length => _buffer.WrittenCount;

    public void Clear() => _buffer.Clear();

    public void WriteInt8(sbyte value)
    {
        _buffer.GetSpan(1)[0] = (byte)value;
        _buffer.Advance(1);
    }

    public void WriteBool(bool value) => WriteInt8(value ? (sbyte)1 : (sbyte)0);

    public void WriteInt16(short value)
    {
        BinaryPrimitives.WriteInt16BigEndian(_buffer.GetSpan(2), value);
        _buffer.Advance(2);
    }

    public void WriteInt32(int value)
    {
        BinaryPrimitives.WriteInt32BigEndian(_buffer.GetSpan(4), value);
        _buffer.Advance(4);
    }

    public void WriteInt64(long value)
    {
        BinaryPrimitives.WriteInt64BigEndian(_buffer.GetSpan(8), value);
        _buffer.Advance(8);
    }

    public void WriteUVarint(uint value) => _buffer.Advance(Varint.WriteUnsigned(_buffer.GetSpan(5), value));

    public void WriteUuid(Guid value)
    {
        value.TryWriteBytes(_buffer.GetSpan(16), bigEndian: true, out _);
        _buffer.Advance(16);
    }

    public void WriteString(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        WriteNullableString(value);
    }

    public void WriteNullableString(string? value)
    {
        if (value is null) { WriteUVarint(0); return; }
        int byteCount = System.Text.Encoding.UTF8.GetByteCount(value);
        WriteUVarint((uint)byteCount + 1);
        System.Text.Encoding.UTF8.GetBytes(value, _buffer.GetSpan(byteCount));
        _buffer.Advance(byteCount);
    }

    /// <summary>Array length prefix (count+1; 0 means null).</summary>
    public void WriteArrayLength(int count) => WriteUVarint(count < 0 ? 0 : (uint)count + 1);

    public void WriteInt32Array(int[] values)
    {
        ArgumentNullException.ThrowIfNull(values);
        WriteNullableInt32Array(values);
    }

    public void WriteNullableInt32Array(int[]? values)
    {
        if (values is null) { WriteArrayLength(-1); return; }
        WriteArrayLength(values.Length);
        foreach (int v in values) WriteInt32(v);
    }

    /// <summary>Ends a structure: this version writes no tagged fields.</summary>
    public void WriteEmptyTaggedFields() => WriteUVarint(0);
}

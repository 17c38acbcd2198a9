using System.Buffers.Binary;
using System.Text;
using Broker.Core.Buffers;
using Broker.Core.Encoding;

namespace Broker.Protocol.Codec;

/// <summary>
/// Writes Kafka primitive types (big-endian) into a <see cref="ChunkedBufferWriter"/>. Record fields are appended
/// by reference (<see cref="ChunkedBufferWriter.WriteExternal"/>), so fetch responses do not copy batch bytes.
/// </summary>
public readonly ref struct KafkaWriter
{
    private readonly ChunkedBufferWriter _out;

    public KafkaWriter(ChunkedBufferWriter output) => _out = output;

    public ChunkedBufferWriter Output => _out;

    public void WriteInt8(sbyte v) { _out.GetSpan(1)[0] = (byte)v; _out.Advance(1); }
    public void WriteBool(bool v) { _out.GetSpan(1)[0] = v ? (byte)1 : (byte)0; _out.Advance(1); }
    public void WriteInt16(short v) { BinaryPrimitives.WriteInt16BigEndian(_out.GetSpan(2), v); _out.Advance(2); }
    public void WriteUInt16(ushort v) { BinaryPrimitives.WriteUInt16BigEndian(_out.GetSpan(2), v); _out.Advance(2); }
    public void WriteInt32(int v) { BinaryPrimitives.WriteInt32BigEndian(_out.GetSpan(4), v); _out.Advance(4); }
    public void WriteUInt32(uint v) { BinaryPrimitives.WriteUInt32BigEndian(_out.GetSpan(4), v); _out.Advance(4); }
    public void WriteInt64(long v) { BinaryPrimitives.WriteInt64BigEndian(_out.GetSpan(8), v); _out.Advance(8); }
    public void WriteFloat64(double v) { BinaryPrimitives.WriteDoubleBigEndian(_out.GetSpan(8), v); _out.Advance(8); }

    public void WriteUuid(Guid v)
    {
        v.TryWriteBytes(_out.GetSpan(16), bigEndian: true, out _);
        _out.Advance(16);
    }

    public void WriteUnsignedVarint(uint v) => _out.Advance(Varint.WriteUnsigned(_out.GetSpan(5), v));
    public void WriteVarint(int v) => _out.Advance(Varint.WriteZigZag32(_out.GetSpan(5), v));
    public void WriteVarlong(long v) => _out.Advance(Varint.WriteZigZag64(_out.GetSpan(10), v));

    public void WriteString(string? value, bool flexible)
    {
        if (value is null) { WriteNullLength(flexible, shortLength: true); return; }
        int byteCount = Encoding.UTF8.GetByteCount(value);
        if (flexible) WriteUnsignedVarint((uint)byteCount + 1);
        else WriteInt16(checked((short)byteCount));
        Encoding.UTF8.GetBytes(value, _out.GetSpan(byteCount));
        _out.Advance(byteCount);
    }

    public void WriteBytes(ReadOnlySpan<byte> value, bool flexible)
    {
        WriteLength(value.Length, flexible);
        _out.Write(value);
    }

    public void WriteNullableBytes(byte[]? value, bool flexible)
    {
        if (value is null) { WriteNullLength(flexible, shortLength: false); return; }
        WriteBytes(value, flexible);
    }

    /// <summary>Record batches by reference; the caller keeps their memory alive (see ChunkedBufferWriter.AddLease).</summary>
    public void WriteRecords(ReadOnlyMemory<byte>? value, bool flexible)
    {
        if (value is null) { WriteNullLength(flexible, shortLength: false); return; }
        WriteLength(value.Value.Length, flexible);
        _out.WriteExternal(value.Value, null);
    }

    public void WriteArrayLength(int count, bool flexible)
    {
        if (count < 0) { WriteNullLength(flexible, shortLength: false); return; }
        WriteLength(count, flexible);
    }

    public void WriteStructPresent(bool present) => WriteInt8(present ? (sbyte)1 : (sbyte)-1);

    /// <summary>An empty tagged-field section.</summary>
    public void WriteEmptyTaggedFields() => WriteUnsignedVarint(0);

    public void WriteRaw(ReadOnlySpan<byte> bytes) => _out.Write(bytes);

    private void WriteLength(int length, bool flexible)
    {
        if (flexible) WriteUnsignedVarint((uint)length + 1);
        else WriteInt32(length);
    }

    private void WriteNullLength(bool flexible, bool shortLength)
    {
        if (flexible) WriteUnsignedVarint(0);
        else if (shortLength) WriteInt16(-1);
        else WriteInt32(-1);
    }

    /// <summary>UTF-8 byte size of a string as written (for tagged-field sizes).</summary>
    public static int SizeOfString(string? value, bool flexible)
    {
        if (value is null) return flexible ? 1 : 2;
        int n = Encoding.UTF8.GetByteCount(value);
        return flexible ? Varint.SizeOfUnsigned((uint)n + 1) + n : 2 + n;
    }
}

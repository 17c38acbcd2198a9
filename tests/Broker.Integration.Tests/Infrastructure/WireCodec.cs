using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;
namespace Broker.Integration.Tests.Infrastructure;

/// <summary>
/// Hand-written Kafka encoding for raw-wire tests (the integration tests reference no broker project): both
/// the classic encoding (int16/int32 lengths) and the flexible one (KIP-482: unsigned-varint length+1, tagged
/// fields after every struct). <see cref="Flexible"/> says which one a request body uses.
/// </summary>
internal sealed class WireWriter(bool flexible)
{
    private readonly MemoryStream _ms = new();
    private readonly byte[] _tmp = new byte[8];

    public bool Flexible { get; } = flexible;

    public WireWriter Int8(sbyte v) { _ms.WriteByte((byte)v); return this; }
    public WireWriter Bool(bool v) { _ms.WriteByte(v ? (byte)1 : (byte)0); return this; }
    public WireWriter Int16(short v) { BinaryPrimitives.WriteInt16BigEndian(_tmp, v); _ms.Write(_tmp, 0, 2); return this; }
    public WireWriter Int32(int v) { BinaryPrimitives.WriteInt32BigEndian(_tmp, v); _ms.Write(_tmp, 0, 4); return this; }
    public WireWriter Int64(long v) { BinaryPrimitives.WriteInt64BigEndian(_tmp, v); _ms.Write(_tmp, 0, 8); return this; }

    public WireWriter UVarint(uint v)
    {
        while (v >= 0x80) { _ms.WriteByte((byte)(v | 0x80)); v >>= 7; }
        _ms.WriteByte((byte)v);
        return this;
    }

    /// <summary>A string (null allowed: nullable fields; the tests never send null where the schema forbids it).</summary>
    public WireWriter String(string? s)
    {
        if (s is null) return Flexible ? UVarint(0) : Int16(-1);
        byte[] b = Encoding.UTF8.GetBytes(s);
        if (Flexible) UVarint((uint)b.Length + 1); else Int16((short)b.Length);
        _ms.Write(b);
        return this;
    }

    public WireWriter Bytes(byte[] b)
    {
        if (Flexible) UVarint((uint)b.Length + 1); else Int32(b.Length);
        _ms.Write(b);
        return this;
    }

    /// <summary>An array (null = the null array), each element written by <paramref name="each"/> and, when
    /// flexible, closed with empty tagged fields if <paramref name="structs"/>.</summary>
    public WireWriter Array<T>(IReadOnlyList<T>? items, Action<WireWriter, T> each, bool structs = true)
    {
        if (items is null) return Flexible ? UVarint(0) : Int32(-1);
        if (Flexible) UVarint((uint)items.Count + 1); else Int32(items.Count);
        foreach (var item in items)
        {
            each(this, item);
            if (structs) Tags();
        }
        return this;
    }

    /// <summary>Empty tagged fields (flexible only).</summary>
    public WireWriter Tags() => Flexible ? UVarint(0) : this;

    public WireWriter Raw(byte[] b) { _ms.Write(b); return this; }

    public byte[] ToArray() => _ms.ToArray();
}

internal sealed class WireReader(byte[] data, int position, bool flexible)
{
    private int _pos = position;

    public bool Flexible { get; } = flexible;
    public bool AtEnd => _pos == data.Length;
    public int Remaining => data.Length - _pos;

    private ReadOnlySpan<byte> Take(int n)
    {
        if (n < 0 || _pos + n > data.Length) throw new InvalidDataException($"response truncated: need {n} bytes at {_pos} of {data.Length}");
        var span = data.AsSpan(_pos, n);
        _pos += n;
        return span;
    }

    public sbyte Int8() => (sbyte)Take(1)[0];
    public bool Bool() => Take(1)[0] != 0;
    public short Int16() => BinaryPrimitives.ReadInt16BigEndian(Take(2));
    public int Int32() => BinaryPrimitives.ReadInt32BigEndian(Take(4));
    public long Int64() => BinaryPrimitives.ReadInt64BigEndian(Take(8));

    public uint UVarint()
    {
        uint result = 0;
        for (int shift = 0; shift < 35; shift += 7)
        {
            byte b = Take(1)[0];
            result |= (uint)(b & 0x7F) << shift;
            if (b < 0x80) return result;
        }
        throw new InvalidDataException("varint too long");
    }

    public string? String()
    {
        int len = Flexible ? (int)UVarint() - 1 : Int16();
        return len < 0 ? null : Encoding.UTF8.GetString(Take(len));
    }

    public byte[] Bytes()
    {
        int len = Flexible ? (int)UVarint() - 1 : Int32();
        return len < 0 ? System.Array.Empty<byte>() : Take(len).ToArray();
    }

    public List<T> Array<T>(Func<WireReader, T> each, bool structs = true)
    {
        int n = Flexible ? (int)UVarint() - 1 : Int32();
        if (n > 100_000) throw new InvalidDataException($"array length {n} is implausible");
        var list = new List<T>(Math.Max(n, 0));
        for (int i = 0; i < n; i++)
        {
            list.Add(each(this));
            if (structs) SkipTags();
        }
        return list;
    }

    public void SkipTags()
    {
        if (!Flexible) return;
        uint count = UVarint();
        for (uint i = 0; i < count; i++)
        {
            UVarint();
            Take((int)UVarint());
        }
    }

    public void End()
    {
        SkipTags();
        if (!AtEnd) throw new InvalidDataException($"{Remaining} unread bytes after the response body");
    }
}

/// <summary>One client connection: sends a request (header v1, or v2 for flexible versions) and reads its response
/// (header v0, or v1 for flexible versions).</summary>
internal sealed class WireConnection : IDisposable
{
    private readonly Socket _socket;
    private int _correlation;

    public WireConnection(string host, int port, string clientId = "group-wire")
    {
        Host = host;
        Port = port;
        ClientId = clientId;
        _socket = KafkaWire.Connect(host, port, TimeSpan.FromSeconds(15));
    }

    public string Host { get; }
    public int Port { get; }
    public string ClientId { get; }

    public WireReader Call(short apiKey, short version, bool flexible, Action<WireWriter> body)
    {
        int correlationId = ++_correlation;
        var header = new WireWriter(false).Int32(0).Int16(apiKey).Int16(version).Int32(correlationId).String(ClientId);
        if (flexible) header.UVarint(0);
        var content = new WireWriter(flexible);
        body(content);
        content.Tags();
        byte[] frame = [.. header.ToArray(), .. content.ToArray()];
        BinaryPrimitives.WriteInt32BigEndian(frame, frame.Length - 4);
        _socket.Send(frame);

        int size = BinaryPrimitives.ReadInt32BigEndian(KafkaWire.ReadExactly(_socket, 4));
        if (size < 4 || size > 16 << 20) throw new InvalidDataException($"response size {size} is implausible");
        byte[] response = KafkaWire.ReadExactly(_socket, size);
        int corr = BinaryPrimitives.ReadInt32BigEndian(response);
        if (corr != correlationId) throw new InvalidDataException($"response correlation id {corr}, sent {correlationId}");
        var reader = new WireReader(response, 4, flexible);
        reader.SkipTags(); // response header v1
        return reader;
    }

    public void Dispose() => _socket.Dispose();
}

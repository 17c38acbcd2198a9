using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;

namespace Broker.Integration.Tests.Infrastructure;

/// <summary>A broker as Metadata lists it.</summary>
public sealed record WireBroker(int NodeId, string Host, int Port);

/// <summary>One partition as Metadata v7 describes it.</summary>
public sealed record WirePartition(short ErrorCode, int Index, int Leader, int LeaderEpoch, int[] Replicas, int[] Isr)
{
    public override string ToString() =>
        $"p{Index}: err {ErrorCode}, leader {Leader} (epoch {LeaderEpoch}), replicas [{string.Join(',', Replicas)}], isr [{string.Join(',', Isr)}]";
}

/// <summary>One topic as Metadata v7 describes it.</summary>
public sealed record WireTopic(short ErrorCode, string Name, WirePartition[] Partitions)
{
    public override string ToString() => $"{Name} (err {ErrorCode}): {string.Join("; ", Partitions.Select(p => p.ToString()))}";
}

/// <summary>A decoded Metadata v7 response.</summary>
public sealed record WireMetadata(WireBroker[] Brokers, string? ClusterId, int ControllerId, WireTopic[] Topics)
{
    public WireTopic? Topic(string name) => Topics.FirstOrDefault(t => t.Name == name);

    public override string ToString() =>
        $"brokers [{string.Join(", ", Brokers.Select(b => $"{b.NodeId}@{b.Host}:{b.Port}"))}], controller {ControllerId}, cluster {ClusterId}; " +
        string.Join(" | ", Topics.Select(t => t.ToString()));
}

/// <summary>
/// Hand-encoded Kafka requests to one address (the cluster nodes live on 127.0.0.1–5, which
/// <see cref="KafkaWire"/> does not address): ApiVersions v0 probes, Metadata v7 (with auto-creation off) and
/// CreateTopics v2, all non-flexible versions with request header v1 and response header v0.
/// </summary>
public static class ClusterWire
{
    public const short ApiMetadata = 3;
    public const short ApiCreateTopics = 19;

    /// <summary>ApiVersions v0 at host:port; null when answered with error 0, else what went wrong.</summary>
    public static string? ProbeApiVersions(string host, int port, TimeSpan timeout)
    {
        try
        {
            using var socket = KafkaWire.Connect(host, port, timeout);
            int correlationId = Random.Shared.Next(1, int.MaxValue);
            socket.Send(KafkaWire.ApiVersionsV0(correlationId));
            byte[] body = ReadResponse(socket, correlationId);
            short error = BinaryPrimitives.ReadInt16BigEndian(body.AsSpan(4));
            return error == 0 ? null : $"ApiVersions v0 error code {error}";
        }
        catch (Exception ex) when (ex is SocketException or IOException or TimeoutException or InvalidDataException)
        {
            return $"{ex.GetType().Name}: {ex.Message}";
        }
    }

    /// <summary>Metadata v7 for the given topics (null = all topics), never auto-creating. Throws on I/O errors.</summary>
    public static WireMetadata Metadata(string host, int port, IReadOnlyList<string>? topics, TimeSpan timeout)
    {
        var w = new Writer();
        if (topics is null) w.Int32(-1);
        else
        {
            w.Int32(topics.Count);
            foreach (string t in topics) w.String(t);
        }
        w.Bool(false); // allow_auto_topic_creation
        var r = new Reader(Call(host, port, ApiMetadata, 7, w, timeout));
        r.Int32(); // throttle
        var brokers = new WireBroker[r.Int32()];
        for (int i = 0; i < brokers.Length; i++)
        {
            brokers[i] = new WireBroker(r.Int32(), r.String()!, r.Int32());
            r.String(); // rack
        }
        string? clusterId = r.String();
        int controllerId = r.Int32();
        var result = new WireTopic[r.Int32()];
        for (int i = 0; i < result.Length; i++)
        {
            short error = r.Int16();
            string name = r.String()!;
            r.Bool(); // internal
            var parts = new WirePartition[r.Int32()];
            for (int p = 0; p < parts.Length; p++)
            {
                short perr = r.Int16();
                int index = r.Int32(), leader = r.Int32(), epoch = r.Int32();
                int[] replicas = r.Int32Array(), isr = r.Int32Array();
                r.Int32Array(); // offline
                parts[p] = new WirePartition(perr, index, leader, epoch, replicas, isr);
            }
            result[i] = new WireTopic(error, name, parts.OrderBy(p => p.Index).ToArray());
        }
        return new WireMetadata(brokers, clusterId, controllerId, result);
    }

    /// <summary>CreateTopics v2 for one topic; returns (error code, error message). Throws on I/O errors.</summary>
    public static (short Error, string? Message) CreateTopic(string host, int port, string name, int partitions,
        short replicationFactor, IReadOnlyDictionary<string, string>? configs, TimeSpan timeout)
    {
        var w = new Writer();
        w.Int32(1);
        w.String(name);
        w.Int32(partitions);
        w.Int16(replicationFactor);
        w.Int32(0); // assignments
        w.Int32(configs?.Count ?? 0);
        if (configs is not null)
        {
            foreach (var (k, v) in configs)
            {
                w.String(k);
                w.String(v);
            }
        }
        w.Int32((int)timeout.TotalMilliseconds);
        w.Bool(false); // validate_only
        var r = new Reader(Call(host, port, ApiCreateTopics, 2, w, timeout + TimeSpan.FromSeconds(5)));
        r.Int32(); // throttle
        int n = r.Int32();
        if (n != 1) throw new InvalidDataException($"CreateTopics response lists {n} topics, sent 1");
        string? got = r.String();
        short error = r.Int16();
        string? message = r.String();
        if (got != name) throw new InvalidDataException($"CreateTopics response names topic '{got}', sent '{name}'");
        return (error, message);
    }

    private static byte[] Call(string host, int port, short apiKey, short version, Writer body, TimeSpan timeout)
    {
        using var socket = KafkaWire.Connect(host, port, timeout);
        int correlationId = Random.Shared.Next(1, int.MaxValue);
        var frame = new Writer();
        frame.Int32(0); // size, patched below
        frame.Int16(apiKey);
        frame.Int16(version);
        frame.Int32(correlationId);
        frame.String("cluster-it");
        frame.Bytes(body.ToArray());
        byte[] bytes = frame.ToArray();
        BinaryPrimitives.WriteInt32BigEndian(bytes, bytes.Length - 4);
        socket.Send(bytes);
        return ReadResponse(socket, correlationId)[4..];
    }

    private static byte[] ReadResponse(Socket socket, int correlationId)
    {
        int size = BinaryPrimitives.ReadInt32BigEndian(KafkaWire.ReadExactly(socket, 4));
        if (size < 4 || size > 64 << 20) throw new InvalidDataException($"response size {size} is implausible");
        byte[] body = KafkaWire.ReadExactly(socket, size);
        int corr = BinaryPrimitives.ReadInt32BigEndian(body);
        if (corr != correlationId) throw new InvalidDataException($"response correlation id {corr}, sent {correlationId}");
        return body;
    }


    private sealed class Writer
    {
        private readonly MemoryStream _ms = new();
        private readonly byte[] _tmp = new byte[8];

        public void Int16(short v) { BinaryPrimitives.WriteInt16BigEndian(_tmp, v); _ms.Write(_tmp, 0, 2); }
        public void Int32(int v) { BinaryPrimitives.WriteInt32BigEndian(_tmp, v); _ms.Write(_tmp, 0, 4); }
        public void Bool(bool v) => _ms.WriteByte(v ? (byte)1 : (byte)0);
        public void Bytes(byte[] b) => _ms.Write(b);

        public void String(string? s)
        {
            if (s is null) { Int16(-1); return; }
            byte[] b = Encoding.UTF8.GetBytes(s);
            Int16((short)b.Length);
            _ms.Write(b);
        }

        public byte[] ToArray() => _ms.ToArray();
    }

    private sealed class Reader(byte[] data)
    {
        private int _pos;

        private ReadOnlySpan<byte> Take(int n)
        {
            if (n < 0 || _pos + n > data.Length)
                throw new InvalidDataException($"response truncated: need {n} bytes at {_pos} of {data.Length}");
            var span = data.AsSpan(_pos, n);
            _pos += n;
            return span;
        }

        public short Int16() => BinaryPrimitives.ReadInt16BigEndian(Take(2));
        public int Int32() => BinaryPrimitives.ReadInt32BigEndian(Take(4));
        public bool Bool() => Take(1)[0] != 0;

        public string? String()
        {
            short len = Int16();
            return len < 0 ? null : Encoding.UTF8.GetString(Take(len));
        }

        public int[] Int32Array()
        {
            int n = Int32();
            if (n < 0) return Array.Empty<int>();
            if (n > 100_000) throw new InvalidDataException($"array length {n} is implausible");
            var result = new int[n];
            for (int i = 0; i < n; i++) result[i] = Int32();
            return result;
        }
    }
}

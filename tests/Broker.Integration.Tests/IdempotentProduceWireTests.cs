using System.Buffers.Binary;
using System.Diagnostics;
using System.Text;
using Broker.Integration.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace Broker.Integration.Tests;

/// <summary>
/// Idempotent produce against the real broker binary with hand-built batches over a raw socket (Produce v8): a
/// duplicate gets the original base offset, a sequence gap OUT_OF_ORDER_SEQUENCE_NUMBER (45), an older epoch
/// INVALID_PRODUCER_EPOCH (47), and the producer state survives kill -9 (rebuilt from the log) and a clean restart
/// (from the snapshot written at shutdown).
/// </summary>
public sealed class IdempotentProduceWireTests : IntegrationTest
{
    private const string Topic = "idem";
    private const long ProducerId = 4242;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    public IdempotentProduceWireTests(ITestOutputHelper output) : base(output) { }

    [Fact]
    public void DuplicatesGapsAndStaleEpochs_AlsoAfterKillDashNineAndRestart()
    {
        var broker = StartBroker("idem");
        var (createError, createMessage) = ClusterWire.CreateTopic("127.0.0.1", broker.Port, Topic, 1, 1, null, Timeout);
        Assert.True(createError == 0, $"CreateTopics: {createError} {createMessage}\n{broker.DescribeState()}");

        byte[] b0 = IdempotentWire.Batch(ProducerId, 1, 0, "a", "b", "c");
        byte[] b1 = IdempotentWire.Batch(ProducerId, 1, 3, "d");
        var r0 = ProduceWhenReady(broker, b0);
        Assert.Equal(0, r0.Error);
        var r1 = Produce(broker, b1);
        Assert.Equal((0, r0.BaseOffset + 3), (r1.Error, r1.BaseOffset));

        var dup = Produce(broker, b0);
        Assert.True(dup.Error == 0 && dup.BaseOffset == r0.BaseOffset, $"duplicate answered {dup}, original at {r0.BaseOffset}");
        var gap = Produce(broker, IdempotentWire.Batch(ProducerId, 1, 6, "gap"));
        Assert.True(gap.Error == 45, $"gap answered {gap}");
        Assert.Contains("expected 4", gap.Message);
        var stale = Produce(broker, IdempotentWire.Batch(ProducerId, 0, 4, "stale"));
        Assert.True(stale.Error == 47, $"stale epoch answered {stale}");

        // kill -9: no snapshot is written; the restarted broker rebuilds the state from the batch headers.
        broker.Kill();
        broker.Restart();
        var dupAfterKill = ProduceWhenReady(broker, b1);
        Assert.True(dupAfterKill.Error == 0 && dupAfterKill.BaseOffset == r1.BaseOffset,
            $"after kill -9 the duplicate answered {dupAfterKill}, original at {r1.BaseOffset}\n{broker.DescribeState()}");
        Assert.Equal(45, Produce(broker, IdempotentWire.Batch(ProducerId, 1, 5, "gap")).Error);
        var r2 = Produce(broker, IdempotentWire.Batch(ProducerId, 1, 4, "e", "f"));
        Assert.Equal(0, r2.Error);
        Assert.True(r2.BaseOffset > r1.BaseOffset, $"next batch at {r2.BaseOffset}");

        // Clean restart: the state comes from producer-state.snapshot.
        broker.Stop();
        string snapshot = Path.Combine(broker.DataDir, $"{Topic}-0", "producer-state.snapshot");
        Assert.True(File.Exists(snapshot), $"no {snapshot} after a clean shutdown");
        broker.Restart();
        var dupAfterStop = ProduceWhenReady(broker, IdempotentWire.Batch(ProducerId, 1, 4, "e", "f"));
        Assert.True(dupAfterStop.Error == 0 && dupAfterStop.BaseOffset == r2.BaseOffset,
            $"after a clean restart the duplicate answered {dupAfterStop}, original at {r2.BaseOffset}\n{broker.DescribeState()}");
        Assert.Equal(47, Produce(broker, IdempotentWire.Batch(ProducerId, 0, 6, "stale")).Error);
        // A bumped epoch starts over at sequence 0.
        Assert.Equal(45, Produce(broker, IdempotentWire.Batch(ProducerId, 2, 6, "bump")).Error);
        Assert.Equal(0, Produce(broker, IdempotentWire.Batch(ProducerId, 2, 0, "bump")).Error);
    }

    private static IdempotentWire.Result Produce(BrokerProcess broker, byte[] batch) =>
        IdempotentWire.Produce(broker.Port, Topic, 0, batch, Timeout);

    /// <summary>Produces, retrying while the partition is not ready yet (no leader, unknown topic).</summary>
    private IdempotentWire.Result ProduceWhenReady(BrokerProcess broker, byte[] batch)
    {
        var sw = Stopwatch.StartNew();
        while (true)
        {
            IdempotentWire.Result r;
            try
            {
                r = Produce(broker, batch);
            }
            catch (Exception ex) when (ex is IOException or System.Net.Sockets.SocketException && sw.Elapsed < TimeSpan.FromSeconds(20))
            {
                Thread.Sleep(200);
                continue;
            }
            if (r.Error is not (3 or 5 or 6 or 7) || sw.Elapsed > TimeSpan.FromSeconds(20))
            {
                Output.WriteLine($"produce after {sw.ElapsedMilliseconds} ms: {r}");
                return r;
            }
            Thread.Sleep(200);
        }
    }
}

/// <summary>
/// Hand-encoded idempotent record batches (magic 2, uncompressed, CRC-32C) and Produce v8 (request header v1,
/// response header v0) for one partition.
/// </summary>
internal static class IdempotentWire
{
    public readonly record struct Result(short Error, long BaseOffset, string? Message)
    {
        public override string ToString() => $"error {Error}, base offset {BaseOffset}, message '{Message}'";
    }

    public static byte[] Batch(long producerId, short epoch, int baseSequence, params string[] values)
    {
        long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var records = new MemoryStream();
        for (int i = 0; i < values.Length; i++)
        {
            var body = new MemoryStream();
            body.WriteByte(0);                 // attributes
            WriteVarLong(body, 0);             // timestamp delta
            WriteVarLong(body, i);             // offset delta
            WriteVarLong(body, -1);            // null key
            byte[] value = Encoding.UTF8.GetBytes(values[i]);
            WriteVarLong(body, value.Length);
            body.Write(value);
            WriteVarLong(body, 0);             // no headers
            WriteVarLong(records, body.Length);
            body.WriteTo(records);
        }
        var batch = new byte[61 + records.Length];
        var s = batch.AsSpan();
        BinaryPrimitives.WriteInt64BigEndian(s, 0);                        // base offset
        BinaryPrimitives.WriteInt32BigEndian(s[8..], batch.Length - 12);   // batch length
        BinaryPrimitives.WriteInt32BigEndian(s[12..], -1);                 // partition leader epoch
        s[16] = 2;                                                         // magic
        BinaryPrimitives.WriteInt16BigEndian(s[21..], 0);                  // attributes
        BinaryPrimitives.WriteInt32BigEndian(s[23..], values.Length - 1);  // last offset delta
        BinaryPrimitives.WriteInt64BigEndian(s[27..], now);
        BinaryPrimitives.WriteInt64BigEndian(s[35..], now);
        BinaryPrimitives.WriteInt64BigEndian(s[43..], producerId);
        BinaryPrimitives.WriteInt16BigEndian(s[51..], epoch);
        BinaryPrimitives.WriteInt32BigEndian(s[53..], baseSequence);
        BinaryPrimitives.WriteInt32BigEndian(s[57..], values.Length);
        records.ToArray().CopyTo(s[61..]);
        BinaryPrimitives.WriteUInt32BigEndian(s[17..], Crc32C(s[21..]));
        return batch;
    }

    public static Result Produce(int port, string topic, int partition, byte[] batch, TimeSpan timeout)
    {
        using var connection = new WireConnection("127.0.0.1", port, "idem-wire");
        var r = connection.Call(0, 8, flexible: false, w => w
            .String(null)                               // transactional id
            .Int16(-1)                                  // acks=all
            .Int32((int)timeout.TotalMilliseconds)
            .Int32(1).String(topic)
            .Int32(1).Int32(partition).Bytes(batch));
        if (r.Int32() != 1 || r.String() != topic || r.Int32() != 1 || r.Int32() != partition)
            throw new InvalidDataException("Produce response does not describe the one partition sent");
        short error = r.Int16();
        long baseOffset = r.Int64();
        r.Int64();                                      // log append time
        r.Int64();                                      // log start offset
        r.Array(e => (e.Int32(), e.String()), structs: false); // record errors
        return new Result(error, baseOffset, r.String());
    }

    private static void WriteVarLong(Stream s, long v)
    {
        ulong z = (ulong)((v << 1) ^ (v >> 63));
        while (z >= 0x80)
        {
            s.WriteByte((byte)(z | 0x80));
            z >>= 7;
        }
        s.WriteByte((byte)z);
    }

    private static uint[]? _crcTable;

    /// <summary>CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), bitwise table.</summary>
    private static uint Crc32C(ReadOnlySpan<byte> data)
    {
        var table = _crcTable ??= BuildTable();
        uint crc = 0xFFFFFFFF;
        foreach (byte b in data) crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8);
        return ~crc;
    }

    private static uint[] BuildTable()
    {
        var t = new uint[256];
        for (uint i = 0; i < 256; i++)
        {
            uint c = i;
            for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? (c >> 1) ^ 0x82F63B78u : c >> 1;
            t[i] = c;
        }
        return t;
    }
}

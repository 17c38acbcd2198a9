using System.Buffers.Binary;
using Broker.Core.Buffers;
using Broker.Core.Hashing;
using Broker.Core.Records;
using Broker.Protocol.Codec;
using Broker.Protocol.Messages;

namespace Broker.LoadGen;

/// <summary>
/// `loadgen selftest`: checks the parts that do not need a broker: record batches from Broker.Core's builder as the
/// load generator uses it (byte-exact known answer, validated by RecordBatchValidator, decoded back by RecordReader,
/// corruption detected, no allocation), a Produce request round trip through the codec, the histogram's error bound
/// and percentiles, the e2e stamp and argument parsing.
/// Prints one line per check and "N passed, N failed".
/// </summary>
public static partial class SelfTest
{
    private static int _passed, _failed;

    public static int Run()
    {
        Check("crc32c known vector", () => Crc32C.Compute("123456789"u8) == 0xE3069283u);
        BatchKnownAnswer();
        BatchRoundTrips();
        BatchFullAndErrors();
        BatchAllocationFree();
        ProduceRequestRoundTrip();
        HistogramChecks();
        StampChecks();
        OptionChecks();
        Console.WriteLine($"selftest: {_passed} passed, {_failed} failed");
        return _failed == 0 ? 0 : 1;
    }

    private static void Check(string name, Func<bool> test)
    {
        bool ok;
        string? detail = null;
        try { ok = test(); }
        catch (Exception e) { ok = false; detail = e.GetType().Name + ": " + e.Message; }
        if (ok) _passed++; else _failed++;
        Console.WriteLine($"{(ok ? "PASS" : "FAIL")}  {name}{(detail is null ? "" : "  (" + detail + ")")}");
    }

    private static void BatchKnownAnswer()
    {
        // One record, key "k", value "v", CreateTime 1000: every byte written out by hand from the v2 format.
        byte[] expected = Convert.FromHexString(
            "0000000000000000" + "0000003A" + "FFFFFFFF" + "02" + "00000000" + "0000" + "00000000" +
            "00000000000003E8" + "00000000000003E8" + "FFFFFFFFFFFFFFFF" + "FFFF" + "FFFFFFFF" + "00000001" +
            "10" + "00" + "00" + "00" + "02" + "6B" + "02" + "76" + "00");
        BinaryPrimitives.WriteUInt32BigEndian(expected.AsSpan(17), Crc32C.ComputeSoftware(expected.AsSpan(21)));
        var b = new RecordBatchBuilder(256);
        b.Reset(1000);
        b.TryAppend(1000, "k"u8, "v"u8);
        var batch = b.ToArray();
        Check("batch: byte-exact known answer (1 record, key k, value v)", () => batch.AsSpan().SequenceEqual(expected));
        Check("batch: known answer passes RecordBatchValidator",
            () => RecordBatchValidator.ValidateOne(batch, 1 << 20, out _) == BatchError.None);
    }

    private static void BatchRoundTrips()
    {
        // Sizes around varint boundaries (63/64 one/two bytes zigzag, 8191/8192 two/three bytes) and counts past 64.
        int[] valueSizes = [0, 1, 12, 63, 64, 100, 1024, 8191, 8192, 70000];
        int[] counts = [1, 2, 63, 64, 65, 300];
        foreach (int size in valueSizes)
            foreach (int count in counts)
            {
                if ((long)size * count > 4_000_000) continue;
                foreach (bool keyed in new[] { false, true })
                    Check($"batch: {count} x {size} B, {(keyed ? "8 B keys" : "null keys")}: valid and decodes back",
                        () => RoundTrip(size, count, keyed));
            }
    }

    private static bool RoundTrip(int valueSize, int count, bool keyed)
    {
        int capacity = RecordBatchHeader.Size + count * RecordBatchBuilder.RecordSize(8, valueSize, 100_000, count);
        var b = new RecordBatchBuilder(capacity, maxBatchBytes: capacity);
        long baseTs = 1_700_000_000_000;
        b.Reset(baseTs, producerId: keyed ? 42 : -1, producerEpoch: (short)(keyed ? 3 : -1), baseSequence: keyed ? 7 : -1);
        var key = new byte[8];
        var value = new byte[valueSize];
        for (int i = 0; i < count; i++)
        {
            BinaryPrimitives.WriteInt64BigEndian(key, i);
            if (valueSize >= 4) BinaryPrimitives.WriteInt32BigEndian(value, i * 31);
            long ts = baseTs + (i % 7) * 1000 - 500; // deltas both negative and positive
            if (!b.TryAppend(ts, key, value, keyIsNull: !keyed)) return false;
        }
        var batch = b.Build();
        var span = batch.Span;
        if (RecordBatchValidator.ValidateOne(span, int.MaxValue, out var h) != BatchError.None) return false;
        if (h.TotalSize != span.Length || h.RecordsCount != count || h.LastOffsetDelta != count - 1) return false;
        if (h.BaseTimestamp != baseTs || h.MaxTimestamp != baseTs + (Math.Min(count - 1, 6)) * 1000 - 500 && count > 1) return false;
        if (h.Magic != 2 || h.Compression != CompressionCodec.None || h.PartitionLeaderEpoch != -1) return false;
        if (h.ProducerId != (keyed ? 42 : -1) || h.BaseSequence != (keyed ? 7 : -1)) return false;
        var records = new RecordReader(span);
        int n = 0;
        while (records.TryRead(out var r))
        {
            if (r.Offset != n || r.Timestamp - baseTs != (n % 7) * 1000 - 500 || r.HeaderCount != 0) return false;
            if (r.KeyIsNull == keyed || (keyed && BinaryPrimitives.ReadInt64BigEndian(r.Key) != n)) return false;
            if (r.Value.Length != valueSize || (valueSize >= 4 && BinaryPrimitives.ReadInt32BigEndian(r.Value) != n * 31)) return false;
            n++;
        }
        return n == count && records.Position == span.Length;
    }

    private static void BatchFullAndErrors()
    {
        int capacity = RecordBatchHeader.Size + 3 * RecordBatchBuilder.RecordSize(-1, 100, 0, 2);
        var b = new RecordBatchBuilder(capacity, maxBatchBytes: capacity);
        b.Reset(0);
        var v = new byte[100];
        bool a1 = b.TryAppend(0, default, v, keyIsNull: true), a2 = b.TryAppend(0, default, v, keyIsNull: true);
        bool a3 = b.TryAppend(0, default, v, keyIsNull: true), a4 = b.TryAppend(0, default, v, keyIsNull: true);
        var batch = b.ToArray();
        Check("batch: TryAppend refuses the record that does not fit; the batch stays valid",
            () => a1 && a2 && a3 && !a4 && b.RecordCount == 3 && RecordBatchValidator.ValidateOne(batch, 1 << 20, out _) == BatchError.None);
        batch[RecordBatchHeader.Size + 5] ^= 0x40;
        Check("batch: a flipped payload bit is a CRC mismatch", () => RecordBatchValidator.ValidateOne(batch, 1 << 20, out _) == BatchError.CrcMismatch);
        var e = new RecordBatchBuilder(1024);
        e.Reset(0);
        Check("batch: building an empty batch is refused", () => Throws<InvalidOperationException>(() => e.Build()));
        Check("batch: appending before Reset is refused",
            () => Throws<InvalidOperationException>(() => new RecordBatchBuilder(1024).TryAppend(0, default, v, keyIsNull: true)));
    }

    private static void BatchAllocationFree()
    {
        var b = new RecordBatchBuilder(200_000, maxBatchBytes: 200_000);
        var value = new byte[1024];
        Build(b, value); // warm up (JIT)
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 200; i++) Build(b, value);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Check($"batch: building 200 batches of 100 records allocates nothing ({allocated} B)", () => allocated == 0);

        static void Build(RecordBatchBuilder b, byte[] value)
        {
            b.Reset(1);
            for (int i = 0; i < 100; i++)
            {
                b.TryReserve(1, 8, value.Length, out var k, out var v);
                k.Fill((byte)'0');
                value.CopyTo(v);
            }
            b.Build();
        }
    }

    private static void ProduceRequestRoundTrip()
    {
        var b = new RecordBatchBuilder(64 * 1024);
        b.Reset(5);
        for (int i = 0; i < 50; i++) b.Add(5, default, new byte[100], keyIsNull: true);
        var batch = b.Build();
        foreach (short version in new short[] { 3, 8, 9, 11 })
        {
            var pd = new ProduceRequest.PartitionProduceData { Index = 2, Records = batch };
            var req = new ProduceRequest { Acks = -1, TimeoutMs = 1234, TopicData = [new() { Name = "t", PartitionData = [pd] }] };
            using var w = new ChunkedBufferWriter();
            var kw = new KafkaWriter(w);
            new RequestHeader(ProduceRequest.ApiKey, version, 77, "selftest").Write(ref kw);
            req.Write(ref kw, version);
            w.WriteSizePrefix();
            var frame = w.ToArray();
            Check($"produce request v{version}: size prefix, header and batch survive the codec", () =>
            {
                if (BinaryPrimitives.ReadInt32BigEndian(frame) != frame.Length - 4) return false;
                var r = new KafkaReader(frame.AsMemory(4));
                var h = RequestHeader.Read(ref r);
                var back = ProduceRequest.Read(ref r, version);
                var rec = back.TopicData[0].PartitionData[0].Records!.Value;
                return h.CorrelationId == 77 && h.ApiVersion == version && r.IsAtEnd && back.Acks == -1
                    && back.TopicData[0].Name == "t" && back.TopicData[0].PartitionData[0].Index == 2
                    && rec.Span.SequenceEqual(batch.Span) && RecordBatchValidator.ValidateOne(rec.Span, 1 << 20, out _) == BatchError.None;
            });
        }
    }

    private static bool Throws<T>(Action a) where T : Exception
    {
        try { a(); return false; }
        catch (T) { return true; }
    }
}

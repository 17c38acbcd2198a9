using System.Diagnostics;
using System.Text;
using Broker.Compression;
using Broker.Core.Records;
using Broker.Integration.Tests.Infrastructure;

namespace Broker.Integration.Tests.Compression;

/// <summary>One record as the compression tests compare them: key and value as text (neither is null here).</summary>
internal readonly record struct TextRecord(long Offset, string Key, string Value)
{
    public string Line => $"{Key}\t{Value}";
}

/// <summary>
/// Raw-wire helpers for the compression tests: Fetch v10 (the first version that may carry zstd) returning the
/// record batches exactly as the broker stores them, and Produce v8 of one prepared batch.
/// </summary>
internal static class CompressionWire
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    /// <summary>Creates a one-partition topic and waits until a produce to it is accepted by the leader.</summary>
    public static void CreateTopic(BrokerProcess broker, string topic)
    {
        var (error, message) = ClusterWire.CreateTopic("127.0.0.1", broker.Port, topic, 1, 1, null, Timeout);
        if (error != 0) throw new InvalidOperationException($"CreateTopics {topic}: error {error} {message}\n{broker.DescribeState()}");
    }

    /// <summary>Produces one batch (acks=all), retrying while the partition has no leader yet; returns the base offset.</summary>
    public static long Produce(BrokerProcess broker, string topic, byte[] batch)
    {
        var sw = Stopwatch.StartNew();
        while (true)
        {
            var result = IdempotentWire.Produce(broker.Port, topic, 0, batch, Timeout);
            if (result.Error == 0) return result.BaseOffset;
            if (result.Error is not (3 or 5 or 6 or 7) || sw.Elapsed > TimeSpan.FromSeconds(20))
                throw new InvalidOperationException($"Produce to {topic}: {result}\n{broker.DescribeState()}");
            Thread.Sleep(200);
        }
    }

    /// <summary>The raw batches of partition 0 from <paramref name="offset"/> on (one Fetch; a partial tail is dropped).</summary>
    public static List<byte[]> FetchBatches(BrokerProcess broker, string topic, long offset)
    {
        using var connection = new WireConnection("127.0.0.1", broker.Port, "compression-wire");
        var r = connection.Call(1, 10, flexible: false, w => w
            .Int32(-1)                 // replica id
            .Int32(200)                // max wait ms
            .Int32(1)                  // min bytes
            .Int32(8 << 20)            // max bytes
            .Int8(0)                   // read uncommitted
            .Int32(0).Int32(-1)        // no fetch session
            .Array(new[] { topic }, (tw, t) => tw
                .String(t)
                .Array(new[] { 0 }, (pw, p) => pw
                    .Int32(p)
                    .Int32(-1)         // current leader epoch: unknown
                    .Int64(offset)
                    .Int64(-1)         // log start offset (consumers send -1)
                    .Int32(8 << 20), structs: false), structs: false)
            .Array(Array.Empty<string>(), (_, _) => { }, structs: false)); // forgotten topics
        r.Int32(); // throttle
        short topError = r.Int16();
        r.Int32(); // session id
        if (topError != 0) throw new InvalidOperationException($"Fetch {topic}: top-level error {topError}");
        var batches = new List<byte[]>();
        var topics = r.Array(t =>
        {
            t.String();
            return t.Array(p =>
            {
                p.Int32();
                short error = p.Int16();
                p.Int64(); p.Int64(); p.Int64();                    // high watermark, last stable, log start
                p.Array(a => (a.Int64(), a.Int64()), structs: false); // aborted transactions
                byte[] records = p.Bytes();
                if (error != 0) throw new InvalidOperationException($"Fetch {topic}-0: error {error}");
                return records;
            }, structs: false);
        }, structs: false);
        foreach (byte[] records in topics.SelectMany(x => x))
        {
            int position = 0;
            while (records.Length - position >= RecordBatchHeader.Size)
            {
                RecordBatchHeader.TryRead(records.AsSpan(position), out var header);
                if (header.TotalSize < RecordBatchHeader.Size || header.TotalSize > records.Length - position) break; // partial tail
                batches.Add(records.AsSpan(position, header.TotalSize).ToArray());
                position += header.TotalSize;
            }
        }
        return batches;
    }

    /// <summary>
    /// Fetches partition 0 from offset 0 until <paramref name="count"/> records arrived, decompressing every batch with
    /// <see cref="RecordBatchCompression.Decompress"/>; <paramref name="codecs"/> collects the codec of each batch.
    /// </summary>
    public static List<TextRecord> FetchRecords(BrokerProcess broker, string topic, int count, List<CompressionCodec> codecs,
        Action<byte[]>? onBatch = null)
    {
        var records = new List<TextRecord>();
        long next = 0;
        var sw = Stopwatch.StartNew();
        while (records.Count < count)
        {
            if (sw.Elapsed > TimeSpan.FromSeconds(20))
                throw new TimeoutException($"fetched {records.Count} of {count} records of {topic} in 20 s");
            foreach (byte[] batch in FetchBatches(broker, topic, next))
            {
                codecs.Add(RecordBatchCompression.CodecOf(batch));
                onBatch?.Invoke(batch);
                byte[] plain = RecordBatchCompression.Decompress(batch);
                var reader = new RecordReader(plain);
                while (reader.TryRead(out var record))
                {
                    if (record.Offset < next) continue;
                    records.Add(new TextRecord(record.Offset, Encoding.UTF8.GetString(record.Key), Encoding.UTF8.GetString(record.Value)));
                    next = record.Offset + 1;
                }
            }
        }
        return records;
    }
}

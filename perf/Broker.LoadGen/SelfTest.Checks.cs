namespace Broker.LoadGen;

/// <summary>Selftest checks of the histogram, the e2e stamp and the option parser.</summary>
public static partial class SelfTest
{
    private static void HistogramChecks()
    {
        Check("histogram: buckets are contiguous and relative error <= 1/128 over 1 ns .. 2^44 ns", () =>
        {
            int prev = -1;
            long prevLow = -1;
            for (long v = 0; v < 1 << 16; v++)
            {
                int i = LatencyHistogram.IndexOf(v);
                if (i < prev || i > prev + 1) return false;
                if (i != prev) { if (LatencyHistogram.LowestOf(i) != v || v <= prevLow && v > 0) return false; prevLow = v; }
                prev = i;
            }
            var rng = new Random(1);
            for (int k = 0; k < 200_000; k++)
            {
                long v = (long)Math.Pow(2, rng.NextDouble() * 44);
                int i = LatencyHistogram.IndexOf(v);
                long low = LatencyHistogram.LowestOf(i), width = LatencyHistogram.WidthOf(i);
                if (v < low || v >= low + width) return false;
                if (v >= 128 && (double)width / v > 1.0 / 128 + 1e-12) return false;
            }
            return LatencyHistogram.IndexOf(LatencyHistogram.MaxTrackable) < (36 + 2) * LatencyHistogram.SubBuckets;
        });
        Check("histogram: percentiles of 1..1,000,000 ns within 1%", () =>
        {
            var h = new LatencyHistogram();
            for (long v = 1; v <= 1_000_000; v++) h.Record(v);
            return Near(h.Percentile(50), 500_000) && Near(h.Percentile(90), 900_000) && Near(h.Percentile(99), 990_000)
                && Near(h.Percentile(99.9), 999_000) && h.Max == 1_000_000 && h.Min == 1 && h.Count == 1_000_000
                && Math.Abs(h.Mean - 500_000.5) < 1;
        });
        Check("histogram: a skewed mix (99% 1 ms, 1% 100 ms) has p50 1 ms, p99.9 100 ms", () =>
        {
            var h = new LatencyHistogram();
            h.Record(1_000_000, 9_900);
            h.Record(100_000_000, 100);
            return Near(h.Percentile(50), 1_000_000) && Near(h.Percentile(99), 1_000_000)
                && Near(h.Percentile(99.9), 100_000_000) && h.Percentile(100) == 100_000_000;
        });
        Check("histogram: small values are exact; empty reads 0; clamps and negatives are safe", () =>
        {
            var h = new LatencyHistogram();
            if (h.Percentile(99) != 0 || h.Max != 0 || h.Min != 0) return false;
            h.Record(7); h.Record(7); h.Record(3);
            if (h.Percentile(50) != 7 || h.Percentile(1) != 3 || h.Max != 7) return false;
            h.Record(-5); h.Record(long.MaxValue); h.Record(10, count: 0);
            return h.Count == 5 && h.Min == 0 && h.Max == LatencyHistogram.MaxTrackable;
        });
        Check("histogram: merging two halves equals recording all", () =>
        {
            LatencyHistogram a = new(), b = new(), all = new();
            var rng = new Random(7);
            for (int i = 0; i < 50_000; i++)
            {
                long v = rng.NextInt64(1, 50_000_000);
                (i % 2 == 0 ? a : b).Record(v);
                all.Record(v);
            }
            a.Add(b);
            foreach (double p in new[] { 50, 90, 99, 99.9, 100 })
                if (a.Percentile(p) != all.Percentile(p)) return false;
            return a.Count == all.Count && a.Min == all.Min && a.Max == all.Max;
        });
    }

    private static bool Near(long actual, long expected) => Math.Abs(actual - expected) <= expected * 0.01;

    private static void StampChecks()
    {
        Check("e2e stamp: round trip, other run ids and short values rejected", () =>
        {
            var v = new byte[100];
            E2EStamp.Write(v, 0xDEADBEEF, 123_456_789_012);
            return E2EStamp.TryRead(v, 0xDEADBEEF, out long t) && t == 123_456_789_012
                && !E2EStamp.TryRead(v, 1, out _) && !E2EStamp.TryRead(v.AsSpan(0, 11), 0xDEADBEEF, out _);
        });
    }

    private static void OptionChecks()
    {
        Check("options: defaults", () =>
        {
            var o = Options.Parse(["produce"]);
            return o.Scenario == Scenario.Produce && o.Host == "127.0.0.1" && o.Port == 9092 && o.Acks == 1 && o.Rate == 0
                && o.BatchRecords == 100 && o.MaxInflight == 5 && o.DurationSeconds == 10 && o.WarmupSeconds == 2;
        });
        Check("options: every option, both --k v and --k=v", () =>
        {
            var o = Options.Parse(["e2e", "--bootstrap", "localhost:19092", "--topic=t.x-1", "--partitions", "6",
                "--record-size", "100", "--key-cardinality=1000", "--acks", "-1", "--batch-records", "50", "--linger-ms", "2.5",
                "--producers", "2", "--consumers=3", "--rate", "20000", "--warmup", "0", "--duration", "3.5",
                "--max-inflight", "8", "--request-timeout-ms", "3000", "--fetch-max-wait-ms", "100", "--fetch-min-bytes", "10",
                "--fetch-max-bytes", "1048576", "--partition-max-bytes", "65536", "--check-crc", "--follow",
                "--json", "a.json", "--report", "r.md", "--label", "L", "--client-id", "c"]);
            return o.Scenario == Scenario.E2E && o.Host == "localhost" && o.Port == 19092 && o.Topic == "t.x-1" && o.Partitions == 6
                && o.RecordSize == 100 && o.KeyCardinality == 1000 && o.Acks == -1 && o.BatchRecords == 50 && o.LingerMs == 2.5
                && o.Producers == 2 && o.Consumers == 3 && o.Rate == 20000 && o.WarmupSeconds == 0 && o.DurationSeconds == 3.5
                && o.MaxInflight == 8 && o.RequestTimeoutMs == 3000 && o.FetchMaxWaitMs == 100 && o.FetchMinBytes == 10
                && o.FetchMaxBytes == 1048576 && o.PartitionMaxBytes == 65536 && o.CheckCrc && o.Follow
                && o.JsonFile == "a.json" && o.ReportFile == "r.md" && o.Label == "L" && o.ClientId == "c";
        });
        Check("options: IPv6 bootstrap in brackets", () => Options.Parse(["consume", "--bootstrap", "[::1]:9092"]).Host == "::1");
        string[][] bad =
        [
            [], ["bogus"], ["produce", "--acks", "2"], ["produce", "--acks"], ["produce", "--partitions", "0"],
            ["produce", "--bootstrap", "nohost"], ["produce", "--bootstrap", "h:99999"], ["produce", "--rate", "-1"],
            ["produce", "--duration", "abc"], ["produce", "--topic", "bad/topic"], ["produce", "--nope", "1"],
            ["produce", "stray"], ["e2e", "--record-size", "8"], ["produce", "--check-crc=yes"],
            ["produce", "--fetch-max-wait-ms", "6000"], ["produce", "--batch-records", "1000000", "--record-size", "1048576"],
            ["produce", "--producers", "0"], ["consume", "--consumers", "0"],
        ];
        foreach (var args in bad)
            Check($"options: rejects [{string.Join(' ', args)}] with a message", () =>
            {
                try { Options.Parse(args); return false; }
                catch (ArgumentException e) { return e.Message.Length > 10; }
            });
    }
}

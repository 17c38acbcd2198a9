using System.Text;
using Broker.Compression;
using Broker.Core.Records;
using Xunit.Abstractions;

namespace Broker.Storage.Tests.Compaction;

/// <summary>
/// The log cleaner against a plain model, on seeded random workloads: appends of 1–12 keyed records (small and large
/// key spaces, tombstones, key-less records) in uncompressed and compressed batches (every codec), compaction passes
/// with random high-watermark bounds, clocks, delete.retention.ms and min.compaction.lag.ms, and reopens. After every
/// pass the whole log must read back as exactly the model's records, in batches with unchanged headers and valid CRCs.
/// <para>The model's rules (what the implementation promises):</para>
/// <list type="bullet">
/// <item>The key map covers every whole batch below the bound B (a batch reaching B contributes nothing), in every
/// segment, the active one included: latest[key] = the highest offset of a record with that key.</item>
/// <item>Cleanable segments: the longest prefix of sealed segments each ending at or below B and, when
/// min.compaction.lag.ms is set, whose largest batch timestamp is at least that old. Nothing else changes.</item>
/// <item>In a cleanable segment a key-less record stays; a keyed record goes when a later record of its key exists
/// (offset &lt; latest[key]); the latest record of a key goes only when it is a tombstone and now − (its segment's
/// largest batch timestamp) &gt; delete.retention.ms. Once a tombstone a pass kept reaches that age, the log reports
/// itself fully dirty (ratio 1) so the next scheduled pass removes it without waiting for new writes.</item>
/// <item>Every batch stays with its header (offsets, epoch, producer fields, timestamps); it holds its surviving
/// records, compressed with its codec, or none (an uncompressed shell).</item>
/// </list>
/// Set COMPACTION_MODEL_SEEDS to run more (or fewer) seeds; a failure names its seed.
/// </summary>
public sealed class CompactionModelTests(ITestOutputHelper output)
{
    private static readonly CompressionCodec[] CodecPool =
        [CompressionCodec.None, CompressionCodec.None, CompressionCodec.None, CompressionCodec.Gzip, CompressionCodec.Snappy, CompressionCodec.Lz4, CompressionCodec.Zstd];

    [Fact]
    public void Random_workloads_read_back_exactly_as_the_model_says()
    {
        int seeds = int.TryParse(Environment.GetEnvironmentVariable("COMPACTION_MODEL_SEEDS"), out int n) && n > 0 ? n : 200;
        var totals = new ModelRun.Totals();
        var watch = System.Diagnostics.Stopwatch.StartNew();
        for (int seed = 1; seed <= seeds; seed++)
        {
            using var run = new ModelRun(seed, totals);
            try
            {
                run.Execute();
            }
            catch (Exception ex)
            {
                throw new Xunit.Sdk.XunitException($"compaction model, seed {seed} (step {run.Step}): {ex.Message}\n{run.Describe()}\n{ex}");
            }
        }
        output.WriteLine($"{seeds} seeds in {watch.Elapsed.TotalSeconds:F1} s: {totals}");
        // The workloads must exercise what they claim to (a model test that never removes anything proves nothing).
        Assert.True(totals.Removed > 50 * seeds && totals.TombstonesDropped > 2 * seeds && totals.CompressedRewritten > 5 * seeds &&
                    totals.LagBlocked > seeds / 2 && totals.Reopens > 2 * seeds && totals.EmptiedBatches > 5 * seeds, totals.ToString());
    }

    /// <summary>One seed's workload: the log under test, the model, and the checks.</summary>
    private sealed class ModelRun : IDisposable
    {
        public sealed class Totals
        {
            public long Passes, Removed, TombstonesDropped, CompressedRewritten, LagBlocked, Reopens, EmptiedBatches;
            public override string ToString() =>
                $"{Passes} passes, {Removed} records removed, {TombstonesDropped} tombstones dropped, {CompressedRewritten} " +
                $"compressed batches rewritten, {EmptiedBatches} batches emptied, {LagBlocked} passes stopped by the lag, {Reopens} reopens";
        }

        private sealed record ModelRecord(long Offset, string? Key, string? Value);

        private sealed class ModelBatch(long baseOffset, int lastOffsetDelta, long baseTimestamp, long maxTimestamp,
            CompressionCodec codec, long producerId, int baseSequence, int epoch, List<ModelRecord> records)
        {
            public long BaseOffset { get; } = baseOffset;
            public int LastOffsetDelta { get; } = lastOffsetDelta;
            public long LastOffset => BaseOffset + LastOffsetDelta;
            public long BaseTimestamp { get; } = baseTimestamp;
            public long MaxTimestamp { get; } = maxTimestamp;
            public CompressionCodec Codec { get; } = codec;
            public long ProducerId { get; } = producerId;
            public int BaseSequence { get; } = baseSequence;
            public int Epoch { get; } = epoch;
            public List<ModelRecord> Records { get; set; } = records;
        }

        private readonly Random _rng;
        private readonly Totals _totals;
        private readonly string _root = Path.Combine(FastTempRoot(), "compaction-model-" + Guid.NewGuid().ToString("N"));
        private readonly FakeClock _clock = new();
        private readonly LogOptions _options;
        private readonly int _keySpace;
        private readonly List<ModelBatch> _batches = new();
        private readonly long _producerId;
        private PartitionLog _log;
        private int _sequence, _epoch = 1;

        public ModelRun(int seed, Totals totals)
        {
            _rng = new Random(seed);
            _totals = totals;
            _keySpace = new[] { 2, 5, 20, 300 }[_rng.Next(4)];
            _producerId = _rng.Next(2) == 0 ? -1 : 1000 + seed;
            _options = new LogOptions
            {
                Compact = true,
                SegmentBytes = _rng.Next(300, 2500),
                IndexIntervalBytes = _rng.Next(0, 400),
                RetentionMs = -1,
                DeleteRetentionMs = new long[] { 0, 400, 3000 }[_rng.Next(3)],
                MinCompactionLagMs = new long[] { 0, 0, 500, 2500 }[_rng.Next(4)],
            };
            _log = OpenLog();
        }

        private string Dir => Path.Combine(_root, "model-0");

        /// <summary>tmpfs when the machine has one: the model checks logic, not the disk, and the cleaner fsyncs every
        /// copy it writes (a few thousand per run).</summary>
        private static string FastTempRoot() =>
            Directory.Exists("/dev/shm") && (File.GetAttributes("/dev/shm") & FileAttributes.ReadOnly) == 0 ? "/dev/shm" : Path.GetTempPath();

        public int Step { get; private set; }

        private PartitionLog OpenLog() => PartitionLog.Open(Dir, new Broker.Core.Model.TopicPartition("model", 0), _options, _clock);

        public void Execute()
        {
            int steps = _rng.Next(30, 70);
            for (Step = 0; Step < steps; Step++)
            {
                int roll = _rng.Next(100);
                if (roll < 65) Append();
                else if (roll < 88) Pass(RandomBound());
                else if (roll < 93) Reopen();
                else _clock.Now += _rng.Next(0, 4000);
                _clock.Now += _rng.Next(0, 200);
            }
            _clock.Now += 10_000; // past every lag and delete retention
            Pass(_log.LogEndOffset);
            Reopen();
            Pass(_log.LogEndOffset);
        }

        private long RandomBound()
        {
            long end = _log.LogEndOffset;
            return _rng.Next(3) == 0 ? _rng.NextInt64(0, end + 1) : end;
        }

        private void Append()
        {
            int count = _rng.Next(1, 13);
            var codec = CodecPool[_rng.Next(CodecPool.Length)];
            long timestamp = _clock.Now;
            var builder = new RecordBatchBuilder();
            int sequence = _producerId >= 0 ? _sequence : -1;
            builder.Reset(timestamp, _producerId, (short)(_producerId >= 0 ? 0 : -1), sequence);
            long baseOffset = _log.LogEndOffset;
            var records = new List<ModelRecord>(count);
            long maxTimestamp = timestamp;
            for (int i = 0; i < count; i++)
            {
                string? key = _rng.Next(20) == 0 ? null : "key-" + _rng.Next(_keySpace);
                string? value = key != null && _rng.Next(6) == 0 ? null : new string((char)('a' + _rng.Next(26)), _rng.Next(0, 40));
                long ts = timestamp + _rng.Next(0, 30);
                maxTimestamp = Math.Max(maxTimestamp, ts);
                builder.Add(ts, key is null ? default : Encoding.UTF8.GetBytes(key), value is null ? default : Encoding.UTF8.GetBytes(value),
                    keyIsNull: key is null, valueIsNull: value is null);
                records.Add(new ModelRecord(baseOffset + i, key, value));
            }
            byte[] batch = builder.ToArray();
            if (codec != CompressionCodec.None) batch = RecordBatchCompression.Compress(batch, codec);
            if (_rng.Next(10) == 0) _epoch++;
            var info = _log.Append(batch, _epoch);
            Assert.Equal(baseOffset, info.FirstOffset);
            if (_producerId >= 0) _sequence += count;
            _batches.Add(new ModelBatch(baseOffset, count - 1, timestamp, maxTimestamp, codec, _producerId, sequence, _epoch, records));
        }

        /// <summary>One cleaner pass at <paramref name="bound"/>: predicts it, runs it, checks the log.</summary>
        private void Pass(long bound)
        {
            long now = _clock.Now;
            var bases = _log.SegmentBaseOffsets();
            // Cleanable prefix of sealed segments.
            int count = CountCleanable(bases, bound, now);
            var segmentMax = Enumerable.Range(0, count)
                .Select(i => _batches.Where(b => b.BaseOffset >= bases[i] && b.BaseOffset < bases[i + 1]).Max(b => b.MaxTimestamp)).ToList();
            bool lagBlocked = count < bases.Count - 1 && bases[count + 1] <= bound;

            var result = _log.Compact(bound, now);
            _totals.Passes++;
            if (lagBlocked) _totals.LagBlocked++;
            if (count == 0)
            {
                Assert.False(result.Ran, $"pass at {bound} cleaned {result} though no segment is cleanable");
                Verify();
                return;
            }

            var latest = new Dictionary<string, long>();
            foreach (var batch in _batches.Where(b => b.LastOffset < bound))
                foreach (var r in batch.Records)
                    if (r.Key != null) latest[r.Key] = r.Offset;

            long removed = 0, tombstoneDeadline = long.MaxValue;
            for (int i = 0; i < count; i++)
            {
                long next = bases[i + 1];
                bool dropTombstones = now - segmentMax[i] > _options.DeleteRetentionMs;
                bool keptTombstone = _batches.Where(b => b.BaseOffset >= bases[i] && b.BaseOffset < next)
                    .SelectMany(b => b.Records).Any(r => r.Key != null && r.Value is null && latest[r.Key] == r.Offset);
                if (keptTombstone && !dropTombstones)
                    tombstoneDeadline = Math.Min(tombstoneDeadline, segmentMax[i] + _options.DeleteRetentionMs);
                foreach (var batch in _batches.Where(b => b.BaseOffset >= bases[i] && b.BaseOffset < next))
                {
                    var kept = batch.Records.Where(r => Keep(r, latest, dropTombstones)).ToList();
                    if (kept.Count == batch.Records.Count) continue;
                    removed += batch.Records.Count - kept.Count;
                    _totals.TombstonesDropped += batch.Records.Count(r => r.Value is null && r.Key != null && latest[r.Key] == r.Offset && !kept.Contains(r));
                    if (batch.Codec != CompressionCodec.None && kept.Count > 0) _totals.CompressedRewritten++;
                    if (kept.Count == 0) _totals.EmptiedBatches++;
                    batch.Records = kept;
                }
            }
            _totals.Removed += removed;

            Assert.Equal(count, result.SegmentsCleaned);
            Assert.Equal(bases[count], result.CleanedUpTo);
            Assert.Equal(removed, result.RecordsRemoved);
            Assert.Equal(bases, _log.SegmentBaseOffsets()); // compaction never moves segment boundaries
            Assert.Equal(0.0, _log.CleanableDirtyRatio(bound, now)); // everything cleanable was just cleaned
            // Later, the cleaned range is dirty again as soon as a tombstone this pass kept may go (or when more
            // segments became cleanable).
            long later = now + _rng.Next(0, 5000);
            double ratio = _log.CleanableDirtyRatio(bound, later);
            if (later > tombstoneDeadline) Assert.Equal(1.0, ratio);
            else if (CountCleanable(bases, bound, later) > count) Assert.True(ratio > 0, $"ratio {ratio}");
            else Assert.Equal(0.0, ratio);
            Verify();
        }

        private int CountCleanable(IReadOnlyList<long> bases, long bound, long now)
        {
            int count = 0;
            for (int i = 0; i < bases.Count - 1; i++)
            {
                long next = bases[i + 1];
                if (next > bound) break;
                long max = _batches.Where(b => b.BaseOffset >= bases[i] && b.BaseOffset < next).Max(b => b.MaxTimestamp);
                if (_options.MinCompactionLagMs > 0 && max > now - _options.MinCompactionLagMs) break;
                count++;
            }
            return count;
        }

        private static bool Keep(ModelRecord r, Dictionary<string, long> latest, bool dropTombstones)
        {
            if (r.Key is null || !latest.TryGetValue(r.Key, out long last)) return true;
            if (r.Offset < last) return false;
            return !(r.Value is null && dropTombstones);
        }

        private void Reopen()
        {
            var before = LogTestBase.ReadAll(_log, 0);
            var bases = _log.SegmentBaseOffsets();
            long end = _log.LogEndOffset;
            _log.Dispose();
            _log = OpenLog();
            _totals.Reopens++;
            Assert.Equal(end, _log.LogEndOffset);
            Assert.Equal(bases, _log.SegmentBaseOffsets());
            Assert.Equal(before, LogTestBase.ReadAll(_log, 0));
            Assert.Empty(Directory.GetFiles(Dir, "*.tmp"));
            Verify();
        }

        /// <summary>The whole log equals the model: batch headers, codecs, records; CRCs valid; indexed reads land.</summary>
        private void Verify()
        {
            Assert.Equal(_batches.Count == 0 ? 0 : _batches[^1].LastOffset + 1, _log.LogEndOffset);
            if (_batches.Count == 0) return;
            byte[] bytes = LogTestBase.ReadAll(_log, 0);
            var headers = BatchBuilder.ParseValid(bytes); // CRC-32C of every batch
            Assert.Equal(_batches.Count, headers.Count);
            int pos = 0;
            long previous = -1;
            for (int i = 0; i < headers.Count; i++)
            {
                var h = headers[i];
                var m = _batches[i];
                var batch = bytes.AsSpan(pos, h.TotalSize);
                pos += h.TotalSize;
                Assert.Equal((m.BaseOffset, m.LastOffsetDelta, m.Epoch, m.ProducerId, m.BaseSequence, m.BaseTimestamp, m.MaxTimestamp),
                    (h.BaseOffset, h.LastOffsetDelta, h.PartitionLeaderEpoch, h.ProducerId, h.BaseSequence, h.BaseTimestamp, h.MaxTimestamp));
                Assert.Equal(m.Records.Count == 0 ? CompressionCodec.None : m.Codec, h.Compression);
                Assert.Equal(m.Records.Count, h.RecordsCount);
                Assert.Equal(previous + 1, h.BaseOffset); // contiguous offset ranges, nothing renumbered
                previous = h.LastOffset;
                byte[] plain = RecordBatchCompression.Decompress(batch);
                var reader = new RecordReader(plain);
                int index = 0;
                while (reader.TryRead(out var r))
                {
                    var expected = m.Records[index++];
                    Assert.Equal(expected.Offset, r.Offset);
                    Assert.Equal(expected.Key, r.KeyIsNull ? null : Encoding.UTF8.GetString(r.Key));
                    Assert.Equal(expected.Value, r.ValueIsNull ? null : Encoding.UTF8.GetString(r.Value));
                }
                Assert.Equal(m.Records.Count, index);
                Assert.Equal(plain.Length, reader.Position);
            }
            // Indexed reads from a few offsets land on the batch that holds them.
            for (int i = 0; i < 5; i++)
            {
                long offset = _rng.NextInt64(0, _log.LogEndOffset);
                using var read = _log.Read(offset, 1, long.MaxValue, minOneBatch: true);
                var first = BatchBuilder.ParseValid(read.Records.Span)[0];
                Assert.InRange(offset, first.BaseOffset, first.LastOffset);
            }
        }

        public string Describe() =>
            $"options {_options}, key space {_keySpace}, producer {_producerId}, {_batches.Count} batches, " +
            $"segments [{string.Join(", ", _log.SegmentBaseOffsets())}], clock {_clock.Now}";

        public void Dispose()
        {
            _log.Dispose();
            try
            {
                Directory.Delete(_root, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}

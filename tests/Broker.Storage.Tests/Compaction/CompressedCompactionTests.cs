using Broker.Compression;
using Broker.Core.Records;

namespace Broker.Storage.Tests.Compaction;

/// <summary>
/// Compaction of compressed batches (every codec): obsolete records leave, survivors are recompressed with the
/// batch's own codec, the header (offsets, epochs, producer fields, timestamps) stays, a batch left empty becomes an
/// uncompressed shell of the same offset range, and the cleaner's own offset index matches a rebuilt one.
/// </summary>
public sealed class CompressedCompactionTests : LogTestBase
{
    private static readonly LogOptions Compacted = new() { Compact = true, SegmentBytes = 1024, IndexIntervalBytes = 128 };

    public static TheoryData<CompressionCodec> Codecs() =>
        new() { CompressionCodec.Gzip, CompressionCodec.Snappy, CompressionCodec.Lz4, CompressionCodec.Zstd };

    private static (string?, string?)[] Round(int round, int keys) =>
        Enumerable.Range(0, keys).Select(k => ((string?)$"k{k}", (string?)($"value {round} of key {k} " + new string('x', 20)))).ToArray();

    [Theory]
    [MemberData(nameof(Codecs))]
    public void Compressed_batches_keep_only_the_latest_record_per_key_recompressed_with_their_codec(CompressionCodec codec)
    {
        var log = Open(Compacted);
        for (int round = 0; round < 30; round++)
        {
            // Each batch: every key once, plus one key-less record and, every 5th round, a second value for k0.
            var records = Round(round, 4).Append(((string?)null, (string?)$"keyless {round}")).ToList();
            if (round % 5 == 0) records.Add(("k0", $"second {round}"));
            log.Append(Keyed.Compressed(Keyed.Batch(Clock.Now - 1000, 77, 2, round * 10, records.ToArray()), codec), 4);
        }
        Assert.True(log.SegmentCount > 3);
        var shapes = Keyed.Shapes(log);
        var before = Keyed.ReadRecords(log);
        long activeBase = log.SegmentBaseOffsets()[^1];

        var result = log.Compact(log.LogEndOffset, Clock.Now);

        Assert.True(result.SegmentsRewritten > 0, result.ToString());
        var latest = before.Where(r => r.Key != null).GroupBy(r => r.Key).ToDictionary(g => g.Key!, g => g.Max(r => r.Offset));
        var expected = before.Where(r => r.Offset >= activeBase || r.Key == null || r.Offset == latest[r.Key]).ToList();
        var after = Keyed.ReadRecords(log);
        Assert.Equal(expected, after);
        Assert.Equal(before.Count - after.Count, result.RecordsRemoved);

        // Every batch keeps its header; a non-empty one keeps its codec, an emptied one is an uncompressed shell.
        var headers = BatchBuilder.ParseValid(ReadAll(log, 0)); // CRC-32C checked
        Assert.Equal(shapes.Count, headers.Count);
        for (int i = 0; i < headers.Count; i++)
        {
            var (baseOffset, lastDelta, epoch, pid, pepoch, seq, attributes, baseTs, maxTs) = shapes[i];
            var h = headers[i];
            Assert.Equal((baseOffset, lastDelta, epoch, pid, pepoch, seq, baseTs, maxTs),
                (h.BaseOffset, h.LastOffsetDelta, h.PartitionLeaderEpoch, h.ProducerId, h.ProducerEpoch, h.BaseSequence, h.BaseTimestamp, h.MaxTimestamp));
            var expectedCodec = h.RecordsCount == 0 ? CompressionCodec.None : codec;
            Assert.Equal((short)((attributes & ~RecordBatchHeader.CompressionMask) | (byte)expectedCodec), h.Attributes);
            Assert.Equal(after.Count(r => r.Offset >= h.BaseOffset && r.Offset <= h.LastOffset), h.RecordsCount);
        }
        Assert.Contains(headers, h => h.RecordsCount > 0 && h.BaseOffset < activeBase); // key-less records keep batches alive
    }

    [Theory]
    [MemberData(nameof(Codecs))]
    public void A_compressed_batch_left_empty_becomes_an_uncompressed_shell_of_its_offset_range(CompressionCodec codec)
    {
        var log = Open(Compacted);
        for (int i = 0; i < 30; i++)
            log.Append(Keyed.Compressed(Keyed.Batch(Clock.Now - 1000, ("same", $"v{i}"), ("same", $"w{i}")), codec), 7);
        log.Compact(log.LogEndOffset, Clock.Now);

        var bytes = ReadAll(log, 0);
        var headers = BatchBuilder.ParseValid(bytes);
        long activeBase = log.SegmentBaseOffsets()[^1];
        Assert.Equal(30, headers.Count);
        for (int i = 0; i < headers.Count; i++)
        {
            var h = headers[i];
            Assert.Equal((2L * i, 1, 7), (h.BaseOffset, h.LastOffsetDelta, h.PartitionLeaderEpoch));
            if (h.BaseOffset >= activeBase) continue;
            Assert.Equal((0, RecordBatchHeader.Size, CompressionCodec.None), (h.RecordsCount, h.TotalSize, h.Compression));
        }
        Assert.Equal(new KeyedRecord(59, "same", "w29"), Keyed.ReadRecords(log)[^1]);
    }

    [Fact]
    public void Mixed_codecs_and_plain_batches_supersede_each_other()
    {
        var log = Open(Compacted);
        CompressionCodec[] order = [CompressionCodec.None, CompressionCodec.Zstd, CompressionCodec.Gzip, CompressionCodec.Snappy, CompressionCodec.Lz4];
        for (int round = 0; round < 40; round++)
        {
            var batch = Keyed.Batch(Clock.Now - 1000, Round(round, 3));
            var codec = order[round % order.Length];
            log.Append(codec == CompressionCodec.None ? batch : Keyed.Compressed(batch, codec), 1);
        }
        // A tombstone for k1, then more rounds for the others so the tombstone sits in a cleanable segment.
        log.Append(Keyed.Compressed(Keyed.Batch(Clock.Now - 1000, ("k1", null)), CompressionCodec.Zstd), 1);
        for (int round = 40; round < 60; round++)
            log.Append(Keyed.Compressed(Keyed.Batch(Clock.Now - 1000, ("k0", $"late {round}"), ("k2", $"late {round}")), CompressionCodec.Lz4), 1);
        var options = Compacted with { DeleteRetentionMs = 0 };
        log.UpdateOptions(options);

        Clock.Now += 10;
        log.Compact(log.LogEndOffset, Clock.Now);

        long activeBase = log.SegmentBaseOffsets()[^1];
        var records = Keyed.ReadRecords(log);
        var cleaned = records.Where(r => r.Offset < activeBase).ToList();
        Assert.Equal(cleaned.Count, cleaned.Select(r => r.Key).Distinct().Count()); // one record per key in the cleaned part
        Assert.DoesNotContain(records, r => r.Key == "k1"); // the tombstone went (retention 0) and took k1 with it
        Assert.Equal("late 59", records.Last(r => r.Key == "k0").Value);
    }

    [Fact]
    public void The_cleaners_offset_index_equals_the_one_a_rebuild_writes()
    {
        var log = Open(Compacted with { IndexIntervalBytes = 64 });
        for (int round = 0; round < 60; round++)
        {
            var batch = Keyed.Batch(Clock.Now - 1000, Round(round, 1 + round % 4));
            log.Append(round % 2 == 0 ? batch : Keyed.Compressed(batch, CompressionCodec.Zstd), 1);
        }
        Assert.True(log.Compact(log.LogEndOffset, Clock.Now).SegmentsRewritten > 1);
        var bases = log.SegmentBaseOffsets();
        var cleanerIndexes = bases.SkipLast(1).ToDictionary(b => b, b => File.ReadAllBytes(SegmentPath(b, ".index")));
        Assert.Contains(cleanerIndexes.Values, bytes => bytes.Length > 0);
        var bytesBefore = ReadAll(log, 0);
        log.Dispose();

        foreach (long b in bases.SkipLast(1))
        {
            File.Delete(SegmentPath(b, ".index"));
            File.Delete(SegmentPath(b, ".timeindex"));
        }
        var reopened = Open(Compacted with { IndexIntervalBytes = 64 });
        foreach (var (b, bytes) in cleanerIndexes) Assert.Equal(bytes, File.ReadAllBytes(SegmentPath(b, ".index")));
        Assert.Equal(bytesBefore, ReadAll(reopened, 0));
        Assert.Empty(Directory.GetFiles(LogDir, "*.tmp"));
    }

    [Fact]
    public void Undecodable_compressed_batches_are_kept_and_do_not_supersede_anything()
    {
        var log = Open(Compacted);
        log.Append(Keyed.Batch(Clock.Now - 1000, ("k", "first")), 1);
        var broken = Keyed.AsUndecodable(Keyed.Batch(Clock.Now - 1000, ("k", "broken")));
        log.Append(broken, 1);
        for (int i = 0; i < 30; i++) log.Append(Keyed.Batch(Clock.Now - 1000, ("filler", new string('f', 40))), 1);

        log.Compact(log.LogEndOffset, Clock.Now);

        var records = Keyed.ReadRecords(log, skipUndecodable: true);
        Assert.Contains(new KeyedRecord(0, "k", "first"), records); // the broken batch's key is not in the map
        using var read = log.Read(1, int.MaxValue, long.MaxValue, minOneBatch: true);
        Assert.Equal(BatchBuilder.Stored(broken, 1, 1), read.Records.Span[..broken.Length].ToArray());
        Assert.Throws<CompressionException>(() => RecordBatchCompression.Decompress(broken));
    }
}

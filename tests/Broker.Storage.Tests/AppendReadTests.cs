using System.Buffers.Binary;
using Broker.Core.Records;

namespace Broker.Storage.Tests;

public class AppendReadTests : LogTestBase
{
    [Fact]
    public void Append_then_read_is_byte_exact_with_offsets_and_epoch_stamped()
    {
        var log = Open();
        var a = BatchBuilder.Build(3);
        var b = BatchBuilder.Build(5, baseTimestamp: 2_000);

        var infoA = log.Append(a, leaderEpoch: 7);
        var infoB = log.Append(b, leaderEpoch: 8);

        Assert.Equal(new AppendInfo(0, 2, 1, -1), infoA);
        Assert.Equal(new AppendInfo(3, 7, 1, -1), infoB);
        Assert.Equal(0, log.LogStartOffset);
        Assert.Equal(8, log.LogEndOffset);
        Assert.Equal(a.Length + b.Length, log.SizeInBytes);

        using var r = log.Read(0, int.MaxValue, long.MaxValue, minOneBatch: true);
        Assert.False(r.OutOfRange);
        var expected = BatchBuilder.Concat(BatchBuilder.Stored(a, 0, 7), BatchBuilder.Stored(b, 3, 8));
        Assert.Equal(expected, r.Records.ToArray());
        var headers = BatchBuilder.ParseValid(r.Records.Span);
        Assert.Equal([0L, 3L], headers.Select(h => h.BaseOffset));
        Assert.Equal([7, 8], headers.Select(h => h.PartitionLeaderEpoch));
    }

    [Fact]
    public void Several_batches_in_one_append_get_consecutive_offsets()
    {
        var log = Open();
        log.Append(BatchBuilder.Build(2), 1);
        var info = log.Append(BatchBuilder.Concat(BatchBuilder.Build(4), BatchBuilder.Build(1), BatchBuilder.Build(3)), 1);

        Assert.Equal(new AppendInfo(2, 9, 3, -1), info);
        Assert.Equal(10, log.LogEndOffset);
        var headers = BatchBuilder.ParseValid(ReadAll(log, 0));
        Assert.Equal([0L, 2L, 6L, 7L], headers.Select(h => h.BaseOffset));
    }

    [Fact]
    public void One_append_of_many_batches_and_large_ones_is_written_byte_exact()
    {
        // The Linux append path gathers headers and bodies into pwritev calls of at most 64 batches: 150 batches
        // span three calls; the 400 KB batch and the 2-record ones mix piece sizes within a call.
        var log = Open();
        var parts = new List<byte[]>();
        for (int i = 0; i < 150; i++) parts.Add(BatchBuilder.Build(1 + i % 3, valueSize: 10 + i, fill: (byte)(0x30 + i % 40)));
        parts.Insert(70, BatchBuilder.Build(2, valueSize: 400_000, fill: 0x7A));
        var input = BatchBuilder.Concat(parts.ToArray());
        var original = (byte[])input.Clone();

        var info = log.Append(input, leaderEpoch: 4);

        Assert.Equal(original, input); // the caller's bytes are never stamped in place
        long offset = 0;
        var stored = new List<byte[]>();
        foreach (var part in parts)
        {
            stored.Add(BatchBuilder.Stored(part, offset, 4));
            RecordBatchHeader.TryRead(part, out var header);
            offset += header.LastOffsetDelta + 1;
        }
        Assert.Equal(new AppendInfo(0, offset - 1, parts.Count, -1), info);
        Assert.Equal(BatchBuilder.Concat(stored.ToArray()), ReadAll(log, 0));
    }

    [Fact]
    public void Read_from_an_offset_inside_a_batch_returns_that_whole_batch()
    {
        var log = Open();
        log.Append(BatchBuilder.Build(5), 1);
        log.Append(BatchBuilder.Build(5), 1);

        using var r = log.Read(7, int.MaxValue, long.MaxValue, true);
        var headers = BatchBuilder.ParseValid(r.Records.Span);
        Assert.Single(headers);
        Assert.Equal(5, headers[0].BaseOffset);
    }

    [Fact]
    public void Reads_span_many_segments_after_rolling_by_size()
    {
        var log = Open(new LogOptions { SegmentBytes = 1024, IndexIntervalBytes = 100 });
        var appended = new List<byte[]>();
        long offset = 0;
        for (int i = 0; i < 60; i++)
        {
            var batch = BatchBuilder.Build(1 + i % 4, valueSize: 20 + i);
            var info = log.Append(batch, 2);
            Assert.Equal(offset, info.FirstOffset);
            appended.Add(BatchBuilder.Stored(batch, offset, 2));
            offset = info.LastOffset + 1;
        }

        var bases = log.SegmentBaseOffsets();
        Assert.True(bases.Count > 5, $"expected several segments, got {bases.Count}");
        Assert.Equal(BatchBuilder.Concat(appended.ToArray()), ReadAll(log, 0));
        foreach (string file in Directory.GetFiles(LogDir, "*.log").Where(f => f != SegmentPath(bases[^1], ".log")))
            Assert.True(new FileInfo(file).Length <= 1024, $"{file} exceeds segment.bytes");

        // Every offset reads the batch that contains it, whatever segment it is in.
        for (long o = 0; o < log.LogEndOffset; o++)
        {
            using var r = log.Read(o, 1, long.MaxValue, true);
            var h = Assert.Single(BatchBuilder.ParseValid(r.Records.Span));
            Assert.InRange(o, h.BaseOffset, h.LastOffset);
        }
    }

    [Fact]
    public void A_read_stays_within_one_segment()
    {
        var log = Open(new LogOptions { SegmentBytes = 300 });
        for (int i = 0; i < 6; i++) log.Append(BatchBuilder.Build(1, valueSize: 100), 0);
        Assert.Equal(6, log.SegmentCount);
        using var r = log.Read(0, int.MaxValue, long.MaxValue, true);
        Assert.Single(BatchBuilder.ParseValid(r.Records.Span));
    }

    [Fact]
    public void A_batch_larger_than_segment_bytes_goes_alone_into_a_fresh_segment()
    {
        var log = Open(new LogOptions { SegmentBytes = 200 });
        log.Append(BatchBuilder.Build(1), 0);
        var big = BatchBuilder.Build(2, valueSize: 500);
        log.Append(big, 0);
        log.Append(BatchBuilder.Build(1), 0);

        Assert.Equal([0L, 1L, 3L], log.SegmentBaseOffsets());
        using var r = log.Read(1, int.MaxValue, long.MaxValue, true);
        Assert.Equal(BatchBuilder.Stored(big, 1, 0), r.Records.ToArray());
    }

    [Fact]
    public void Rolls_by_age_measured_from_the_first_append()
    {
        var log = Open(new LogOptions { SegmentMs = 60_000 });
        log.Append(BatchBuilder.Build(1), 0);
        Clock.Now += 59_999;
        log.Append(BatchBuilder.Build(1), 0);
        Assert.Equal(1, log.SegmentCount);

        Clock.Now += 1;
        log.Append(BatchBuilder.Build(1), 0);
        Assert.Equal([0L, 2L], log.SegmentBaseOffsets());

        // An empty active segment never rolls, however old.
        Clock.Now += 10 * 60_000;
        log.Append(BatchBuilder.Build(1), 0);
        Assert.Equal([0L, 2L, 3L], log.SegmentBaseOffsets());
    }

    [Fact]
    public void MaxBytes_smaller_than_the_first_batch_honours_minOneBatch()
    {
        var log = Open();
        var batch = BatchBuilder.Build(3, valueSize: 100);
        log.Append(batch, 0);
        log.Append(BatchBuilder.Build(3, valueSize: 100), 0);

        using (var whole = log.Read(0, 10, long.MaxValue, minOneBatch: true))
            Assert.Equal(BatchBuilder.Stored(batch, 0, 0), whole.Records.ToArray());
        using (var none = log.Read(0, 10, long.MaxValue, minOneBatch: false))
        {
            Assert.False(none.OutOfRange);
            Assert.True(none.Records.IsEmpty);
        }
        // maxBytes fitting one and a half batches returns exactly one.
        using (var one = log.Read(0, batch.Length + batch.Length / 2, long.MaxValue, minOneBatch: false))
            Assert.Single(BatchBuilder.ParseValid(one.Records.Span));
        using (var two = log.Read(0, 2 * batch.Length, long.MaxValue, minOneBatch: false))
            Assert.Equal(2, BatchBuilder.ParseValid(two.Records.Span).Count);
    }

    [Fact]
    public void MaxOffsetExclusive_stops_before_batches_reaching_it()
    {
        var log = Open();
        log.Append(BatchBuilder.Build(2), 0); // 0-1
        log.Append(BatchBuilder.Build(2), 0); // 2-3
        log.Append(BatchBuilder.Build(2), 0); // 4-5

        using (var r = log.Read(0, int.MaxValue, 4, true))
            Assert.Equal([0L, 2L], BatchBuilder.ParseValid(r.Records.Span).Select(h => h.BaseOffset));
        using (var r = log.Read(0, int.MaxValue, 3, true))
            Assert.Equal([0L], BatchBuilder.ParseValid(r.Records.Span).Select(h => h.BaseOffset));
        using (var r = log.Read(2, int.MaxValue, 2, true))
        {
            Assert.False(r.OutOfRange);
            Assert.True(r.Records.IsEmpty);
        }
    }

    [Fact]
    public void Offsets_outside_the_log_are_out_of_range_and_the_end_is_empty()
    {
        var log = Open();
        using (var empty = log.Read(0, 100, long.MaxValue, true))
        {
            Assert.False(empty.OutOfRange);
            Assert.True(empty.Records.IsEmpty);
        }
        log.Append(BatchBuilder.Build(3), 0);
        Assert.True(log.Read(4, 100, long.MaxValue, true).OutOfRange);
        Assert.True(log.Read(-1, 100, long.MaxValue, true).OutOfRange);
        using var atEnd = log.Read(3, 100, long.MaxValue, true);
        Assert.False(atEnd.OutOfRange);
        Assert.True(atEnd.Records.IsEmpty);
    }

    [Fact]
    public void LogAppendTime_sets_the_attribute_and_max_timestamp_and_keeps_the_crc_valid()
    {
        var log = Open();
        var batch = BatchBuilder.Build(4, baseTimestamp: 5_000);
        var info = log.Append(batch, 3, logAppendTimeMs: 9_999_999);
        Assert.Equal(9_999_999, info.LogAppendTimeMs);

        using var r = log.Read(0, int.MaxValue, long.MaxValue, true);
        var h = Assert.Single(BatchBuilder.ParseValid(r.Records.Span)); // validates the CRC
        Assert.True(h.IsLogAppendTime);
        Assert.Equal(9_999_999, h.MaxTimestamp);
        Assert.Equal(5_000, h.BaseTimestamp);
        Assert.Equal(batch.AsSpan(RecordBatchHeader.Size).ToArray(), r.Records.Span[RecordBatchHeader.Size..].ToArray());
        Assert.Equal((0L, 9_999_999L), log.FindMaxTimestamp());
    }

    [Theory]
    [InlineData(1, 10)]          // small: copied and written in one go
    [InlineData(3, 10)]          // several batches in one append
    [InlineData(2, 200_000)]     // large: header and body written separately
    public void LogAppendTime_and_offsets_are_stamped_correctly_on_both_write_paths(int batchCount, int valueSize)
    {
        var log = Open();
        log.Append(BatchBuilder.Build(1), 0);
        var batches = Enumerable.Range(0, batchCount).Select(i => BatchBuilder.Build(2, valueSize: valueSize, fill: (byte)i)).ToArray();
        log.Append(BatchBuilder.Concat(batches), 9, logAppendTimeMs: 123_456);

        var stored = ReadAll(log, 1);
        var headers = BatchBuilder.ParseValid(stored);
        Assert.Equal(Enumerable.Range(0, batchCount).Select(i => 1L + 2 * i), headers.Select(h => h.BaseOffset));
        Assert.All(headers, h => Assert.True(h.IsLogAppendTime && h.MaxTimestamp == 123_456 && h.PartitionLeaderEpoch == 9));
        int pos = 0;
        foreach (var b in batches)
        {
            Assert.Equal(b.AsSpan(RecordBatchHeader.Size).ToArray(), stored.AsSpan(pos + RecordBatchHeader.Size, b.Length - RecordBatchHeader.Size).ToArray());
            pos += b.Length;
        }
    }

    [Fact]
    public void Malformed_input_is_rejected_with_ArgumentException_and_nothing_is_written()
    {
        var log = Open();
        var good = BatchBuilder.Build(2);
        Assert.Throws<ArgumentException>(() => log.Append(ReadOnlySpan<byte>.Empty, 0));
        Assert.Throws<ArgumentException>(() => log.Append(good.AsSpan(0, good.Length - 1), 0));
        Assert.Throws<ArgumentException>(() => log.Append(BatchBuilder.Concat(good, good.AsSpan(0, 30).ToArray()), 0));
        var badMagic = (byte[])good.Clone();
        badMagic[RecordBatchHeader.MagicOffset] = 1;
        Assert.Throws<ArgumentException>(() => log.Append(badMagic, 0));
        var hugeLength = (byte[])good.Clone();
        BinaryPrimitives.WriteInt32BigEndian(hugeLength.AsSpan(RecordBatchHeader.BatchLengthOffset), int.MaxValue);
        Assert.Throws<ArgumentException>(() => log.Append(hugeLength, 0));
        Assert.Equal(0, log.LogEndOffset);
        Assert.Equal(0, log.SizeInBytes);
    }

    [Fact]
    public void Reopen_after_a_clean_close_keeps_data_offsets_and_end()
    {
        var options = new LogOptions { SegmentBytes = 2048, IndexIntervalBytes = 128 };
        var log = Open(options);
        for (int i = 0; i < 40; i++) log.Append(BatchBuilder.Build(3, baseTimestamp: 10_000 + i * 10), 1);
        byte[] before = ReadAll(log, 0);
        var segments = log.SegmentBaseOffsets();
        long end = log.LogEndOffset;
        log.Dispose();

        // A clean close leaves every file exactly as long as its data.
        long onDisk = Directory.GetFiles(LogDir, "*.log").Sum(f => new FileInfo(f).Length);
        Assert.Equal(before.Length, onDisk);

        var reopened = Open(options);
        Assert.Equal(end, reopened.LogEndOffset);
        Assert.Equal(segments, reopened.SegmentBaseOffsets());
        Assert.Equal(before, ReadAll(reopened, 0));
        Assert.Equal(10_000 + 39 * 10 + 2, reopened.FindMaxTimestamp()!.Value.Timestamp);

        var info = reopened.Append(BatchBuilder.Build(1), 2);
        Assert.Equal(end, info.FirstOffset);
    }

    [Fact]
    public void Unclean_stop_keeps_everything_appended_and_cuts_the_preallocated_tail()
    {
        var log = PartitionLog.Open(LogDir, Tp, new LogOptions(), Clock); // never disposed: a "crash"
        var batches = Enumerable.Range(0, 10).Select(i => BatchBuilder.Build(2, valueSize: 50 + i)).ToArray();
        foreach (var b in batches) log.Append(b, 4);
        Assert.True(new FileInfo(SegmentPath(0, ".log")).Length > log.SizeInBytes, "active file is grown ahead of the data");

        var reopened = Open();
        Assert.Equal(20, reopened.LogEndOffset);
        var expected = BatchBuilder.Concat(batches.Select((b, i) => BatchBuilder.Stored(b, 2 * i, 4)).ToArray());
        Assert.Equal(expected, ReadAll(reopened, 0));
        Assert.Equal(20, reopened.Append(BatchBuilder.Build(1), 4).FirstOffset);
    }
}

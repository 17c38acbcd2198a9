using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Immutable;
using System.Text;
using Broker.Compression;
using Broker.Core.Diagnostics;
using Broker.Core.Model;
using Broker.Core.Records;
using Broker.Metadata.Image;
using Broker.Protocol.Messages;
using Broker.Server.Handlers;
using Broker.Server.Partitions;
using Broker.Server.Pipeline;
using Broker.Server.Tests.Data;
using Broker.Server.Tests.Harness;
using Broker.Storage;
using Xunit;

namespace Broker.Server.Tests.Produce;

/// <summary>
/// compression.type on append: <see cref="ProduceRecompression"/> rebuilds a batch with the topic's codec keeping every
/// record and the producer fields; control batches stay as they are; corrupt input is CORRUPT_MESSAGE and a rebuilt
/// batch above max.message.bytes MESSAGE_TOO_LARGE; and the Produce handler stores the rebuilt batch.
/// </summary>
public sealed class RecompressionTests
{
    private const int MaxMessageBytes = 1_048_588;
    private const long ProducerId = 4242;
    private const short ProducerEpoch = 7;
    private const int BaseSequence = 31;

    /// <summary>Sources: the codecs plus "snappy-raw", a snappy batch as librdkafka writes it (no xerial framing).</summary>
    public static TheoryData<string, CompressionCodec> Pairs()
    {
        var data = new TheoryData<string, CompressionCodec>();
        foreach (string source in new[] { "none", "gzip", "snappy", "snappy-raw", "lz4", "zstd" })
            for (var target = CompressionCodec.None; target <= CompressionCodec.Zstd; target++)
                data.Add(source, target);
        return data;
    }

    /// <summary>An uncompressed batch with keys (some null), values (one null), headers and uneven timestamps,
    /// producer fields, a stored base offset and leader epoch, and the LogAppendTime-less CreateTime type.</summary>
    private static byte[] Plain(int count = 40, short attributes = 0, int valueSize = 100)
    {
        var builder = new RecordBatchBuilder();
        builder.Reset(5_000, ProducerId, ProducerEpoch, BaseSequence, attributes);
        for (int i = 0; i < count; i++)
        {
            RecordHeader[] headers = i % 3 == 0 ? [new("trace", Encoding.UTF8.GetBytes($"t-{i}")), new("empty", null)] : [];
            byte[] value = Encoding.UTF8.GetBytes($"value {i} " + new string((char)('a' + i % 26), valueSize));
            builder.Add(5_000 + (i * 37 % 11) * 3 - i, Encoding.UTF8.GetBytes($"key-{i % 5}"), value,
                keyIsNull: i % 7 == 3, valueIsNull: i == 5, headers: headers);
        }
        byte[] batch = builder.ToArray();
        RecordBatchHeader.WriteBaseOffset(batch, 1_234_567);
        RecordBatchHeader.WritePartitionLeaderEpoch(batch, 9);
        return batch;
    }

    /// <summary>The plain batch compressed as <paramref name="source"/> names it.</summary>
    private static byte[] Source(byte[] plain, string source)
    {
        if (source == "snappy-raw")
        {
            var writer = new ArrayBufferWriter<byte>();
            writer.Write(plain.AsSpan(0, RecordBatchHeader.Size));
            Codecs.CompressSnappyRaw(plain.AsSpan(RecordBatchHeader.Size), writer);
            return Seal(writer.WrittenSpan.ToArray(), (short)(BinaryPrimitives.ReadInt16BigEndian(plain.AsSpan(RecordBatchHeader.AttributesOffset)) | (short)CompressionCodec.Snappy));
        }
        Assert.True(Codecs.TryParse(source, out var codec));
        return RecordBatchCompression.Compress(plain, codec);
    }

    /// <summary>Sets attributes, batch length and CRC of a hand-assembled batch.</summary>
    private static byte[] Seal(byte[] batch, short attributes)
    {
        BinaryPrimitives.WriteInt16BigEndian(batch.AsSpan(RecordBatchHeader.AttributesOffset), attributes);
        BinaryPrimitives.WriteInt32BigEndian(batch.AsSpan(RecordBatchHeader.BatchLengthOffset), batch.Length - RecordBatchHeader.LogOverhead);
        RecordBatchValidator.RewriteCrc(batch);
        return batch;
    }

    private static void AssertSameBatchFields(in RecordBatchHeader expected, in RecordBatchHeader actual)
    {
        Assert.Equal(expected.BaseOffset, actual.BaseOffset);
        Assert.Equal(expected.PartitionLeaderEpoch, actual.PartitionLeaderEpoch);
        Assert.Equal(expected.Attributes & ~RecordBatchHeader.CompressionMask, actual.Attributes & ~RecordBatchHeader.CompressionMask);
        Assert.Equal(expected.LastOffsetDelta, actual.LastOffsetDelta);
        Assert.Equal(expected.BaseTimestamp, actual.BaseTimestamp);
        Assert.Equal(expected.MaxTimestamp, actual.MaxTimestamp);
        Assert.Equal(expected.ProducerId, actual.ProducerId);
        Assert.Equal(expected.ProducerEpoch, actual.ProducerEpoch);
        Assert.Equal(expected.BaseSequence, actual.BaseSequence);
        Assert.Equal(expected.RecordsCount, actual.RecordsCount);
    }

    [Theory]
    [MemberData(nameof(Pairs))]
    public void Every_source_codec_recompresses_to_every_target_keeping_records_and_producer_fields(string source, CompressionCodec target)
    {
        byte[] plain = Plain();
        byte[] produced = Source(plain, source);
        Assert.True(RecordBatchHeader.TryRead(produced, out var header));

        using var rebuilt = ProduceRecompression.Apply(produced, target, MaxMessageBytes, out var error, out string? message);
        Assert.Equal(ErrorCode.None, error);
        Assert.Null(message);
        if (header.Compression == target)
        {
            Assert.False(rebuilt.IsRecompressed); // stored as produced
            return;
        }
        Assert.True(rebuilt.IsRecompressed);
        byte[] stored = rebuilt.Span.ToArray();
        Assert.Equal(BatchError.None, RecordBatchValidator.ValidateOne(stored, int.MaxValue, out var storedHeader)); // length + CRC
        Assert.Equal(stored.Length, storedHeader.TotalSize);
        Assert.Equal(target, storedHeader.Compression);
        AssertSameBatchFields(header, storedHeader);

        // The records are byte-for-byte the producer's: keys, values, headers, timestamp and offset deltas.
        byte[] decompressed = RecordBatchCompression.Decompress(stored);
        Assert.True(decompressed.AsSpan(RecordBatchHeader.Size).SequenceEqual(plain.AsSpan(RecordBatchHeader.Size)), $"{source} → {target}: records differ");
        var expected = new RecordReader(plain);
        var actual = new RecordReader(decompressed);
        int n = 0;
        while (expected.TryRead(out var e))
        {
            Assert.True(actual.TryRead(out var a));
            Assert.Equal(e.Offset, a.Offset);
            Assert.Equal(e.Timestamp, a.Timestamp);
            Assert.Equal(e.KeyIsNull, a.KeyIsNull);
            Assert.True(e.Key.SequenceEqual(a.Key));
            Assert.Equal(e.ValueIsNull, a.ValueIsNull);
            Assert.True(e.Value.SequenceEqual(a.Value));
            Assert.Equal(e.HeaderCount, a.HeaderCount);
            Assert.True(e.Headers.SequenceEqual(a.Headers));
            n++;
        }
        Assert.False(actual.TryRead(out _));
        Assert.Equal(40, n);
    }

    [Fact]
    public void Timestamp_type_and_transactional_bits_survive_recompression()
    {
        short bits = RecordBatchHeader.TimestampTypeMask | RecordBatchHeader.TransactionalMask;
        byte[] produced = RecordBatchCompression.Compress(Plain(attributes: bits), CompressionCodec.Gzip);
        using var rebuilt = ProduceRecompression.Apply(produced, CompressionCodec.Lz4, MaxMessageBytes, out var error, out _);
        Assert.Equal(ErrorCode.None, error);
        Assert.True(RecordBatchHeader.TryRead(rebuilt.Span, out var header));
        Assert.Equal(bits | (short)CompressionCodec.Lz4, header.Attributes);
    }

    [Fact]
    public void Producer_target_keeps_the_batch_as_produced()
    {
        byte[] produced = RecordBatchCompression.Compress(Plain(), CompressionCodec.Snappy);
        using var rebuilt = ProduceRecompression.Apply(produced, null, MaxMessageBytes, out var error, out var message);
        Assert.Equal(ErrorCode.None, error);
        Assert.Null(message);
        Assert.False(rebuilt.IsRecompressed);
        Assert.True(rebuilt.Span.IsEmpty);
    }

    [Fact]
    public void Control_batches_are_never_recompressed()
    {
        byte[] control = RecordBatchCompression.Compress(Plain(count: 1, attributes: RecordBatchHeader.ControlMask), CompressionCodec.Gzip);
        using var rebuilt = ProduceRecompression.Apply(control, CompressionCodec.Zstd, MaxMessageBytes, out var error, out _);
        Assert.Equal(ErrorCode.None, error);
        Assert.False(rebuilt.IsRecompressed);
    }

    [Theory]
    [InlineData(CompressionCodec.Gzip)]
    [InlineData(CompressionCodec.Snappy)]
    [InlineData(CompressionCodec.Lz4)]
    [InlineData(CompressionCodec.Zstd)]
    public void A_corrupt_compressed_payload_is_CORRUPT_MESSAGE(CompressionCodec codec)
    {
        byte[] produced = RecordBatchCompression.Compress(Plain(), codec);
        // Keep the codec's first bytes (magic, frame header) and scramble the rest; the CRC stays valid.
        var body = produced.AsSpan(RecordBatchHeader.Size + 12);
        for (int i = 0; i < body.Length; i++) body[i] = (byte)(body[i] ^ (0x5A + i));
        RecordBatchValidator.RewriteCrc(produced);
        foreach (var target in new CompressionCodec[] { CompressionCodec.None, codec == CompressionCodec.Zstd ? CompressionCodec.Gzip : CompressionCodec.Zstd })
        {
            using var rebuilt = ProduceRecompression.Apply(produced, target, MaxMessageBytes, out var error, out string? message);
            Assert.Equal(ErrorCode.CorruptMessage, error);
            Assert.False(rebuilt.IsRecompressed);
            Assert.Contains("decompress", message);
        }
    }

    [Fact]
    public void Decompressed_records_not_matching_the_header_count_are_CORRUPT_MESSAGE()
    {
        byte[] plain = Plain(count: 4);
        // Claim five records (offsets 0-4) while the payload holds four.
        BinaryPrimitives.WriteInt32BigEndian(plain.AsSpan(RecordBatchHeader.RecordsCountOffset), 5);
        BinaryPrimitives.WriteInt32BigEndian(plain.AsSpan(RecordBatchHeader.LastOffsetDeltaOffset), 4);
        byte[] produced = RecordBatchCompression.Compress(plain, CompressionCodec.Snappy);
        Assert.Equal(ErrorCode.None, ProduceBatchCheck.Check(produced, 9, MaxMessageBytes, out _)); // header-level checks pass

        using var rebuilt = ProduceRecompression.Apply(produced, CompressionCodec.Lz4, MaxMessageBytes, out var error, out string? message);
        Assert.Equal(ErrorCode.CorruptMessage, error);
        Assert.Contains("5 records declared", message);
    }

    [Fact]
    public void A_rebuilt_batch_above_max_message_bytes_is_MESSAGE_TOO_LARGE()
    {
        byte[] plain = Plain(count: 200, valueSize: 1000);                       // ~200 KB that compresses well
        byte[] produced = RecordBatchCompression.Compress(plain, CompressionCodec.Zstd);
        int max = 64 * 1024;
        Assert.True(produced.Length < max, $"zstd batch of {produced.Length} bytes");
        Assert.Equal(ErrorCode.None, ProduceBatchCheck.Check(produced, 9, max, out _));

        using var rebuilt = ProduceRecompression.Apply(produced, CompressionCodec.None, max, out var error, out string? message);
        Assert.Equal(ErrorCode.MessageTooLarge, error);
        Assert.False(rebuilt.IsRecompressed);
        Assert.Contains("max.message.bytes=65536", message);

        using var fits = ProduceRecompression.Apply(produced, CompressionCodec.Lz4, max, out error, out _);
        Assert.Equal(ErrorCode.None, error);
        Assert.True(fits.IsRecompressed);
    }

    [Fact]
    public async Task The_produce_handler_stores_batches_with_the_topics_codec()
    {
        using var fixture = new CodecFixture();
        fixture.CreateTopic("zstd-topic", "zstd");
        fixture.CreateTopic("plain-topic", "uncompressed");
        fixture.CreateTopic("producer-topic", "producer");

        byte[] plain = Plain();
        byte[] gzip = RecordBatchCompression.Compress(plain, CompressionCodec.Gzip);
        foreach (var (topic, expected) in new[] { ("zstd-topic", CompressionCodec.Zstd), ("plain-topic", CompressionCodec.None), ("producer-topic", CompressionCodec.Gzip) })
        {
            var response = await fixture.ProduceAsync(topic, gzip);
            Assert.Equal((short)ErrorCode.None, response.ErrorCode);
            Assert.Equal(0, response.BaseOffset);
            byte[] stored = fixture.ReadBatch(topic);
            Assert.Equal(expected, RecordBatchCompression.CodecOf(stored));
            Assert.Equal(BatchError.None, RecordBatchValidator.ValidateOne(stored, int.MaxValue, out var header));
            Assert.Equal(0, header.BaseOffset);
            Assert.Equal(ProducerId, header.ProducerId);
            Assert.True(RecordBatchCompression.Decompress(stored).AsSpan(RecordBatchHeader.Size).SequenceEqual(plain.AsSpan(RecordBatchHeader.Size)));
        }

        // An idempotent retry of the same batch is recognised as a duplicate after recompression as well.
        var retry = await fixture.ProduceAsync("zstd-topic", gzip);
        Assert.Equal((short)ErrorCode.None, retry.ErrorCode);
        Assert.Equal(0, retry.BaseOffset);

        // A corrupt payload is refused with a reason, and nothing is appended.
        byte[] corrupt = (byte[])gzip.Clone();
        corrupt.AsSpan(RecordBatchHeader.Size + 12, 20).Fill(0xFF);
        RecordBatchValidator.RewriteCrc(corrupt);
        var refused = await fixture.ProduceAsync("zstd-topic", corrupt);
        Assert.Equal((short)ErrorCode.CorruptMessage, refused.ErrorCode);
        Assert.Contains("gzip", refused.ErrorMessage);
        Assert.Equal(40, fixture.EndOffset("zstd-topic"));
    }

    /// <summary>A real data path whose topics resolve compression.type through <see cref="TopicLogOptions"/>.</summary>
    private sealed class CodecFixture : IDisposable
    {
        private readonly string _directory = Path.Combine(Path.GetTempPath(), "broker-codec-" + Guid.NewGuid().ToString("N"));
        private readonly LogManager _logs;
        private readonly PartitionManager _partitions;
        private readonly HandlerHarness _harness;
        private MetadataImage _image = MetadataImage.Empty("codec-tests", DataFixture.NodeId);

        public CodecFixture()
        {
            _logs = new LogManager(_directory, SystemClock.Instance);
            var options = new TopicLogOptions(new BrokerLogDefaults
            {
                SegmentBytes = 1 << 20, RollMs = long.MaxValue / 2, RetentionMs = -1, RetentionBytes = -1,
                IndexIntervalBytes = 4096, MessageMaxBytes = MaxMessageBytes, ProducerIdExpirationMs = 86_400_000,
            });
            _partitions = new PartitionManager(_logs, DataFixture.NodeId, options.For);
            var table = new HandlerTable();
            table.Register(new ProduceHandler(_partitions, SystemClock.Instance));
            _harness = new HandlerHarness(new KafkaRequestDispatcher(table));
        }

        public void CreateTopic(string name, string compressionType)
        {
            var builder = new MetadataImageBuilder(_image);
            var id = Guid.NewGuid();
            Assert.True(builder.AddTopic(name, id));
            var draft = builder.EditTopic(id)!;
            Assert.True(draft.SetPartition(new PartitionImage(0, DataFixture.NodeId, 0, 0, [DataFixture.NodeId], [DataFixture.NodeId])));
            draft.SetConfig("compression.type", compressionType);
            builder.LastAppliedOffset = _image.LastAppliedOffset + 1;
            _image = builder.Build();
            _partitions.ApplyImage(_image);
        }

        public async Task<ProduceResponse.PartitionProduceResponse> ProduceAsync(string topic, byte[] batch)
        {
            var response = await _harness.CallAsync(0, 9, DataFixture.ProduceRequestFor(topic, 0, batch), ProduceResponse.Read);
            return Assert.Single(Assert.Single(response.Responses).PartitionResponses);
        }

        public long EndOffset(string topic)
        {
            Assert.True(_partitions.TryGetPartition(topic, 0, out var state));
            return state.Log.LogEndOffset;
        }

        public byte[] ReadBatch(string topic)
        {
            Assert.True(_partitions.TryGetPartition(topic, 0, out var state));
            using var read = state.Log.Read(0, int.MaxValue, long.MaxValue, minOneBatch: true);
            return Assert.Single(TestBatches.Split(read.Records.Span));
        }

        public void Dispose()
        {
            _partitions.Dispose();
            _logs.Dispose();
            try
            {
                Directory.Delete(_directory, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}

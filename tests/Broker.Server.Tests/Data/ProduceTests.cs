using System.Buffers.Binary;
using Xunit;
using Broker.Core.Model;
using Broker.Core.Records;
using Broker.Network;
using Broker.Protocol.Messages;
using Broker.Server.Tests.Harness;

namespace Broker.Server.Tests.Data;

public sealed class ProduceTests : IDisposable
{
    private readonly DataFixture _f = new();

    public void Dispose() => _f.Dispose();

    private long EndOffset(string topic, int partition = 0)
    {
        Assert.True(_f.Partitions.TryGetPartition(topic, partition, out var state));
        return state.Log.LogEndOffset;
    }

    [Fact]
    public async Task ProducedBatchesComeBackByteExactExceptOffsetAndEpoch()
    {
        _f.CreateTopic("t", leaderEpoch: 3);
        var first = TestBatches.Build(5, valueSize: 40);
        var second = TestBatches.Build(3, baseTimestamp: 9_000, valueSize: 700);

        var r1 = await _f.ProduceAsync("t", 0, first);
        var r2 = await _f.ProduceAsync("t", 0, second);
        Assert.Equal((short)ErrorCode.None, r1.ErrorCode);
        Assert.Equal(0, r1.BaseOffset);
        Assert.Equal(-1, r1.LogAppendTimeMs);
        Assert.Equal(0, r1.LogStartOffset);
        Assert.Empty(r1.RecordErrors);
        Assert.Null(r1.ErrorMessage);
        Assert.Equal(5, r2.BaseOffset);

        var fetched = await _f.FetchAsync("t", 0, 0);
        Assert.Equal((short)ErrorCode.None, fetched.ErrorCode);
        Assert.Equal(8, fetched.HighWatermark);
        Assert.Equal(8, fetched.LastStableOffset);
        Assert.Equal(0, fetched.LogStartOffset);
        Assert.NotNull(fetched.AbortedTransactions);
        Assert.Empty(fetched.AbortedTransactions!);
        var batches = TestBatches.Split(fetched.Records!.Value.Span);
        Assert.Equal(2, batches.Count);
        Assert.Equal(Expected(first, 0, 3), batches[0]);
        Assert.Equal(Expected(second, 5, 3), batches[1]);
        Assert.Equal(0, _f.Leases.Outstanding);
        Assert.Equal(0, _f.Leases.DoubleReleases);
    }

    private static byte[] Expected(byte[] produced, long baseOffset, int epoch)
    {
        var copy = (byte[])produced.Clone();
        RecordBatchHeader.WriteBaseOffset(copy, baseOffset);
        RecordBatchHeader.WritePartitionLeaderEpoch(copy, epoch);
        return copy;
    }

    [Fact]
    public async Task OffsetsAreAssignedConsecutivelyAcrossRequests()
    {
        _f.CreateTopic("t");
        long[] bases = new long[3];
        int[] counts = [3, 1, 5];
        for (int i = 0; i < counts.Length; i++)
        {
            var batch = TestBatches.Build(counts[i]);
            RecordBatchHeader.WriteBaseOffset(batch, 1234); // producers' baseOffset is ignored
            var r = await _f.ProduceAsync("t", 0, batch, acks: 1);
            Assert.Equal((short)ErrorCode.None, r.ErrorCode);
            bases[i] = r.BaseOffset;
        }
        Assert.Equal([0L, 3L, 4L], bases);
        Assert.Equal(9, EndOffset("t"));
        Assert.Equal(9, (await _f.ListOffsetAsync("t", 0, -1)).Offset);
    }

    [Fact]
    public async Task AcksZeroSendsNoResponseButAppends()
    {
        _f.CreateTopic("t");
        var frame = HandlerHarness.EncodeRequest(0, 9, DataFixture.ProduceRequestFor("t", 0, TestBatches.Build(2), acks: 0), 7);
        Assert.Null(await _f.Harness.SendRawAsync(frame));
        Assert.Equal(2, EndOffset("t"));
    }

    [Fact]
    public async Task AcksZeroFailureClosesTheConnection()
    {
        var frame = HandlerHarness.EncodeRequest(0, 9, DataFixture.ProduceRequestFor("missing", 0, TestBatches.Build(2), acks: 0), 7);
        await Assert.ThrowsAsync<ProtocolViolationException>(() => _f.Harness.SendRawAsync(frame));
    }

    [Theory]
    [InlineData(2)]
    [InlineData(-2)]
    [InlineData(5)]
    public async Task InvalidAcksAreRejectedOnEveryPartition(short acks)
    {
        _f.CreateTopic("t");
        var r = await _f.ProduceAsync("t", 0, TestBatches.Build(1), acks: acks);
        Assert.Equal((short)ErrorCode.InvalidRequiredAcks, r.ErrorCode);
        Assert.Equal(-1, r.BaseOffset);
        Assert.Equal(0, EndOffset("t"));
    }

    [Fact]
    public async Task CrcMismatchIsCorruptMessageAndNothingIsAppended()
    {
        _f.CreateTopic("t");
        var batch = TestBatches.Build(3);
        batch[^1] ^= 0x5A;
        var r = await _f.ProduceAsync("t", 0, batch);
        Assert.Equal((short)ErrorCode.CorruptMessage, r.ErrorCode);
        Assert.NotNull(r.ErrorMessage);
        Assert.Equal(0, EndOffset("t"));
    }

    [Fact]
    public async Task TruncatedBatchIsCorruptMessage()
    {
        _f.CreateTopic("t");
        var batch = TestBatches.Build(3);
        Assert.Equal((short)ErrorCode.CorruptMessage, (await _f.ProduceAsync("t", 0, batch[..^3])).ErrorCode);
        Assert.Equal((short)ErrorCode.CorruptMessage, (await _f.ProduceAsync("t", 0, batch[..10])).ErrorCode);
        Assert.Equal(0, EndOffset("t"));
    }

    [Fact]
    public async Task TwoBatchesInOnePartitionAreInvalidRecord()
    {
        _f.CreateTopic("t");
        var two = TestBatches.Build(2).Concat(TestBatches.Build(2)).ToArray();
        var r = await _f.ProduceAsync("t", 0, two);
        Assert.Equal((short)ErrorCode.InvalidRecord, r.ErrorCode);
        Assert.Equal(0, EndOffset("t"));
    }

    [Fact]
    public async Task MissingRecordsAreInvalidRecord()
    {
        _f.CreateTopic("t");
        Assert.Equal((short)ErrorCode.InvalidRecord, (await _f.ProduceAsync("t", 0, null)).ErrorCode);
        Assert.Equal((short)ErrorCode.InvalidRecord, (await _f.ProduceAsync("t", 0, [])).ErrorCode);
    }

    [Fact]
    public async Task OldMagicIsInvalidRecord()
    {
        _f.CreateTopic("t");
        var batch = TestBatches.Build(1);
        batch[RecordBatchHeader.MagicOffset] = 1;
        Assert.Equal((short)ErrorCode.InvalidRecord, (await _f.ProduceAsync("t", 0, batch)).ErrorCode);
    }

    [Fact]
    public async Task InconsistentRecordCountOrMalformedRecordIsInvalidRecord()
    {
        _f.CreateTopic("t");
        var countMismatch = TestBatches.Build(3);
        BinaryPrimitives.WriteInt32BigEndian(countMismatch.AsSpan(RecordBatchHeader.RecordsCountOffset), 4);
        Assert.Equal((short)ErrorCode.InvalidRecord, (await _f.ProduceAsync("t", 0, TestBatches.Recrc(countMismatch))).ErrorCode);

        var badRecord = TestBatches.Build(2);
        badRecord[RecordBatchHeader.Size] = 0x7E; // first record's length varint now overshoots the batch
        Assert.Equal((short)ErrorCode.InvalidRecord, (await _f.ProduceAsync("t", 0, TestBatches.Recrc(badRecord))).ErrorCode);

        var control = TestBatches.Build(1, attributes: RecordBatchHeader.ControlMask);
        Assert.Equal((short)ErrorCode.InvalidRecord, (await _f.ProduceAsync("t", 0, control)).ErrorCode);
        Assert.Equal(0, EndOffset("t"));
    }

    [Fact]
    public async Task BatchAboveMaxMessageBytesIsMessageTooLarge()
    {
        _f.CreateTopic("t", configs: new() { ["max.message.bytes"] = "500" });
        var big = TestBatches.Build(1, valueSize: 600);
        var r = await _f.ProduceAsync("t", 0, big);
        Assert.Equal((short)ErrorCode.MessageTooLarge, r.ErrorCode);
        Assert.Equal(0, EndOffset("t"));
        Assert.Equal((short)ErrorCode.None, (await _f.ProduceAsync("t", 0, TestBatches.Build(1, valueSize: 100))).ErrorCode);
    }

    [Theory]
    [InlineData(6, ErrorCode.UnsupportedCompressionType)]
    [InlineData(7, ErrorCode.None)]
    public async Task ZstdNeedsVersion7(short version, ErrorCode expected)
    {
        _f.CreateTopic("t");
        // The broker never decompresses: a zstd-flagged batch is stored as it is.
        var batch = TestBatches.Build(2, attributes: (short)CompressionCodec.Zstd);
        var r = await _f.ProduceAsync("t", 0, batch, version: version);
        Assert.Equal((short)expected, r.ErrorCode);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    public async Task VersionsBelow3GetUnsupportedVersionOnEveryPartition(short version)
    {
        _f.CreateTopic("t", partitions: 2);
        var request = new ProduceRequest
        {
            Acks = 1,
            TimeoutMs = 1000,
            TopicData =
            [
                new ProduceRequest.TopicProduceData
                {
                    Name = "t",
                    PartitionData =
                    [
                        new ProduceRequest.PartitionProduceData { Index = 0, Records = TestBatches.Build(1) },
                        new ProduceRequest.PartitionProduceData { Index = 1, Records = TestBatches.Build(1) },
                    ],
                },
                new ProduceRequest.TopicProduceData
                {
                    Name = "other",
                    PartitionData = [new ProduceRequest.PartitionProduceData { Index = 0, Records = TestBatches.Build(1) }],
                },
            ],
        };
        var response = await _f.Harness.CallAsync(0, version, request, ProduceResponse.Read);
        var all = response.Responses.SelectMany(t => t.PartitionResponses).ToList();
        Assert.Equal(3, all.Count);
        Assert.All(all, p => Assert.Equal((short)ErrorCode.UnsupportedVersion, p.ErrorCode));
        Assert.Equal(0, EndOffset("t"));
    }

    [Fact]
    public async Task UnknownTopicOrPartition()
    {
        _f.CreateTopic("t");
        Assert.Equal((short)ErrorCode.UnknownTopicOrPartition, (await _f.ProduceAsync("nope", 0, TestBatches.Build(1))).ErrorCode);
        Assert.Equal((short)ErrorCode.UnknownTopicOrPartition, (await _f.ProduceAsync("t", 3, TestBatches.Build(1))).ErrorCode);
    }

    [Fact]
    public async Task NotLeaderOrNotAReplicaHere()
    {
        _f.CreateTopic("follower", leader: 2, replicas: [2, DataFixture.NodeId]);
        _f.CreateTopic("elsewhere", leader: 2, replicas: [2]);
        Assert.Equal((short)ErrorCode.NotLeaderOrFollower, (await _f.ProduceAsync("follower", 0, TestBatches.Build(1))).ErrorCode);
        Assert.Equal((short)ErrorCode.NotLeaderOrFollower, (await _f.ProduceAsync("elsewhere", 0, TestBatches.Build(1))).ErrorCode);
    }

    [Fact]
    public async Task AcksAllWithTooSmallIsrIsNotEnoughReplicas()
    {
        _f.CreateTopic("t", configs: new() { ["min.insync.replicas"] = "2" });
        var r = await _f.ProduceAsync("t", 0, TestBatches.Build(1), acks: -1);
        Assert.Equal((short)ErrorCode.NotEnoughReplicas, r.ErrorCode);
        Assert.Equal(0, EndOffset("t"));
        Assert.Equal((short)ErrorCode.None, (await _f.ProduceAsync("t", 0, TestBatches.Build(1), acks: 1)).ErrorCode);
    }

    [Fact]
    public async Task TransactionalBatchesAreRejectedIdempotentOnesAccepted()
    {
        _f.CreateTopic("t");
        var txn = TestBatches.Build(1, attributes: RecordBatchHeader.TransactionalMask, producerId: 7, producerEpoch: 0, baseSequence: 0);
        Assert.Equal((short)ErrorCode.InvalidTxnState, (await _f.ProduceAsync("t", 0, txn)).ErrorCode);
        var idempotent = TestBatches.Build(2, producerId: 7, producerEpoch: 0, baseSequence: 0);
        var r = await _f.ProduceAsync("t", 0, idempotent);
        Assert.Equal((short)ErrorCode.None, r.ErrorCode);
        Assert.Equal(0, r.BaseOffset);
    }

    [Fact]
    public async Task LogAppendTimeTopicsStampBrokerTime()
    {
        _f.CreateTopic("lat", configs: new() { ["message.timestamp.type"] = "LogAppendTime" });
        _f.Clock.Now = DataFixture.StartTime + 4242;
        var r = await _f.ProduceAsync("lat", 0, TestBatches.Build(3, baseTimestamp: 5));
        Assert.Equal((short)ErrorCode.None, r.ErrorCode);
        Assert.Equal(DataFixture.StartTime + 4242, r.LogAppendTimeMs);

        var fetched = await _f.FetchAsync("lat", 0, 0);
        var batch = Assert.Single(TestBatches.Split(fetched.Records!.Value.Span));
        Assert.Equal(BatchError.None, RecordBatchValidator.ValidateOne(batch, int.MaxValue, out var header));
        Assert.True(header.IsLogAppendTime);
        Assert.Equal(DataFixture.StartTime + 4242, header.MaxTimestamp);
    }

    [Fact]
    public async Task SeveralPartitionsInOneRequestAreIndependent()
    {
        _f.CreateTopic("t", partitions: 2);
        var bad = TestBatches.Build(1);
        bad[^1] ^= 1;
        var request = new ProduceRequest
        {
            Acks = -1,
            TimeoutMs = 1000,
            TopicData =
            [
                new ProduceRequest.TopicProduceData
                {
                    Name = "t",
                    PartitionData =
                    [
                        new ProduceRequest.PartitionProduceData { Index = 0, Records = TestBatches.Build(4) },
                        new ProduceRequest.PartitionProduceData { Index = 1, Records = bad },
                    ],
                },
            ],
        };
        var response = await _f.Harness.CallAsync(0, 11, request, ProduceResponse.Read);
        var parts = Assert.Single(response.Responses).PartitionResponses;
        Assert.Equal((short)ErrorCode.None, parts[0].ErrorCode);
        Assert.Equal((short)ErrorCode.CorruptMessage, parts[1].ErrorCode);
        Assert.Equal(4, EndOffset("t", 0));
        Assert.Equal(0, EndOffset("t", 1));
    }

    [Fact]
    public async Task ClientsCannotAppendToTheOffsetsTopic()
    {
        _f.CreateTopic("__consumer_offsets");
        var r = await _f.ProduceAsync("__consumer_offsets", 0, TestBatches.Build(1));
        Assert.Equal((short)ErrorCode.InvalidTopicException, r.ErrorCode);
        Assert.Contains("internal topic", r.ErrorMessage);
        Assert.True(_f.Partitions.TryGetPartition("__consumer_offsets", 0, out var state));
        Assert.Equal(0, state.Log.LogEndOffset);
    }
}

using System.Buffers.Binary;
using Broker.Consensus;
using Broker.Core.Records;
using Broker.Metadata.Image;
using Broker.Metadata.Records;

namespace Broker.Metadata.Tests;

public class ApplierTests
{
    /// <summary>A log written by a live controller, and the image that controller built incrementally.</summary>
    private static async Task<(InMemoryPartitionLog, MetadataImage)> PopulatedLogAsync()
    {
        var storage = new InMemoryPartitionLog();
        using var f = await ControllerFixture.StartAsync(brokers: 3, storage: storage);
        await f.CreateTopicAsync("a", partitions: 3, replicationFactor: 2, configs: new Dictionary<string, string?> { ["retention.ms"] = "5" });
        await f.CreateTopicAsync("b", partitions: 1);
        await f.CreateTopicAsync("c", partitions: 2);
        await f.Controller.DeleteTopicsAsync(["b"]);
        await f.Controller.CreatePartitionsAsync("c", 4, null, false);
        await f.Controller.FenceBrokerAsync(3, f.Image.GetBroker(3)!.BrokerEpoch);
        await f.Controller.AllocateProducerIdsAsync(1, f.Image.GetBroker(1)!.BrokerEpoch);
        return (storage, f.Image);
    }

    private static MetadataImage ReplayFresh(InMemoryPartitionLog storage, int batchesPerRead = int.MaxValue)
    {
        storage.MaxBatchesPerRead = batchesPerRead;
        using var applier = new MetadataApplier(new LocalReplicatedLog(storage, 1), "test-cluster", () => 1);
        return applier.Replay();
    }

    [Fact]
    public async Task Replay_after_restart_rebuilds_the_same_image()
    {
        var (storage, live) = await PopulatedLogAsync();

        var replayed = ReplayFresh(storage);
        var replayedInSmallReads = ReplayFresh(storage, batchesPerRead: 1);
        foreach (var image in new[] { replayed, replayedInSmallReads })
        {
            Assert.Equal(Describe(live), Describe(image));
            Assert.Equal(storage.LogEndOffset - 1, image.LastAppliedOffset);
        }
        Assert.Null(replayed.GetTopic("b"));
        Assert.Equal(4, replayed.GetTopic("c")!.PartitionCount);
        Assert.Equal("5", replayed.GetTopic("a")!.Configs["retention.ms"]);
        Assert.Equal(new[] { 1, 2 }, replayed.UnfencedBrokerIds.ToArray());
        Assert.Equal(0, storage.OpenLeases);
    }

    [Fact]
    public async Task Applier_follows_high_watermark_advances()
    {
        var storage = new InMemoryPartitionLog();
        var log = new LocalReplicatedLog(storage, 1);
        using var applier = new MetadataApplier(log, "c", () => 1);
        applier.Replay();
        var changed = new TaskCompletionSource<MetadataImage>(TaskCreationOptions.RunContinuationsAsynchronously);
        applier.ImageChanged += image => { if (image.GetTopic("x") is not null) changed.TrySetResult(image); };

        // Someone else (a replication thread, here a direct append) advances the high watermark.
        var id = Guid.NewGuid();
        log.Append(RecordAssert.Batch(new TopicRecord("x", id), new PartitionRecord(0, id, [1], [1], 1, 0, 0)));

        var image = await changed.Task.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(1, image.GetTopic("x")!.PartitionCount);
        Assert.Same(image, applier.Current);
        Assert.Equal(1, image.LastAppliedOffset);
    }

    [Fact]
    public async Task A_throwing_subscriber_does_not_break_writes_or_other_subscribers()
    {
        using var f = await ControllerFixture.StartAsync();
        int seen = 0;
        f.Applier.ImageChanged += _ => throw new InvalidOperationException("boom");
        f.Applier.ImageChanged += _ => Interlocked.Increment(ref seen);
        Assert.Equal(Core.Model.ErrorCode.None, (await f.CreateTopicAsync("t")).Error);
        Assert.NotNull(f.Image.GetTopic("t"));
        Assert.True(Volatile.Read(ref seen) >= 1);
    }

    [Fact]
    public async Task Disposed_applier_stops_following()
    {
        var storage = new InMemoryPartitionLog();
        var log = new LocalReplicatedLog(storage, 1);
        var applier = new MetadataApplier(log, "c", () => 1);
        applier.Replay();
        applier.Dispose();
        log.Append(RecordAssert.Batch(new FeatureLevelRecord("f", 1)));
        await Task.Delay(100);
        Assert.Equal(-1, applier.Current.LastAppliedOffset);
    }

    [Fact]
    public void Unknown_record_types_are_skipped_on_replay()
    {
        var storage = new InMemoryPartitionLog();
        var log = new LocalReplicatedLog(storage, 1);
        var id = Guid.NewGuid();
        log.Append(RecordAssert.Batch(new TopicRecord("x", id)));
        log.Append(BatchWithRawValues([1, 99, 0, 1, 2, 3], [1, 60, 0]));            // two records of unknown types
        log.Append(RecordAssert.Batch(new PartitionRecord(0, id, [1], [1], 1, 0, 0)));

        var image = ReplayFresh(storage);
        Assert.Equal(1, image.GetTopic("x")!.PartitionCount);
        Assert.Equal(3, image.LastAppliedOffset);
    }

    [Fact]
    public void Corrupted_frame_version_stops_replay_with_a_clear_error()
    {
        var storage = new InMemoryPartitionLog();
        var log = new LocalReplicatedLog(storage, 1);
        log.Append(RecordAssert.Batch(new FeatureLevelRecord("f", 1)));
        var value = MetadataRecordSerde.Serialize(new TopicRecord("x", Guid.NewGuid()));
        value[0] = 7;
        log.Append(BatchWithRawValues(value));

        using var applier = new MetadataApplier(log, "c", () => 1);
        var ex = Assert.Throws<MetadataFormatException>(() => applier.Replay());
        Assert.Contains("offset 1", ex.Message);
        Assert.Contains("frame version 7", ex.Message);
        Assert.Equal(-1, applier.Current.LastAppliedOffset); // nothing half-applied was published
        Assert.Equal(0, applier.NextOffset);
        Assert.Equal(0, storage.OpenLeases);
    }

    [Fact]
    public void Corrupt_batch_crc_is_reported()
    {
        var storage = new InMemoryPartitionLog();
        var batch = RecordAssert.Batch(new FeatureLevelRecord("f", 1));
        batch[^2] ^= 0xFF;
        storage.AppendRaw(batch, 1);
        using var applier = new MetadataApplier(new LocalReplicatedLog(storage, 1), "c", () => 1);
        var ex = Assert.Throws<MetadataFormatException>(() => applier.Replay());
        Assert.Contains("CrcMismatch", ex.Message);
    }

    [Fact]
    public void Control_batches_are_skipped()
    {
        var storage = new InMemoryPartitionLog();
        var control = RecordAssert.Batch(new FeatureLevelRecord("ignored", 1));
        BinaryPrimitives.WriteInt16BigEndian(control.AsSpan(RecordBatchHeader.AttributesOffset), RecordBatchHeader.ControlMask);
        RecordBatchValidator.RewriteCrc(control);
        var log = new LocalReplicatedLog(storage, 1);
        log.Append(control);
        log.Append(RecordAssert.Batch(new FeatureLevelRecord("kept", 2)));
        var image = ReplayFresh(storage);
        Assert.Equal(0, image.GetFeatureLevel("ignored"));
        Assert.Equal(2, image.GetFeatureLevel("kept"));
        Assert.Equal(1, image.LastAppliedOffset);
    }

    /// <summary>A well-formed batch whose record values are given raw (to plant unknown or corrupt records).</summary>
    private static byte[] BatchWithRawValues(params byte[][] values)
    {
        var builder = new RecordBatchBuilder();
        builder.Reset(0);
        foreach (var value in values) builder.Add(0, default, value, keyIsNull: true);
        return builder.ToArray();
    }

    private static string Describe(MetadataImage image)
    {
        var lines = new List<string> { $"cluster={image.ClusterId} controller={image.ControllerId} next-pid={image.NextProducerId}" };
        foreach (var t in image.TopicsByName.Values.OrderBy(t => t.Name))
        {
            lines.Add($"topic {t.Name} {t.TopicId} configs={string.Join(",", t.Configs.OrderBy(c => c.Key).Select(c => $"{c.Key}={c.Value}"))}");
            foreach (var p in t.Partitions)
                lines.Add($"  p{p.PartitionId} leader={p.Leader}/{p.LeaderEpoch}/{p.PartitionEpoch} r=[{string.Join(",", p.Replicas)}] isr=[{string.Join(",", p.Isr)}]");
            Assert.Same(t, image.GetTopic(t.TopicId));
        }
        foreach (var b in image.Brokers.Values.OrderBy(b => b.BrokerId))
            lines.Add($"broker {b.BrokerId} {b.IncarnationId} epoch={b.BrokerEpoch} fenced={b.Fenced} {string.Join(",", b.Endpoints)}");
        foreach (var f in image.Features.OrderBy(f => f.Key)) lines.Add($"feature {f.Key}={f.Value}");
        return string.Join("\n", lines);
    }
}

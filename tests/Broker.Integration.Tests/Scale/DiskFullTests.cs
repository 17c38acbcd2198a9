using System.Diagnostics;
using System.Text;
using Broker.Client;
using Broker.Core.Model;
using Broker.Integration.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace Broker.Integration.Tests.Scale;

/// <summary>
/// The published broker with its log directory on a 64 MiB tmpfs. With storage.min.free.bytes=16 MiB, produce is
/// refused with KAFKA_STORAGE_ERROR and a message naming the floor (seen by our client and by kcat) before the disk
/// fills; everything acknowledged stays readable, produce resumes once a topic is deleted, and a restart finds every
/// acknowledged record. With the floor at 0 the disk really fills (ENOSPC): the failing produce gets
/// KAFKA_STORAGE_ERROR, the broker keeps serving reads, produce resumes once the file system grows, and after a
/// restart every acknowledged record is there with valid CRCs. The tmpfs is unmounted after the broker is gone,
/// whatever the outcome.
/// </summary>
public sealed class DiskFullTests : IntegrationTest, IDisposable
{
    private const long FsBytes = 64L << 20;
    private const long FloorBytes = 16L << 20;
    private const int RecordBytes = 64 * 1024;
    private readonly TmpfsMount _fs;

    public DiskFullTests(ITestOutputHelper output) : base(output)
    {
        _fs = TmpfsMount.Create(FsBytes);
    }

    /// <summary>The broker (owned by the base class) goes first, then the file system it wrote to.</summary>
    public new void Dispose()
    {
        base.Dispose();
        _fs.Dispose();
    }

    private BrokerProcess StartOnTmpfs(string name, long floorBytes) => StartBroker(name, new Dictionary<string, string>
    {
        ["log.dirs"] = Path.Combine(_fs.Path, "data"),
        ["storage.min.free.bytes"] = floorBytes.ToString(),
        ["log.segment.bytes"] = (4 << 20).ToString(), // rolls (index files, new segments) happen while the disk fills
    });

    private static KafkaClient Connect(BrokerProcess broker) => new(new KafkaClientOptions
    {
        BootstrapServers = broker.Bootstrap,
        ClientId = "disk-full-it",
        RequestTimeout = TimeSpan.FromSeconds(15),
        RetryBudget = TimeSpan.Zero, // the storage error must come back as is, not be retried away
    });

    [Fact]
    public async Task Produce_is_refused_below_the_free_space_floor_and_resumes_when_space_is_freed()
    {
        var broker = StartOnTmpfs("disk-floor", FloorBytes);
        var acked = new List<(long Offset, string Id)>();
        await using (var client = Connect(broker))
        {
            await CreateTopic(client, "filler");
            await CreateTopic(client, "data");
            // 20 MiB of a topic that is deleted later to free space (batches of 512 KiB, under max.message.bytes).
            for (int i = 0; i < 40; i++)
            {
                var filled = await client.ProduceAsync("filler", 0, [Record($"filler-{i}-a", 256 << 10), Record($"filler-{i}-b", 256 << 10)]);
                Assert.True(filled.Error == ErrorCode.None, $"filler batch {i}: {filled.Error} {filled.ErrorMessage}");
            }

            var refusal = await FillUntilRefused(client, "data", acked, maxBatches: 200);
            Output.WriteLine($"refused after {acked.Count} acked records with {_fs.FreeBytes} bytes free: {refusal.ErrorMessage}");
            Assert.Equal(ErrorCode.KafkaStorageError, refusal.Error);
            Assert.Contains("below storage.min.free.bytes=16777216", refusal.ErrorMessage);
            Assert.Contains("produce refused until space is freed", refusal.ErrorMessage);
            Assert.True(_fs.FreeBytes > 4L << 20, $"only {_fs.FreeBytes} bytes left: the floor should have kept more");
            Assert.True(acked.Count >= 50, $"only {acked.Count} records acked before the refusal");

            // A librdkafka client sees the error too.
            var kcat = ProduceWithKcat(broker, "data");
            Assert.Contains("Disk error", kcat.Stdout + kcat.Stderr);

            await AssertReadable(client, "data", acked);

            // Space is freed: produce works again once the guard takes a new reading.
            var deleted = Assert.Single(await client.DeleteTopicsAsync(["filler"]));
            Assert.Equal(ErrorCode.None, deleted.Error);
            var resumed = await ProduceWithin(client, "data", "after-delete", TimeSpan.FromSeconds(20));
            acked.Add((resumed, "after-delete"));
            await AssertReadable(client, "data", acked);
        }

        broker.Stop(TimeSpan.FromSeconds(20));
        broker.Restart();
        await using (var client = Connect(broker))
        {
            await AssertReadable(client, "data", acked);
        }
        Assert.Contains("produce refused until space is freed", broker.ReadLog());
        Assert.Contains("produce accepted", broker.ReadLog());
    }

    [Fact]
    public async Task A_really_full_disk_fails_produce_cleanly_and_loses_nothing_acknowledged()
    {
        var broker = StartOnTmpfs("disk-enospc", floorBytes: 0);
        var acked = new List<(long Offset, string Id)>();
        await using (var client = Connect(broker))
        {
            await CreateTopic(client, "data");
            var failure = await FillUntilRefused(client, "data", acked, maxBatches: 400);
            Output.WriteLine($"failed after {acked.Count} acked records with {_fs.FreeBytes} bytes free: {failure.ErrorMessage}");
            Assert.Equal(ErrorCode.KafkaStorageError, failure.Error);
            Assert.Contains("No space left on device", failure.ErrorMessage);

            // The broker keeps serving reads and keeps refusing cleanly while the disk is full.
            await AssertReadable(client, "data", acked);
            var again = await client.ProduceAsync("data", 0, [Record("while-full", RecordBytes)]);
            Assert.Equal(ErrorCode.KafkaStorageError, again.Error);
            await AssertReadable(client, "data", acked);

            _fs.Resize(FsBytes * 2);
            var resumed = await ProduceWithin(client, "data", "after-grow", TimeSpan.FromSeconds(20));
            acked.Add((resumed, "after-grow"));
            await AssertReadable(client, "data", acked);
        }

        // A hard kill, then recovery of the active segment: every acknowledged record, nothing corrupt.
        broker.Kill();
        broker.Restart();
        await using (var client = Connect(broker))
        {
            await AssertReadable(client, "data", acked);
            var after = await ProduceWithin(client, "data", "after-restart", TimeSpan.FromSeconds(20));
            acked.Add((after, "after-restart"));
            await AssertReadable(client, "data", acked);
        }
        Assert.DoesNotContain("Unhandled exception", broker.ReadLog());
    }

    private static ProducerRecord Record(string id, int size)
    {
        var value = new byte[size];
        Encoding.ASCII.GetBytes(id).CopyTo(value, 0);
        return new ProducerRecord(Encoding.UTF8.GetBytes(id), value);
    }

    private static async Task CreateTopic(KafkaClient client, string name)
    {
        var result = Assert.Single(await client.CreateTopicsAsync([new NewTopic(name, 1, 1)]));
        Assert.True(result.Error == ErrorCode.None, $"create {name}: {result.Error} {result.Message}");
        // The partition is served once its replica opened and elected itself: ListOffsets answers then.
        var sw = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                await client.ListOffsetAsync(name, 0, -1);
                return;
            }
            catch (KafkaException) when (sw.Elapsed < TimeSpan.FromSeconds(15))
            {
                await Task.Delay(100);
            }
        }
    }

    /// <summary>Produces 4 × 64 KiB records per batch until one fails; returns the failure. Acked records are recorded.</summary>
    private static async Task<ProduceResult> FillUntilRefused(KafkaClient client, string topic, List<(long Offset, string Id)> acked, int maxBatches)
    {
        for (int b = 0; b < maxBatches; b++)
        {
            var ids = Enumerable.Range(0, 4).Select(i => $"{topic}-{b}-{i}").ToArray();
            var result = await client.ProduceAsync(topic, 0, ids.Select(id => Record(id, RecordBytes)).ToArray());
            if (result.Error != ErrorCode.None) return result;
            for (int i = 0; i < ids.Length; i++) acked.Add((result.BaseOffset + i, ids[i]));
        }
        Assert.Fail($"{maxBatches} batches of 256 KiB were all accepted on a {FsBytes >> 20} MiB file system");
        return null!;
    }

    /// <summary>Produces one record, retrying storage errors until <paramref name="budget"/> ends; returns its offset.</summary>
    private static async Task<long> ProduceWithin(KafkaClient client, string topic, string id, TimeSpan budget)
    {
        var sw = Stopwatch.StartNew();
        while (true)
        {
            var result = await client.ProduceAsync(topic, 0, [Record(id, RecordBytes)]);
            if (result.Error == ErrorCode.None) return result.BaseOffset;
            Assert.True(sw.Elapsed < budget, $"produce still failing after {budget.TotalSeconds:F0} s: {result.Error} {result.ErrorMessage}");
            await Task.Delay(250);
        }
    }

    /// <summary>Reads the partition from 0 and checks it holds exactly the acked records (ids at their offsets).</summary>
    private static async Task AssertReadable(KafkaClient client, string topic, List<(long Offset, string Id)> acked)
    {
        var byOffset = new Dictionary<long, string>();
        long offset = 0;
        var sw = Stopwatch.StartNew();
        long end = acked.Count == 0 ? 0 : acked[^1].Offset + 1;
        while (offset < end)
        {
            Assert.True(sw.Elapsed < TimeSpan.FromSeconds(30), $"read stuck at offset {offset} of {end}");
            var fetched = await client.FetchAsync(topic, 0, offset, 4 << 20, TimeSpan.FromMilliseconds(100));
            Assert.True(fetched.Error == ErrorCode.None, $"fetch at {offset}: {fetched.Error}");
            foreach (var r in fetched.Records) byOffset[r.Offset] = Encoding.UTF8.GetString(r.Key!);
            offset = fetched.NextOffset;
        }
        foreach (var (o, id) in acked)
            Assert.True(byOffset.TryGetValue(o, out var found) && found == id, $"offset {o}: expected {id}, found {found ?? "nothing"}");
        Assert.Equal(acked.Count, byOffset.Count);
    }

    private ScriptResult ProduceWithKcat(BrokerProcess broker, string topic)
    {
        var result = ScriptRunner.Run("/bin/sh", ["-c",
            $"echo kcat-record | timeout 30 kcat -P -b {broker.Bootstrap} -t {topic} -p 0 -X acks=all -X retries=0 -X message.timeout.ms=10000"],
            TimeSpan.FromSeconds(40));
        Output.WriteLine($"kcat: exit {result.ExitCode}, stdout '{result.Stdout.Trim()}', stderr '{result.Stderr.Trim()}'");
        return result;
    }
}

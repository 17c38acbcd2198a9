using System.Diagnostics;
using System.Text;
using Broker.Client;
using Broker.Core.Model;
using Broker.Integration.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace Broker.Integration.Tests.Durability;

/// <summary>
/// Repeated SIGKILL during heavy acks=all production (issue 6 items 1 and 7): several concurrent producers (our
/// KafkaClient, many requests in flight per partition) write to a multi-partition topic while the single-node broker
/// is killed at random moments and restarted, several times. Every acknowledged record is remembered with its
/// partition, offset and payload id. After the last restart everything is consumed and checked: every acknowledged
/// record is at its offset with its payload, offsets are dense from 0 to the high watermark, and every batch served
/// passes its CRC (the client's fetch decoder checks each one and reports a corrupt batch as an error). Run with
/// write.caching.default=false (fsync before acknowledging) and with the default write caching.
/// </summary>
public sealed class KillDuringProduceTests : IntegrationTest
{
    private const string Topic = "kill-storm";
    private const int Partitions = 4;
    private const int Producers = 8;
    private const int RecordsPerBatch = 10;
    private const int Kills = 5;

    public KillDuringProduceTests(ITestOutputHelper output) : base(output) { }

    [Fact]
    public Task Repeated_kill9_with_write_caching_off_loses_no_acknowledged_record() =>
        RunKillStorm("ks-sync", new Dictionary<string, string> { ["write.caching.default"] = "false" });

    [Fact]
    public Task Repeated_kill9_with_default_write_caching_loses_no_acknowledged_record() =>
        RunKillStorm("ks-cached", new Dictionary<string, string>());

    private sealed record Acked(int Partition, long Offset, string Id);

    private async Task RunKillStorm(string name, Dictionary<string, string> overrides)
    {
        // Small segments: kills also land around segment rolls and producer-state snapshots.
        overrides["log.segment.bytes"] = "262144";
        var broker = StartBroker(name, overrides);
        int seed = Environment.TickCount;
        var random = new Random(seed);
        Output.WriteLine($"seed {seed}, overrides: {string.Join(", ", overrides.Select(kv => kv.Key + "=" + kv.Value))}");
        var total = Stopwatch.StartNew();

        await using (var admin = Connect(broker, TimeSpan.FromSeconds(15)))
        {
            var created = Assert.Single(await admin.CreateTopicsAsync(new[] { new NewTopic(Topic, Partitions, 1) }));
            Assert.True(created.Error == ErrorCode.None, $"create topic: {created.Error} {created.Message}");
        }

        var acked = new List<Acked>();
        long attempts = 0, failures = 0;
        for (int round = 0; round < Kills; round++)
        {
            if (round > 0) broker.Restart();
            int before = acked.Count;
            using var stop = new CancellationTokenSource();
            await using var client = Connect(broker, TimeSpan.FromSeconds(2));
            var producers = new Task[Producers];
            for (int p = 0; p < Producers; p++)
            {
                int producer = p;
                producers[p] = Task.Run(() => ProduceUntilStopped(client, round, producer, acked,
                    () => Interlocked.Increment(ref attempts), () => Interlocked.Increment(ref failures), stop.Token));
            }
            // Kill at a random moment once this round has some acknowledgements (bounded waits).
            var roundClock = Stopwatch.StartNew();
            while (Count(acked) - before < 200 && roundClock.Elapsed < TimeSpan.FromSeconds(10)) await Task.Delay(20);
            await Task.Delay(random.Next(100, 1_500));
            int atKill = Count(acked);
            broker.Kill();
            stop.Cancel();
            await Task.WhenAll(producers).WaitAsync(TimeSpan.FromSeconds(20));
            Output.WriteLine($"round {round}: killed after {roundClock.ElapsedMilliseconds} ms; acknowledged {atKill - before} " +
                             $"before the kill, {Count(acked) - atKill} answered while it hit; {Count(acked)} in total");
            Assert.True(atKill - before >= 200, $"round {round}: only {atKill - before} acknowledgements before the kill\n{broker.DescribeState()}");
        }

        broker.Restart();
        Output.WriteLine($"{attempts} produce requests, {failures} failed (broker killed under them), {acked.Count} records acknowledged");
        await VerifyAsync(broker, acked);
        Output.WriteLine($"total {total.Elapsed.TotalSeconds:F1} s");
        Assert.Contains("unwritten tail", broker.ReadLog()); // recovery did cut unwritten (preallocated) tails
    }

    private static int Count(List<Acked> acked)
    {
        lock (acked) return acked.Count;
    }

    private static KafkaClient Connect(BrokerProcess broker, TimeSpan retryBudget) => new(new KafkaClientOptions
    {
        BootstrapServers = broker.Bootstrap,
        ClientId = "kill-storm",
        RequestTimeout = TimeSpan.FromSeconds(10),
        RetryBudget = retryBudget,
    });

    /// <summary>One producer: batches of <see cref="RecordsPerBatch"/> records with unique payload ids, acks=all,
    /// partition by producer (two producers share each partition, so requests overlap), until stopped.</summary>
    private static async Task ProduceUntilStopped(KafkaClient client, int round, int producer, List<Acked> acked,
        Action attempted, Action failed, CancellationToken stop)
    {
        int partition = producer % Partitions;
        string padding = new('p', 150);
        for (int seq = 0; !stop.IsCancellationRequested; seq++)
        {
            var ids = new string[RecordsPerBatch];
            var records = new ProducerRecord[RecordsPerBatch];
            for (int i = 0; i < RecordsPerBatch; i++)
            {
                ids[i] = $"r{round}-p{producer}-s{seq}-i{i}";
                records[i] = new ProducerRecord(null, Encoding.UTF8.GetBytes(ids[i] + "|" + padding));
            }
            attempted();
            ProduceResult result;
            try
            {
                result = await client.ProduceAsync(Topic, partition, records, acks: -1, cancellationToken: stop);
            }
            catch (Exception ex) when (ex is OperationCanceledException or KafkaException or IOException or ObjectDisposedException)
            {
                failed();
                continue;
            }
            if (result.Error != ErrorCode.None)
            {
                failed();
                continue;
            }
            lock (acked)
            {
                for (int i = 0; i < RecordsPerBatch; i++) acked.Add(new Acked(partition, result.BaseOffset + i, ids[i]));
            }
        }
    }

    /// <summary>Consumes every partition from 0 to its high watermark and checks it against the acknowledgements.</summary>
    private async Task VerifyAsync(BrokerProcess broker, List<Acked> acked)
    {
        await using var client = Connect(broker, TimeSpan.FromSeconds(15));
        for (int partition = 0; partition < Partitions; partition++)
        {
            var mine = acked.Where(a => a.Partition == partition).ToList();
            long needed = mine.Count == 0 ? 0 : mine.Max(a => a.Offset) + 1;
            var values = new List<string>();
            long offset = 0, highWatermark = -1;
            var clock = Stopwatch.StartNew();
            while (highWatermark < 0 || offset < highWatermark)
            {
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"partition {partition}: consumed only up to {offset} in 30 s");
                var result = await client.FetchAsync(Topic, partition, offset, 4 << 20, TimeSpan.FromMilliseconds(100));
                Assert.True(result.Error == ErrorCode.None,
                    $"partition {partition}: fetch at {offset} failed with {result.Error} (a corrupt batch is CORRUPT_MESSAGE)\n{broker.DescribeState()}");
                highWatermark = result.HighWatermark;
                foreach (var record in result.Records)
                {
                    Assert.True(record.Offset == values.Count,
                        $"partition {partition}: offsets not dense: got {record.Offset}, expected {values.Count}");
                    string value = Encoding.UTF8.GetString(record.Value!);
                    values.Add(value[..value.IndexOf('|')]);
                }
                offset = result.NextOffset;
            }
            Assert.Equal(highWatermark, values.Count);
            Assert.True(values.Count >= needed,
                $"partition {partition}: log ends at {values.Count} but offset {needed - 1} was acknowledged\n{broker.DescribeState()}");
            var wrong = mine.Where(a => values[(int)a.Offset] != a.Id).Take(5).ToList();
            Assert.True(wrong.Count == 0, $"partition {partition}: acknowledged records not at their offsets, e.g. " +
                string.Join("; ", wrong.Select(a => $"{a.Offset}: expected {a.Id}, found {values[(int)a.Offset]}")));
            Output.WriteLine($"partition {partition}: {values.Count} records, {mine.Count} acknowledged ones all in place");
        }
    }
}

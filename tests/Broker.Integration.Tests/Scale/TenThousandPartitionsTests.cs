using System.Diagnostics;
using Broker.Client;
using Broker.Core.Model;
using Broker.Integration.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace Broker.Integration.Tests.Scale;

/// <summary>
/// 10,000 partitions on one broker (10 topics × 1,000 partitions, each its own log and Raft group): created, written
/// (one record per partition, many partitions per Produce), read back (many partitions per Fetch), then the broker is
/// restarted and everything is read again and written once more. The broker's open file descriptors and memory
/// mappings must stay well below the machine's limits (ulimit -n 20000, vm.max_map_count 65530); creation time,
/// start-up time, RSS and idle CPU are logged.
/// </summary>
public sealed class TenThousandPartitionsTests : IntegrationTest
{
    private const int TopicCount = 10;
    private const int PartitionsPerTopic = 1000;
    private const int MaxFds = 5000;
    private const int MaxMappings = 20000;
    private static readonly TimeSpan PhaseBudget = TimeSpan.FromSeconds(120);

    public TenThousandPartitionsTests(ITestOutputHelper output) : base(output) { }

    private static string TopicName(int t) => $"scale-{t}";
    private static string Value(int t, int p, int round) => $"{TopicName(t)}/{p}/{round}";

    [Fact]
    public async Task TenThousandPartitions_AreCreatedWrittenReadAndSurviveARestart()
    {
        var broker = StartBroker("scale-10k");
        var total = Stopwatch.StartNew();
        await using (var client = Connect(broker))
        {
            var sw = Stopwatch.StartNew();
            for (int t = 0; t < TopicCount; t++)
            {
                var result = Assert.Single(await client.CreateTopicsAsync([new NewTopic(TopicName(t), PartitionsPerTopic, 1)]));
                Assert.True(result.Error == ErrorCode.None, $"create {TopicName(t)}: {result.Error} {result.Message}");
            }
            Output.WriteLine($"created {TopicCount * PartitionsPerTopic} partitions (CreateTopics answered) in {sw.ElapsedMilliseconds} ms; " +
                             ProcStats.Describe(broker.Pid));

            sw.Restart();
            for (int t = 0; t < TopicCount; t++)
            {
                int topic = t;
                var offsets = await ScaleWire.ProduceOneEachAsync(client, TopicName(t), Enumerable.Range(0, PartitionsPerTopic),
                    p => Value(topic, p, 0), PhaseBudget);
                foreach (var (p, offset) in offsets) Assert.True(offset == 0, $"{TopicName(t)}-{p}: first record at offset {offset}");
            }
            Output.WriteLine($"wrote one record to each partition in {sw.ElapsedMilliseconds} ms; {ProcStats.Describe(broker.Pid)}");

            sw.Restart();
            for (int t = 0; t < TopicCount; t++)
            {
                int topic = t;
                await ScaleWire.ReadAllAndCheckAsync(client, TopicName(t), PartitionsPerTopic, p => [Value(topic, p, 0)], PhaseBudget);
            }
            Output.WriteLine($"read every partition back in {sw.ElapsedMilliseconds} ms; {ProcStats.Describe(broker.Pid)}");
        }

        await AssertResourcesBoundedAsync(broker, "after the first round");
        await LogIdleFiguresAsync(broker, "10k partitions, before restart");

        var (_, stopTook) = broker.Stop(TimeSpan.FromSeconds(60));
        var startup = Stopwatch.StartNew();
        broker.Restart(TimeSpan.FromSeconds(180));
        Output.WriteLine($"clean stop took {stopTook.TotalMilliseconds:F0} ms; restart answered ApiVersions after {startup.ElapsedMilliseconds} ms");

        await using (var client = Connect(broker))
        {
            for (int t = 0; t < TopicCount; t++)
            {
                int topic = t;
                await ScaleWire.ReadAllAndCheckAsync(client, TopicName(t), PartitionsPerTopic, p => [Value(topic, p, 0)], PhaseBudget);
            }
            Output.WriteLine($"after restart: every partition readable {startup.ElapsedMilliseconds} ms after the restart began; " +
                             ProcStats.Describe(broker.Pid));

            for (int t = 0; t < TopicCount; t++)
            {
                int topic = t;
                var offsets = await ScaleWire.ProduceOneEachAsync(client, TopicName(t), Enumerable.Range(0, PartitionsPerTopic),
                    p => Value(topic, p, 1), PhaseBudget);
                foreach (var (p, offset) in offsets) Assert.True(offset >= 1, $"{TopicName(t)}-{p}: second record at offset {offset}");
            }
            for (int t = 0; t < TopicCount; t++)
            {
                int topic = t;
                await ScaleWire.ReadAllAndCheckAsync(client, TopicName(t), PartitionsPerTopic,
                    p => [Value(topic, p, 0), Value(topic, p, 1)], PhaseBudget);
            }
            Output.WriteLine($"after restart: wrote and read a second record everywhere; {ProcStats.Describe(broker.Pid)}");
        }

        await AssertResourcesBoundedAsync(broker, "after the restart round");
        await LogIdleFiguresAsync(broker, "10k partitions, after restart");
        Output.WriteLine($"total {total.Elapsed.TotalSeconds:F0} s");
    }

    private static KafkaClient Connect(BrokerProcess broker) => new(new KafkaClientOptions
    {
        BootstrapServers = broker.Bootstrap,
        ClientId = "scale-it",
        RequestTimeout = TimeSpan.FromSeconds(60),
        RetryBudget = TimeSpan.FromSeconds(30),
    });

    /// <summary>
    /// File descriptors and mappings must come (or stay) below the bounds: idle segment handles are closed by the
    /// broker's periodic sweep, so allow it a little time.
    /// </summary>
    private async Task AssertResourcesBoundedAsync(BrokerProcess broker, string when)
    {
        var sw = Stopwatch.StartNew();
        int fds, maps;
        while (true)
        {
            fds = ProcStats.OpenFds(broker.Pid);
            maps = ProcStats.Mappings(broker.Pid);
            if ((fds < MaxFds && maps < MaxMappings) || sw.Elapsed > TimeSpan.FromSeconds(20)) break;
            await Task.Delay(500);
        }
        Output.WriteLine($"{when}: {fds} open fds, {maps} mappings (after {sw.ElapsedMilliseconds} ms)");
        Assert.True(fds < MaxFds, $"{when}: the broker holds {fds} file descriptors (limit for this test {MaxFds})\n{broker.LogTail(30)}");
        Assert.True(maps < MaxMappings, $"{when}: the broker has {maps} memory mappings (limit for this test {MaxMappings})");
    }

    private async Task LogIdleFiguresAsync(BrokerProcess broker, string what)
    {
        double cpu = await ProcStats.CpuPercentAsync(broker.Pid, TimeSpan.FromSeconds(5));
        Output.WriteLine($"{what}: RSS {ProcStats.RssMiB(broker.Pid):F0} MiB, idle CPU {cpu:F1}% of one core over 5 s");
    }
}

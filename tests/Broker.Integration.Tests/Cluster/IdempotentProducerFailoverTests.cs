using System.Diagnostics;
using Broker.Integration.Tests.Groups;
using Broker.Integration.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace Broker.Integration.Tests.Cluster;

/// <summary>
/// An idempotent producer (enable.idempotence=true, acks=all) writes ids 0..N round-robin to 3 partitions (RF 3)
/// while the leader of partition 0 is SIGKILLed and later restarted: afterwards every partition holds its ids
/// EXACTLY once and in id order, each acknowledged id at the offset its delivery report gave (a retried batch the
/// broker had already written is answered with the original offsets, not written again). This is what separates
/// it from the at-least-once failover test (<see cref="LeaderFailoverTests"/>), where duplicates are allowed.
/// librdkafka (confluent-kafka) and kafkajs (idempotent: true).
/// </summary>
[Trait("Category", "Cluster")]
public sealed class IdempotentProducerFailoverTests : ClusterTest
{
    private const int Partitions = 3;

    public IdempotentProducerFailoverTests(ITestOutputHelper output) : base(output) { }

    [Fact]
    public void LeaderKill9_IdempotentLibrdkafka_EveryIdExactlyOnceInOrder() =>
        Run("rdk", (cluster, topic, acked, errors) => ScriptRunner.Start(TestPaths.Python, new[]
        {
            Path.Combine(PythonDir, "idempotent_producer.py"), "--bootstrap", cluster.Bootstrap, "--topic", topic,
            "--partitions", Partitions.ToString(), "--acked-file", acked, "--errors-file", errors, "--rate", "300", "--duration", "90",
        }));

    [Fact]
    public void LeaderKill9_IdempotentKafkaJs_EveryIdExactlyOnceInOrder()
    {
        Assert.True(Directory.Exists(Path.Combine(NodeDir, "node_modules", "kafkajs")),
            "kafkajs is not installed: run 'npm ci' in tests/clients/node (tests/run-all.sh does)");
        Run("kjs", (cluster, topic, acked, errors) => ScriptRunner.Start("node", new[]
        {
            Path.Combine(NodeDir, "idempotent_producer.js"), "--bootstrap", cluster.Bootstrap, "--topic", topic,
            "--partitions", Partitions.ToString(), "--acked-file", acked, "--errors-file", errors, "--rate", "300", "--duration", "90",
        }));
    }

    private void Run(string name, Func<ClusterProcess, string, string, string, RunningScript> start)
    {
        var cluster = StartCluster($"idem-{name}", ClusterLayout.Combined(3));
        string topic = $"idempotent-{name}";
        cluster.CreateTopic(topic, Partitions, 3);
        string ackedFile = Scratch($"{name}.acked"), errorsFile = Scratch($"{name}.errors");

        using var producer = start(cluster, topic, ackedFile, errorsFile);
        WaitForAcked(ackedFile, 300, 0, TimeSpan.FromSeconds(30), producer, cluster);
        int leader = cluster.LeaderOf(topic, 0);
        long killedAt = cluster.Node(leader).Kill();
        var sw = Stopwatch.StartNew();
        cluster.WaitForLeaders(topic, Partitions, TimeSpan.FromSeconds(20), p => p.Leader != leader);
        long electedMs = sw.ElapsedMilliseconds;
        WaitForAcked(ackedFile, 300, killedAt, TimeSpan.FromSeconds(30), producer, cluster);
        cluster.Restart(leader);
        long restartedAt = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        WaitForAcked(ackedFile, 300, restartedAt, TimeSpan.FromSeconds(30), producer, cluster);

        var produced = StopProducer(producer);
        var summary = AssertScriptOk(produced, cluster, $"idempotent producer ({name})");
        var acked = ProducedMessage.ReadAcked(ackedFile);
        var failedIds = ReadFailedIds(errorsFile);
        int problems = 0;
        var report = new List<string>();
        int logRecords = 0;
        for (int p = 0; p < Partitions; p++)
        {
            string idsFile = Scratch($"{name}.p{p}.ids");
            AssertScriptOk(Python("cluster_verify.py", "--bootstrap", cluster.Bootstrap, "--topic", topic, "--partition", p.ToString(),
                "--out", idsFile, "--timeout", "30"), cluster, $"reading partition {p} back");
            var log = ReadLog(idsFile);
            logRecords += log.Count;
            var issues = CheckPartition(p, log, acked.Where(a => a.Partition == p).ToList(), failedIds);
            problems += issues.Count;
            report.AddRange(issues.Take(10));
        }

        var times = acked.Select(a => a.TimeMs).Order().ToList();
        long firstAfterKill = times.Where(t => t > killedAt).Select(t => t - killedAt).DefaultIfEmpty(-1).First();
        long maxGap = 0;
        for (int i = 1; i < times.Count; i++)
            if (times[i] > killedAt) maxGap = Math.Max(maxGap, times[i] - Math.Max(times[i - 1], killedAt));
        string line = $"IDEMPOTENT client={name} leader_killed={leader} acked={acked.Count} log_records={logRecords} " +
                      $"delivery_failures={failedIds.Count} problems={problems} leader_elected_ms={electedMs} " +
                      $"first_ack_after_kill_ms={firstAfterKill} max_ack_gap_after_kill_ms={maxGap}";
        Output.WriteLine(line);
        Console.WriteLine(line);
        Assert.True(problems == 0, $"idempotent production through a leader kill ({name}): {problems} problem(s):\n" +
                                   $"{string.Join("\n", report)}\nproducer: {summary}\nproducer stderr (tail):\n" +
                                   $"{ScriptResult.Tail(produced.Stderr, 6000)}\n{cluster.DescribeState()}");
        Assert.True(failedIds.Count == 0, $"{failedIds.Count} messages failed delivery (the producer retries without limit): see {errorsFile}; producer: {summary}");
    }

    /// <summary>Exactly once and in order: the ids in the partition strictly increase, every acknowledged id is
    /// there at the offset its delivery report named, and nothing else is there except ids whose delivery failed
    /// (which may or may not have been written, once).</summary>
    private static List<string> CheckPartition(int p, List<(long Offset, long Id)> log, List<ProducedMessage> acked, HashSet<long> failed)
    {
        var issues = new List<string>();
        var at = new Dictionary<long, long>();
        long previous = -1;
        foreach (var (offset, id) in log)
        {
            if (id <= previous) issues.Add($"p{p} offset {offset}: id {id} after id {previous} ({(at.ContainsKey(id) ? "DUPLICATE" : "out of order")})");
            previous = Math.Max(previous, id);
            at.TryAdd(id, offset);
            if (id % Partitions != p) issues.Add($"p{p} offset {offset}: id {id} belongs to partition {id % Partitions}");
        }
        var ackedIds = new HashSet<long>();
        foreach (var a in acked)
        {
            ackedIds.Add(a.Id);
            if (!at.TryGetValue(a.Id, out long offset)) issues.Add($"p{p}: acknowledged id {a.Id} (offset {a.Offset}) is missing");
            else if (a.Offset >= 0 && offset != a.Offset) issues.Add($"p{p}: id {a.Id} acknowledged at offset {a.Offset} but is at {offset}");
        }
        foreach (var (offset, id) in log)
        {
            if (!ackedIds.Contains(id) && !failed.Contains(id)) issues.Add($"p{p} offset {offset}: id {id} was never acknowledged nor reported failed");
        }
        return issues;
    }

    private static List<(long Offset, long Id)> ReadLog(string path) =>
        GroupMemberLog.CompleteLines(path).Select(l => l.Split(' ')).Where(f => f.Length == 2)
            .Select(f => (long.Parse(f[0]), long.Parse(f[1]))).ToList();

    /// <summary>Ids from the producer's errors file ("&lt;ms&gt; &lt;id&gt; &lt;error&gt;", one line per failed message).</summary>
    private static HashSet<long> ReadFailedIds(string path) =>
        GroupMemberLog.CompleteLines(path).Select(l => l.Split(' ')).Where(f => f.Length >= 2 && long.TryParse(f[1], out _))
            .Select(f => long.Parse(f[1])).ToHashSet();

    private void WaitForAcked(string ackedFile, int count, long afterMs, TimeSpan timeout, RunningScript producer, ClusterProcess cluster)
    {
        var sw = Stopwatch.StartNew();
        int have = 0;
        while (sw.Elapsed < timeout)
        {
            have = ProducedMessage.ReadAcked(ackedFile).Count(a => a.TimeMs > afterMs);
            if (have >= count) return;
            if (producer.HasExited) break;
            Thread.Sleep(100);
        }
        producer.Signal(Signals.SIGTERM);
        var result = producer.WaitForExit(TimeSpan.FromSeconds(20));
        Assert.Fail($"only {have} of {count} acknowledgements{(afterMs > 0 ? " after the kill/restart" : "")} within {timeout.TotalSeconds:F0} s " +
                    $"(producer {(producer.HasExited ? "exited" : "running")})\n{result.Describe()}\n{cluster.DescribeState()}");
    }
}

using Broker.Integration.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace Broker.Integration.Tests.Groups;

/// <summary>
/// Consumer groups with real clients on one broker: a 12-partition topic filled with uniquely numbered keyed
/// messages; three members in one group split the partitions 4/4/4 and consume and commit everything; while a
/// producer keeps writing, a fourth member joins (→ 3/3/3/3), then one member is SIGKILLed (→ after the session
/// timeout the three survivors own 4/4/4). No acknowledged message may be lost, and a message may be delivered
/// twice only if a member that lost its partition had consumed it without committing (see
/// <see cref="GroupClientAnalysis"/>). Measures the rebalance after the join and after the crash and prints them as
/// "REBALANCE clients=... initial_ms=... join_ms=... crash_ms=...".
///
/// The mixed test puts confluent-kafka (librdkafka), kafkajs and kafka-python in ONE group: librdkafka and
/// kafka-python offer "range" and "roundrobin", kafkajs only its own "RoundRobinAssigner", so the kafkajs member
/// registers kafkajs's round-robin algorithm under the standard name "roundrobin" (group_consumer.js) and the group
/// agrees on "roundrobin". The same-client theory runs the scenario with each client alone, in turn.
/// </summary>
public sealed class GroupClientSplitTests : IntegrationTest
{
    private const int Partitions = 12;
    private const int Prefill = 1200;

    public GroupClientSplitTests(ITestOutputHelper output) : base(output) { }

    [Fact]
    public void MixedClients_SplitPartitions_RebalanceOnJoin_TakeOverAfterKill() =>
        Run("mixed", new[] { GroupClientKind.Confluent, GroupClientKind.KafkaJs, GroupClientKind.KafkaPython },
            fourth: GroupClientKind.Confluent, victim: 1, initialDelayMs: null);

    [Theory]
    [InlineData(GroupClientKind.Confluent)]
    [InlineData(GroupClientKind.KafkaPython)]
    [InlineData(GroupClientKind.KafkaJs)]
    public void SameClient_SplitPartitions_RebalanceOnJoin_TakeOverAfterKill(GroupClientKind kind) =>
        Run(GroupClientSession.ClientName(kind), new[] { kind, kind, kind }, fourth: kind, victim: 0, initialDelayMs: 500);

    private void Run(string label, GroupClientKind[] kinds, GroupClientKind fourth, int victim, int? initialDelayMs)
    {
        var overrides = new Dictionary<string, string>
        {
            ["offsets.topic.num.partitions"] = "4",
            ["offsets.topic.replication.factor"] = "1",
        };
        // The mixed test keeps Kafka's default initial rebalance delay (3 s): the three members join within it
        // and form the first generation together.
        if (initialDelayMs is not null) overrides["group.initial.rebalance.delay.ms"] = initialDelayMs.Value.ToString();
        var broker = StartBroker($"split-{label}", overrides);
        string topic = $"split-{label}";
        AssertScriptOk(Confluent(broker, "create-topic", "--topic", topic, "--partitions", Partitions.ToString()), broker, "create topic");
        using var s = new GroupClientSession(Output, ScratchDir, broker.Bootstrap, $"split-group-{label}", topic);
        string ackedFile = Scratch("acked.txt");
        var prefill = s.Produce(ackedFile, Prefill, firstId: 0, context: " (prefill)");
        var spread = prefill.GroupBy(m => m.Partition).ToDictionary(g => g.Key, g => g.Count());
        Assert.True(spread.Count == Partitions, $"the keyed prefill reached only partitions [{string.Join(',', spread.Keys.Order())}]");

        // Three members, one group: 4 partitions each.
        var first = kinds.Select((k, i) => s.StartMember(k, $"m{i + 1}-{GroupClientSession.ClientName(k)}")).ToList();
        s.WaitUntil("three members split 12 partitions 4/4/4",
            () => GroupClientAnalysis.SplitProblem(s.Logs(first), Partitions, 4, 0), TimeSpan.FromSeconds(60), broker.DescribeState);
        var logs = s.Logs(first);
        long initialMs = GroupClientAnalysis.LastAssignmentMs(logs) - logs.Min(l => l.SubscribeMs ?? long.MaxValue);
        var described = s.Describe(" (three members)");
        string protocol = described.GetProperty("protocol").GetString() ?? "";
        Assert.True(described.GetProperty("state").GetString() == "Stable" && described.GetProperty("members").GetArrayLength() == 3,
            $"DescribeGroups after the split: {described}\n{broker.DescribeState()}");
        if (label == "mixed")
            Assert.True(protocol == "roundrobin", $"the mixed group should agree on 'roundrobin' (the only assignor all three offer): {described}");

        var hw = HighWatermarks(prefill);
        s.WaitUntil("the prefill consumed and committed", () => ConsumedAndCommitted(s.Logs(), prefill, hw),
            TimeSpan.FromSeconds(60), broker.DescribeState);

        // A producer keeps writing while the group changes.
        var producer = s.StartProducer(ackedFile, firstId: Prefill, rate: 100);
        s.WaitUntil("the producer is running", () => ProducedMessage.ReadAcked(ackedFile).Count >= Prefill + 50 ? null : "fewer than 50 new acks",
            TimeSpan.FromSeconds(20), broker.DescribeState);

        // A fourth member joins: 3 partitions each.
        var joiner = s.StartMember(fourth, $"m4-{GroupClientSession.ClientName(fourth)}");
        s.WaitUntil("the fourth member subscribed", () => joiner.Read().SubscribeMs is null ? "no SUBSCRIBE yet" : null, TimeSpan.FromSeconds(30));
        long joinStart = joiner.Read().SubscribeMs!.Value;
        var four = first.Append(joiner).ToList();
        s.WaitUntil("four members split 12 partitions 3/3/3/3",
            () => GroupClientAnalysis.SplitProblem(s.Logs(four), Partitions, 3, joinStart), TimeSpan.FromSeconds(45), broker.DescribeState);
        long joinMs = GroupClientAnalysis.LastAssignmentMs(s.Logs(four)) - joinStart;

        // One member dies without leaving: the survivors take its partitions after the session timeout.
        var dead = first[victim];
        Assert.True(dead.Read().LatestAssignment?.Partitions.Length == 3, $"{dead.Name} should hold 3 partitions before the kill");
        long killedAt = s.Kill(dead);
        var survivors = four.Where(m => m != dead).ToList();
        s.WaitUntil("the survivors own all 12 partitions 4/4/4",
            () => GroupClientAnalysis.SplitProblem(s.Logs(survivors), Partitions, 4, killedAt), TimeSpan.FromSeconds(45), broker.DescribeState);
        long crashMs = GroupClientAnalysis.LastAssignmentMs(s.Logs(survivors)) - killedAt;

        Thread.Sleep(1500);
        s.StopProducer(producer);
        var acked = ProducedMessage.ReadAcked(ackedFile);
        var finalHw = HighWatermarks(acked);
        s.WaitUntil("every acknowledged message consumed and committed", () => ConsumedAndCommitted(s.Logs(), acked, finalHw),
            TimeSpan.FromSeconds(60), broker.DescribeState);
        foreach (var m in survivors) s.Stop(m, " after the run");

        var all = s.Logs();
        var analysis = GroupClientAnalysis.Analyze(acked, all);
        int commitFailures = all.Sum(l => l.CommitFailures.Count);
        string line = $"REBALANCE clients={label} protocol={protocol} initial_ms={initialMs} join_ms={joinMs} crash_ms={crashMs} " +
                      $"acked={analysis.Acked} deliveries={analysis.Deliveries} duplicates={analysis.Duplicates} dup_bound={analysis.DuplicateBound} " +
                      $"commit_failures={commitFailures} killed={dead.Name}";
        Output.WriteLine(line);
        Console.WriteLine(line);
        foreach (var l in all) Output.WriteLine("  " + l);
        Assert.True(analysis.Ok, $"{analysis}\n{broker.DescribeState()}");
        // Kafka's classic protocol: the join is noticed at the next heartbeat (1 s) and every member rejoins; a dead
        // member is noticed after its session timeout (6 s). Generous ceilings: these catch a stuck rebalance.
        Assert.True(joinMs <= 15_000, $"the rebalance after the fourth member's join took {joinMs} ms");
        Assert.True(crashMs <= 20_000, $"the survivors took {crashMs} ms to own the killed member's partitions");
    }

    internal static Dictionary<int, long> HighWatermarks(IEnumerable<ProducedMessage> acked) =>
        acked.GroupBy(a => a.Partition).ToDictionary(g => g.Key, g => g.Max(a => a.Offset) + 1);

    /// <summary>Null when every acked id was consumed by some member and, per partition, some member's acknowledged
    /// commit reached the partition's high watermark <paramref name="hw"/>.</summary>
    internal static string? ConsumedAndCommitted(IReadOnlyList<GroupMemberLog> logs, IReadOnlyCollection<ProducedMessage> acked,
        IReadOnlyDictionary<int, long> hw)
    {
        var ids = new HashSet<long>(logs.SelectMany(l => l.Messages).Select(m => m.Id));
        int missing = acked.Count(a => !ids.Contains(a.Id));
        if (missing > 0) return $"{missing} of {acked.Count} acknowledged messages not consumed yet";
        var committed = new Dictionary<int, long>();
        foreach (var l in logs)
        {
            foreach (var (p, o) in l.MaxCommitted()) committed[p] = Math.Max(o, committed.GetValueOrDefault(p, -1));
        }
        var behind = hw.Where(kv => committed.GetValueOrDefault(kv.Key, -1) < kv.Value)
            .Select(kv => $"p{kv.Key} {committed.GetValueOrDefault(kv.Key, -1)}/{kv.Value}").ToList();
        return behind.Count == 0 ? null : $"commits behind the high watermark: {string.Join(", ", behind)}";
    }
}

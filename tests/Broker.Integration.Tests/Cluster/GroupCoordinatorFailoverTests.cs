using Broker.Integration.Tests.Groups;
using Broker.Integration.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace Broker.Integration.Tests.Cluster;

/// <summary>
/// The group coordinator is SIGKILLed in a 3-node cluster (__consumer_offsets with replication factor 3) while a
/// group of three different clients (kafka-python, confluent-kafka, kafkajs) consumes a topic that a producer keeps
/// writing: the coordinator role moves with the leadership of the group's __consumer_offsets partition, the members
/// find the new coordinator and go on committing, nothing acknowledged is lost, and duplicates stay within what
/// uncommitted consumption allows. Then the members stop, more messages arrive, and a fresh member resumes exactly
/// at the offsets committed through the new coordinator. Prints "COORDINATOR-FAILOVER ..." with the measured times.
/// Also: a member caught up with a partition survives that partition's leader being killed (each client in turn).
/// </summary>
[Trait("Category", "Cluster")]
public sealed class GroupCoordinatorFailoverTests : ClusterTest
{
    private const int Partitions = 6;
    private const int OffsetsPartitions = 4;

    public GroupCoordinatorFailoverTests(ITestOutputHelper output) : base(output) { }

    [Fact]
    public void CoordinatorKill9_MembersContinue_CommitsPreserved()
    {
        var cluster = StartCluster("coord-failover", ClusterLayout.Combined(3), new Dictionary<string, string>
        {
            ["offsets.topic.replication.factor"] = "3",
            ["offsets.topic.num.partitions"] = OffsetsPartitions.ToString(),
            ["group.initial.rebalance.delay.ms"] = "0",
        });
        const string topic = "coord-failover";
        const string group = "coord-failover-group";
        cluster.CreateTopic(topic, Partitions, 3);
        using var s = new GroupClientSession(Output, ScratchDir, cluster.Bootstrap, group, topic);
        string ackedFile = Scratch("acked.txt");
        var prefill = s.Produce(ackedFile, 600, firstId: 0, context: " (prefill)");

        // kafka-python 2.0.2 crashes when a fetch returns nothing but a new partition leader's no-op batch (see
        // MemberAtThePartitionTail_SurvivesLeaderKill9, which tests exactly that); here the coordinator is the subject,
        // so the kafka-python member logs that error and goes on (the count is printed).
        var members = new[] { GroupClientKind.KafkaPython, GroupClientKind.Confluent, GroupClientKind.KafkaJs }
            .Select((k, i) => s.StartMember(k, $"m{i + 1}-{GroupClientSession.ClientName(k)}",
                k == GroupClientKind.KafkaPython ? new[] { "--tolerate-empty-batch" } : Array.Empty<string>())).ToList();
        s.WaitUntil("three members split 6 partitions 2/2/2",
            () => GroupClientAnalysis.SplitProblem(s.Logs(), Partitions, 2, 0), TimeSpan.FromSeconds(60), () => cluster.DescribeState());
        s.WaitUntil("the prefill consumed and committed",
            () => GroupClientSplitTests.ConsumedAndCommitted(s.Logs(), prefill, GroupClientSplitTests.HighWatermarks(prefill)),
            TimeSpan.FromSeconds(60), () => cluster.DescribeState());

        // Where the group lives: the Admin API (FindCoordinator + DescribeGroups), the kafka-python member's own
        // coordinator, and the leader of the group's __consumer_offsets partition must all agree.
        var described = s.Describe(" before the kill");
        int coordinator = described.GetProperty("coordinator").GetInt32();
        Assert.True(described.GetProperty("state").GetString() == "Stable" && described.GetProperty("members").GetArrayLength() == 3,
            $"DescribeGroups before the kill: {described}");
        int offsetsPartition = GroupClientSession.OffsetsPartitionFor(group, OffsetsPartitions);
        int offsetsLeader = cluster.WaitForLeaders("__consumer_offsets", OffsetsPartitions, TimeSpan.FromSeconds(20)).Partitions[offsetsPartition].Leader;
        var seenByMember = members[0].Read().Coordinators;
        Output.WriteLine($"coordinator: admin says {coordinator}, kafka-python member says {(seenByMember.Count > 0 ? seenByMember[^1].NodeId : -1)}, " +
                         $"__consumer_offsets[{offsetsPartition}] leader {offsetsLeader}");
        Assert.True(coordinator == offsetsLeader, $"FindCoordinator answered node {coordinator}, but __consumer_offsets[{offsetsPartition}] is led by {offsetsLeader}");
        Assert.True(seenByMember.Count > 0 && seenByMember[^1].NodeId == coordinator,
            $"the kafka-python member talks to coordinator {(seenByMember.Count > 0 ? seenByMember[^1].NodeId : -1)}, the admin API says {coordinator}");

        var producer = s.StartProducer(ackedFile, firstId: 600, rate: 100);
        s.WaitUntil("the producer is running", () => ProducedMessage.ReadAcked(ackedFile).Count >= 700 ? null : "fewer than 100 new acks",
            TimeSpan.FromSeconds(20), () => cluster.DescribeState());

        long killedAt = cluster.Node(coordinator).Kill();
        // Every member gets a commit acknowledged again (by the new coordinator), the kafka-python member names it.
        s.WaitUntil("every member committed again after the kill", () =>
        {
            var missing = s.Logs().Where(l => !l.Commits.Any(c => c.TimeMs > killedAt)).Select(l => l.Name).ToList();
            return missing.Count == 0 ? null : $"no commit after the kill yet from {string.Join(", ", missing)}";
        }, TimeSpan.FromSeconds(60), () => cluster.DescribeState());
        var logs = s.Logs();
        long commitResumeMs = logs.Max(l => l.Commits.First(c => c.TimeMs > killedAt).TimeMs) - killedAt;
        string perMember = string.Join(",", logs.Select(l => $"{l.Name}:{l.Commits.First(c => c.TimeMs > killedAt).TimeMs - killedAt}"));
        bool rebalanced = logs.Any(l => l.Assignments.Any(a => a.TimeMs > killedAt));
        var switched = members[0].Read().Coordinators.FirstOrDefault(c => c.TimeMs > killedAt && c.NodeId != coordinator);
        var after = s.Describe(" after the kill");
        int newCoordinator = after.GetProperty("coordinator").GetInt32();
        Assert.True(newCoordinator != coordinator && cluster.Node(newCoordinator).IsRunning, $"the coordinator is still {newCoordinator} after the kill");

        Thread.Sleep(2000);
        s.StopProducer(producer);
        var acked = ProducedMessage.ReadAcked(ackedFile);
        s.WaitUntil("every acknowledged message consumed and committed",
            () => GroupClientSplitTests.ConsumedAndCommitted(s.Logs(), acked, GroupClientSplitTests.HighWatermarks(acked)),
            TimeSpan.FromSeconds(60), () => cluster.DescribeState());
        foreach (var m in members) s.Stop(m, " after the coordinator failover");
        var analysis = GroupClientAnalysis.Analyze(acked, s.Logs());
        Assert.True(analysis.Ok, $"{analysis}\n{cluster.DescribeState()}");

        // The offsets committed through the new coordinator are where a fresh member starts.
        var committed = s.Committed(" after the members stopped");
        var merged = new Dictionary<int, long>();
        foreach (var l in s.Logs())
            foreach (var (p, o) in l.MaxCommitted()) merged[p] = Math.Max(o, merged.GetValueOrDefault(p, -1));
        foreach (var (p, o) in merged)
            Assert.True(committed.GetValueOrDefault(p, -1) == o, $"p{p}: OffsetFetch says {committed.GetValueOrDefault(p, -1)}, the members' last acknowledged commit was {o}");
        var more = s.Produce(ackedFile, 120, firstId: acked.Max(a => (int)a.Id) + 1, context: " (after the members stopped)");
        var (fresh, freshRun) = s.RunMember(GroupClientKind.Confluent, "fresh-confluent", "--idle-exit", "4");
        GroupClientSession.AssertOk(freshRun, "fresh member after the failover");
        long StartOf(int p) => Math.Max(0, committed.GetValueOrDefault(p, 0));
        foreach (var part in fresh.Messages.GroupBy(m => m.Partition))
        {
            long start = StartOf(part.Key);
            Assert.True(part.Min(m => m.Offset) == start,
                $"the fresh member started p{part.Key} at {part.Min(m => m.Offset)}, the committed offset is {start}");
        }
        var freshIds = fresh.Messages.Select(m => m.Id).ToHashSet();
        Assert.True(more.All(m => freshIds.Contains(m.Id)), "the fresh member missed messages produced after the last commit");
        Assert.True(fresh.Messages.All(m => m.Offset >= StartOf(m.Partition)), "the fresh member re-read committed messages");

        string line = $"COORDINATOR-FAILOVER killed={coordinator} new={newCoordinator} offsets_partition={offsetsPartition} " +
                      $"commits_resumed_ms={commitResumeMs} ({perMember}) client_switched_ms={(switched.TimeMs > 0 ? switched.TimeMs - killedAt : -1)} " +
                      $"rebalanced_after_kill={rebalanced} " +
                      $"acked={analysis.Acked} duplicates={analysis.Duplicates} dup_bound={analysis.DuplicateBound} " +
                      $"commit_failures={s.Logs().Sum(l => l.CommitFailures.Count)} " +
                      $"kafka_python_empty_batch_errors={s.Logs().Sum(l => l.Errors.Count(e => e.Contains("empty batch", StringComparison.Ordinal)))}";
        Output.WriteLine(line);
        Console.WriteLine(line);
        foreach (var l in s.Logs()) Output.WriteLine("  " + l);
        // How the new coordinator took the group over, as its log tells it.
        foreach (string l in cluster.Node(newCoordinator).ReadLog().Split('\n')
                     .Where(l => l.Contains("[groups]", StringComparison.Ordinal) && l.Contains($"__consumer_offsets-{offsetsPartition} ", StringComparison.Ordinal)))
            Output.WriteLine($"  node {newCoordinator}: {l}");
        Assert.True(commitResumeMs <= 30_000, $"commits resumed only {commitResumeMs} ms after the coordinator was killed");
    }

    /// <summary>
    /// A group member that is caught up with a partition keeps working when the partition's leader is SIGKILLed
    /// under load and nothing is produced afterwards: the new Raft leader, holding entries above its commit offset,
    /// appends its no-op entry (an empty control batch) at the tail, and that batch alone is what the member's next
    /// fetch returns. The member must neither die nor deliver a record for it, and must consume what comes later.
    /// kafka-python 2.0.2 (Debian) is left out: it raises IndexError on a fetch whose only batch has no records
    /// (dpkp/kafka-python#2132, fixed after 2.0.2), which Kafka brokers also serve after compaction. Known issue,
    /// see the README.
    /// </summary>
    [Theory]
    [InlineData(GroupClientKind.Confluent)]
    [InlineData(GroupClientKind.KafkaJs)]
    public void MemberAtThePartitionTail_SurvivesLeaderKill9(GroupClientKind kind)
    {
        var cluster = StartCluster($"tail-{GroupClientSession.ClientName(kind)}", ClusterLayout.Combined(3), new Dictionary<string, string>
        {
            ["offsets.topic.replication.factor"] = "3",
            ["offsets.topic.num.partitions"] = OffsetsPartitions.ToString(),
            ["group.initial.rebalance.delay.ms"] = "0",
        });
        const string topic = "tail";
        cluster.CreateTopic(topic, 1, 3);
        using var s = new GroupClientSession(Output, ScratchDir, cluster.Bootstrap, "tail-group", topic);
        string ackedFile = Scratch("acked.txt");
        var member = s.StartMember(kind, $"tail-{GroupClientSession.ClientName(kind)}");
        int nextId = 0, provoked = 0, attempts = 0;
        var kills = new List<string>();
        // The no-op is only written when the new leader holds entries above its commit offset, which depends on
        // timing: repeat (restarting the killed node) until it happened, at most 6 times.
        while (provoked == 0 && attempts < 6)
        {
            attempts++;
            var producer = s.StartProducer(ackedFile, firstId: nextId, rate: 400);
            int ackedBefore = ProducedMessage.ReadAcked(ackedFile).Count;
            s.WaitUntil($"the member follows the producer (attempt {attempts})", () =>
            {
                int acked = ProducedMessage.ReadAcked(ackedFile).Count - ackedBefore;
                var log = member.Read();
                int recent = log.Messages.Count(m => m.Id >= nextId);
                return acked >= 400 && recent >= 300 ? null : $"{acked} acked, {recent} consumed";
            }, TimeSpan.FromSeconds(45), () => cluster.DescribeState());

            // Leader and producer die together, the leader first, while its followers still hold entries whose
            // commit they have not heard of: the new leader then appends the no-op, and no new data follows (the
            // producer dies long before it could learn the new leader).
            int leader = cluster.LeaderOf(topic);
            cluster.Node(leader).Kill();
            producer.KillTree();
            cluster.WaitForLeaders(topic, 1, TimeSpan.FromSeconds(20), p => p.Leader != leader);
            var acked = ProducedMessage.ReadAcked(ackedFile);
            s.WaitUntil("the member caught up after the leader change",
                () => GroupClientSplitTests.ConsumedAndCommitted(s.Logs(), acked, GroupClientSplitTests.HighWatermarks(acked)),
                TimeSpan.FromSeconds(45), () => cluster.DescribeState());
            Thread.Sleep(3000); // the member keeps fetching at the tail from the new leader
            if (member.Process.HasExited)
                Assert.Fail($"the member died after the leader change at the tail (attempt {attempts}):\n{member.Process.WaitForExit(TimeSpan.FromSeconds(5)).Describe()}");

            // One more message shows whether a batch the member did not see as a record sat at the tail.
            long lastOffset = member.Read().Messages.Max(m => m.Offset);
            nextId = (int)acked.Max(a => a.Id) + 1000;
            var sentinel = s.Produce(ackedFile, 1, firstId: nextId, context: " (sentinel)");
            nextId += 1000;
            s.WaitUntil("the member consumed the sentinel", () => member.Read().Messages.Any(m => m.Id == sentinel[0].Id) ? null : "not yet",
                TimeSpan.FromSeconds(30), () => cluster.DescribeState());
            bool noop = sentinel[0].Offset > lastOffset + 1;
            if (noop) provoked++;
            kills.Add($"node {leader} killed, tail {lastOffset}, next record at {sentinel[0].Offset}{(noop ? " (no-op in between)" : "")}");
            cluster.Restart(leader);
        }
        s.Stop(member, " after the leader changes");
        var log = member.Read();
        string line = $"TAIL-LEADER-CHANGE client={GroupClientSession.ClientName(kind)} attempts={attempts} noop_at_tail={provoked} " +
                      $"consumed={log.Messages.Count}: {string.Join("; ", kills)}";
        Output.WriteLine(line);
        Console.WriteLine(line);
        Assert.True(log.Messages.All(m => m.Id >= 0), $"the member received records that no producer wrote (control records?): " +
            string.Join(", ", log.Messages.Where(m => m.Id < 0).Take(5).Select(m => $"p{m.Partition}@{m.Offset}")));
        var all = ProducedMessage.ReadAcked(ackedFile);
        var ids = log.Messages.Select(m => m.Id).ToHashSet();
        Assert.True(all.All(a => ids.Contains(a.Id)), $"the member missed {all.Count(a => !ids.Contains(a.Id))} acknowledged messages");
        Assert.True(provoked > 0, $"no leader no-op at the tail in {attempts} attempts: the scenario was not exercised ({string.Join("; ", kills)})");
    }
}

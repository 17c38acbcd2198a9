using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Broker.Integration.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace Broker.Integration.Tests.Cluster;

/// <summary>
/// Replica safety on a three-node combined cluster: min.insync.replicas refuses acks=all writes (NOT_ENOUGH_REPLICAS)
/// once a SIGKILLed follower has dropped out of the in-sync set, while acks=1 keeps working, and acks=all works again
/// after the follower returns; and a SIGTERMed partition leader hands its leadership over before it exits, so a
/// librdkafka acks=all producer sees only a short outage and loses no acknowledged message.
/// </summary>
[Trait("Category", "Cluster")]
public sealed class ReplicaSafetyTests : ClusterTest
{
    private const int NotEnoughReplicas = 19;

    public ReplicaSafetyTests(ITestOutputHelper output) : base(output) { }

    [Fact]
    public void MinInsyncReplicas3_FollowerKilled_AcksAllRefusedAcks1Accepted_RecoversAfterRestart()
    {
        var cluster = StartCluster("minisr", ClusterLayout.Combined(3));
        const string topic = "min-isr-3";
        var created = cluster.CreateTopic(topic, partitions: 1, replicationFactor: 3,
            configs: new Dictionary<string, string> { ["min.insync.replicas"] = "3" });
        int[] replicas = created.Partitions[0].Replicas;
        Assert.Equal(3, replicas.Length);
        foreach (int r in replicas)
            Assert.True(WaitForIsr(cluster, topic, r, TimeSpan.FromSeconds(15)), $"replica {r} not in the ISR of {topic} within 15 s\n{cluster.DescribeState()}");

        var probes = new List<ProduceOutcome>();
        long nextId = 0;
        ProduceOutcome Probe(string acks)
        {
            var o = ProduceOne(cluster, topic, acks, nextId++);
            probes.Add(o);
            return o;
        }

        // All three replicas up and in sync: acks=all is accepted.
        var allUp = Probe("all");
        Assert.True(allUp.Ok, $"acks=all with all 3 replicas in sync failed: {allUp}\n{cluster.DescribeState()}");

        int leader = cluster.LeaderOf(topic);
        int follower = replicas.First(r => r != leader);
        long killedAt = cluster.Node(follower).Kill();
        Output.WriteLine($"leader {leader}; killed follower {follower}");

        // Until the leader notices (about an election timeout) acks=all may still commit on the two live replicas;
        // after that it must be refused before anything is appended.
        var sw = Stopwatch.StartNew();
        ProduceOutcome? refused = null;
        var acceptedAfterKill = new List<ProduceOutcome>();
        while (sw.Elapsed < TimeSpan.FromSeconds(10))
        {
            var o = Probe("all");
            if (o.ErrorCode == NotEnoughReplicas) { refused = o; break; }
            if (o.Ok) acceptedAfterKill.Add(o);
            Thread.Sleep(200);
        }
        Assert.True(refused is not null,
            $"acks=all never failed with NOT_ENOUGH_REPLICAS within 10 s of killing follower {follower} (min.insync.replicas=3); " +
            $"probes after the kill: {string.Join("; ", probes.Where(p => p.AtMs >= killedAt))}\n{cluster.DescribeState()}");
        // The probe's request reached the leader somewhere between its start and its answer.
        long refusedAfterMs = refused!.AtMs + refused.ElapsedMs - killedAt;
        Output.WriteLine($"first NOT_ENOUGH_REPLICAS answered {refusedAfterMs} ms after the kill (probe started at +{refused.AtMs - killedAt} ms; " +
                         $"'{refused.Error}'); " +
                         $"acks=all accepted {acceptedAfterKill.Count} time(s) before that " +
                         $"({string.Join(", ", acceptedAfterKill.Select(a => $"+{a.AtMs - killedAt} ms"))})");
        Assert.Contains("Not enough in-sync replicas", refused.Error ?? "", StringComparison.OrdinalIgnoreCase);

        // The refusal is not a one-off while the follower stays down.
        for (int i = 0; i < 2; i++)
        {
            var again = Probe("all");
            Assert.True(again.ErrorCode == NotEnoughReplicas,
                $"acks=all after the first NOT_ENOUGH_REPLICAS (follower {follower} still down) gave {again}\n{cluster.DescribeState()}");
        }

        // acks=1 only needs the leader.
        var one = Probe("1");
        Assert.True(one.Ok, $"acks=1 with follower {follower} down failed: {one}\n{cluster.DescribeState()}");
        Assert.Equal(leader, cluster.LeaderOf(topic));

        // The follower returns, catches up and rejoins the in-sync set: acks=all is accepted again.
        var back = Stopwatch.StartNew();
        cluster.Restart(follower);
        long restartedMs = back.ElapsedMilliseconds;
        ProduceOutcome? recovered = null;
        while (back.Elapsed < TimeSpan.FromSeconds(20))
        {
            var o = Probe("all");
            if (o.Ok) { recovered = o; break; }
            Thread.Sleep(300);
        }
        Assert.True(recovered is not null,
            $"acks=all still failing 20 s after follower {follower} came back: {string.Join("; ", probes.TakeLast(5))}\n{cluster.DescribeState()}");
        long recoveredMs = back.ElapsedMilliseconds;

        // What was acknowledged is in the log; what was refused with NOT_ENOUGH_REPLICAS never got appended.
        string ids = Scratch($"{topic}.log-ids");
        AssertScriptOk(Python("cluster_verify.py", "--bootstrap", cluster.Bootstrap, "--topic", topic, "--out", ids, "--timeout", "30"),
            cluster, $"reading {topic} back");
        var inLog = FailoverAnalysis.ReadLogIds(ids).ToHashSet();
        var ackedIds = probes.Where(p => p.Ok).Select(p => p.Id).ToList();
        var refusedIds = probes.Where(p => p.ErrorCode == NotEnoughReplicas).Select(p => p.Id).ToList();
        Assert.True(ackedIds.All(inLog.Contains), $"acknowledged ids missing from the log: {string.Join(',', ackedIds.Where(i => !inLog.Contains(i)))}");
        Assert.True(!refusedIds.Any(inLog.Contains), $"ids refused with NOT_ENOUGH_REPLICAS are in the log: {string.Join(',', refusedIds.Where(inLog.Contains))}");

        string line = $"[cluster-safety] min.insync.replicas=3: follower {follower} killed; acks=all refused (19) by {refusedAfterMs} ms after the kill " +
                      $"({acceptedAfterKill.Count} accepted before); acks=1 accepted; acks=all accepted again {recoveredMs} ms after the restart began " +
                      $"(node answering after {restartedMs} ms); " +
                      $"{ackedIds.Count} acked all in the log, {refusedIds.Count} refused none in the log";
        Output.WriteLine(line);
        Console.WriteLine(line);
    }

    [Fact]
    public void LeaderSigterm_UnderAcksAllLoad_LeadershipMovesCleanExitShortOutage()
    {
        var cluster = StartCluster("ctlshut", ClusterLayout.Combined(3));
        const string topic = "controlled-shutdown";
        cluster.CreateTopic(topic, partitions: 1, replicationFactor: 3,
            configs: new Dictionary<string, string> { ["min.insync.replicas"] = "2" });
        string acked = Scratch("cs.acked"), errors = Scratch("cs.errors");

        using var producer = StartPythonProducer(cluster, topic, acked, errors, durationSeconds: 60);
        WaitForAcks(acked, 400, TimeSpan.FromSeconds(20), producer, cluster);

        var before = cluster.WaitForLeaders(topic, 1, TimeSpan.FromSeconds(10)).Partitions[0];
        int leader = before.Leader;
        var node = cluster.Node(leader);
        int[] others = cluster.Nodes.Where(n => n.Id != leader).Select(n => n.Id).ToArray();
        long stoppedAt = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var sw = Stopwatch.StartNew();
        // Stop (SIGTERM) asserts exit code 0 within 10 s; meanwhile the survivors' Metadata is watched.
        var stop = Task.Run(() => node.Stop(TimeSpan.FromSeconds(10)));
        long movedMs = -1, exitedMs = -1;
        int newLeader = -1, newEpoch = -1;
        while (sw.Elapsed < TimeSpan.FromSeconds(20) && (movedMs < 0 || !stop.IsCompleted))
        {
            if (exitedMs < 0 && stop.IsCompleted) exitedMs = sw.ElapsedMilliseconds;
            if (movedMs < 0)
            {
                var p = SurvivorView(cluster, others, topic);
                if (p is { ErrorCode: 0 } && p.Leader > 0 && p.Leader != leader) { movedMs = sw.ElapsedMilliseconds; newLeader = p.Leader; newEpoch = p.LeaderEpoch; }
            }
            Thread.Sleep(50);
        }
        if (exitedMs < 0 && stop.IsCompleted) exitedMs = sw.ElapsedMilliseconds;
        Assert.True(stop.Wait(TimeSpan.FromSeconds(15)), "Stop() did not return");
        TimeSpan stopTook = stop.GetAwaiter().GetResult(); // rethrows Stop's assertion (exit code, 10 s)
        Output.WriteLine($"SIGTERM to leader {leader}: exited (code 0) after {stopTook.TotalMilliseconds:F0} ms; " +
                         $"survivors' Metadata showed leader {newLeader} (epoch {before.LeaderEpoch} -> {newEpoch}) after {movedMs} ms " +
                         $"({(movedMs >= 0 && (exitedMs < 0 || movedMs <= exitedMs) ? "before" : "after")} the process exit was seen at {exitedMs} ms)");
        Assert.True(movedMs >= 0 && newLeader != leader && others.Contains(newLeader),
            $"the partition's leader did not move away from stopped node {leader} within 20 s\n{cluster.DescribeState()}");

        // Production continues under the new leader.
        WaitForAcks(acked, 200, TimeSpan.FromSeconds(20), producer, cluster, afterMs: stoppedAt);
        var produced = StopProducer(producer);
        AssertScriptOk(produced, cluster, "librdkafka producer");
        var analysis = VerifyAcked(cluster, topic, acked, errors, stoppedAt, "leader SIGTERM (controlled shutdown)");

        string evidence = ShutdownEvidence(cluster, leader);
        Output.WriteLine(evidence);
        string line = $"[cluster-safety] controlled shutdown: leader {leader} SIGTERMed, exit 0 after {stopTook.TotalMilliseconds:F0} ms; " +
                      $"new leader {newLeader} in metadata after {movedMs} ms; producer outage {analysis.MaxGapAfterKillMs} ms " +
                      $"(ending {analysis.KillToRecoveryMs} ms after SIGTERM); first ack after SIGTERM {analysis.FirstAckAfterKillMs} ms; " +
                      $"duplicates {analysis.Duplicates}; delivery errors {analysis.DeliveryErrors}" +
                      (analysis.MaxGapAfterKillMs < 1000 ? " (shorter than an election timeout: leadership was handed over, not re-elected after a silence)" : "");
        Output.WriteLine(line);
        Console.WriteLine(line);
        Assert.True(analysis.AckedAfterKill > 0, $"no delivery after SIGTERM: {analysis}");
        Assert.True(analysis.MaxGapAfterKillMs < 5000, $"producer outage {analysis.MaxGapAfterKillMs} ms after a controlled shutdown (limit 5 s): {analysis}");
        // The node gave its leadership away instead of timing out with partitions still led (BrokerNode's warning).
        Assert.DoesNotContain("still led here", LastStart(cluster.Node(leader).ReadLog()));
    }

    /// <summary>One acks=&lt;acks&gt; produce of the value "id-&lt;id&gt;|..." to partition 0 through
    /// cluster_produce_check.py (no retries, 5 s message timeout).</summary>
    private ProduceOutcome ProduceOne(ClusterProcess cluster, string topic, string acks, long id)
    {
        long at = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var result = ScriptRunner.Python(Path.Combine(PythonDir, "cluster_produce_check.py"),
            new[] { "--bootstrap", cluster.Bootstrap, "--topic", topic, "--acks", acks, "--value", $"id-{id}|acks={acks}",
                    "--retries", "0", "--message-timeout-ms", "5000" }, TimeSpan.FromSeconds(30));
        if (result.Summary is not { } s)
        {
            Log(result);
            Assert.Fail($"cluster_produce_check.py gave no summary\n{result.Describe()}");
            return null!;
        }
        bool ok = s.TryGetProperty("ok", out var okProp) && okProp.ValueKind == JsonValueKind.True;
        int? code = s.TryGetProperty("error_code", out var c) && c.ValueKind == JsonValueKind.Number ? c.GetInt32() : null;
        string? error = s.TryGetProperty("error", out var e) && e.ValueKind == JsonValueKind.String ? e.GetString() : null;
        if (ok != result.Succeeded) Assert.Fail($"cluster_produce_check.py exit code disagrees with its summary\n{result.Describe()}");
        var outcome = new ProduceOutcome(id, acks, ok, code, error, at, (long)result.Elapsed.TotalMilliseconds);
        Output.WriteLine($"[{DateTime.Now:HH:mm:ss.fff}] produce {outcome}");
        return outcome;
    }

    /// <summary>Partition 0 of <paramref name="topic"/> as the first answering survivor reports it, or null.</summary>
    private static WirePartition? SurvivorView(ClusterProcess cluster, int[] survivors, string topic)
    {
        foreach (int id in survivors)
        {
            try
            {
                return cluster.Metadata(id, topic).Topic(topic)?.Partitions.FirstOrDefault();
            }
            catch (Exception ex) when (ex is IOException or System.Net.Sockets.SocketException or TimeoutException or InvalidDataException)
            {
                // try the next survivor
            }
        }
        return null;
    }

    /// <summary>The stopped node's shutdown lines and the controller's view of its controlled shutdown.</summary>
    private static string ShutdownEvidence(ClusterProcess cluster, int stopped)
    {
        var sb = new StringBuilder($"shutdown evidence for node {stopped}:\n");
        DateTimeOffset? shuttingDown = null, requested = null;
        foreach (string l in LastStart(cluster.Node(stopped).ReadLog()).Split('\n'))
        {
            if (l.Contains("[host] shutting down", StringComparison.Ordinal)) shuttingDown = LineTime(l);
            if (l.Contains("requesting controlled shutdown", StringComparison.Ordinal)) requested = LineTime(l);
            if (l.Contains("shutting down", StringComparison.Ordinal) || l.Contains("controlled shutdown", StringComparison.Ordinal)
                || l.Contains("still led here", StringComparison.Ordinal) || l.Contains("stopped cleanly", StringComparison.Ordinal)
                || l.Contains("shutdown did not finish", StringComparison.Ordinal))
                sb.Append("  node ").Append(stopped).Append(": ").AppendLine(l.Trim());
        }
        foreach (var n in cluster.Nodes.Where(n => n.Id != stopped))
        {
            foreach (string l in n.ReadLog().Split('\n'))
            {
                if (l.Contains($"broker {stopped} ", StringComparison.Ordinal) && l.Contains("controlled shutdown", StringComparison.Ordinal))
                    sb.Append("  node ").Append(n.Id).Append(": ").AppendLine(l.Trim());
            }
        }
        if (shuttingDown is { } a && requested is { } b)
            sb.Append($"  leadership hand-over phase (SIGTERM seen -> WantShutDown sent): {(b - a).TotalMilliseconds:F0} ms\n");
        return sb.ToString();
    }

    /// <summary>The ISO-8601 timestamp a node log line starts with, if any.</summary>
    private static DateTimeOffset? LineTime(string line)
    {
        int sp = line.IndexOf(' ');
        return sp > 0 && DateTimeOffset.TryParse(line.AsSpan(0, sp), System.Globalization.CultureInfo.InvariantCulture,
            System.Globalization.DateTimeStyles.AssumeUniversal, out var t) ? t : null;
    }

    /// <summary>The part of a node log written by its latest start.</summary>
    private static string LastStart(string log)
    {
        int i = log.LastIndexOf("===== start #", StringComparison.Ordinal);
        return i < 0 ? log : log[i..];
    }

    private sealed record ProduceOutcome(long Id, string Acks, bool Ok, int? ErrorCode, string? Error, long AtMs, long ElapsedMs)
    {
        public override string ToString() =>
            $"id {Id} acks={Acks}: {(Ok ? "acknowledged" : $"error {ErrorCode?.ToString() ?? "-"} '{Error}'")} ({ElapsedMs} ms)";
    }
}

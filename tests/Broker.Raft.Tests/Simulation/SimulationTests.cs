using System.Diagnostics;
using Xunit.Abstractions;

namespace Broker.Raft.Tests.Simulation;

/// <summary>Randomized simulation over many seeds. RAFT_SEED=n reruns exactly seed n (with a message trace).</summary>
public sealed class SimulationTests(ITestOutputHelper output)
{
    private const int Seeds = 200;
    private const int Rounds = 3000;

    [Fact]
    public void ManySeeds_KeepSafetyAndLiveness()
    {
        string? only = Environment.GetEnvironmentVariable("RAFT_SEED");
        int first = 0, count = Seeds;
        if (int.TryParse(only, out int s))
        {
            first = s;
            count = 1;
        }
        var sw = Stopwatch.StartNew();
        long leaderTerms = 0, committed = 0, truncations = 0, installs = 0;
        for (int seed = first; seed < first + count; seed++)
        {
            SimCluster? cluster = null;
            try
            {
                cluster = SimScenario.Run(seed, Rounds, traceMessages: count == 1);
                leaderTerms += cluster.Checker.LeaderTerms;
                committed += cluster.Checker.MaxCommittedOffset + 1;
                truncations += cluster.Checker.Truncations;
                installs += cluster.Checker.SnapshotInstalls;
            }
            catch (Exception e)
            {
                (int v, int l) = SimScenario.ShapeOf(seed);
                string msg = $"seed {seed} ({v} voters, {l} learners) failed: {e.GetType().Name}: {e.Message}\n" +
                             $"rerun with RAFT_SEED={seed}\n{e.StackTrace}";
                output.WriteLine(msg);
                Assert.Fail(msg);
            }
        }
        output.WriteLine($"{count} seeds x {Rounds} rounds in {sw.ElapsedMilliseconds} ms; " +
                         $"{leaderTerms} leader terms, {committed} offsets committed, {truncations} divergent-tail truncations, " +
                         $"{installs} snapshot installs");
        Assert.True(committed > count * 10, "simulation made almost no progress");
        if (count > 1)
        {
            Assert.True(truncations > 0, "no run exercised divergent-tail truncation");
            Assert.True(installs > 0, "no run exercised snapshot install");
        }
    }

    [Fact]
    public void SameSeed_SameTrace()
    {
        SimCluster a = SimScenario.Run(7, 600, traceMessages: true);
        SimCluster b = SimScenario.Run(7, 600, traceMessages: true);
        Assert.Equal(a.TraceTail(), b.TraceTail());
        Assert.Equal(a.Checker.MaxCommittedOffset, b.Checker.MaxCommittedOffset);
    }
}

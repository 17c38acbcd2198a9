using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Broker.Integration.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace Broker.Integration.Tests.Groups;

/// <summary>
/// kcat as a balanced consumer (<c>kcat -G group topic</c>, librdkafka's KafkaConsumer with auto-commit every 5 s):
/// one kcat consumes the whole topic and commits; a second kcat in the same group takes half of the partitions (both
/// print their assignments after the rebalance); new messages are consumed by exactly one of the two; after SIGTERM
/// (kcat closes the consumer, committing its offsets) the group's committed offsets are the partitions' ends.
/// </summary>
public sealed partial class KcatGroupClientTests : IntegrationTest
{
    private const int Partitions = 4;

    public KcatGroupClientTests(ITestOutputHelper output) : base(output) { }

    [Fact]
    public void KcatBalancedConsumers_ShareThePartitions_AndCommit()
    {
        var broker = StartBroker("kcat-group", new Dictionary<string, string>
        {
            ["offsets.topic.num.partitions"] = "4",
            ["offsets.topic.replication.factor"] = "1",
            ["group.initial.rebalance.delay.ms"] = "0",
        });
        const string topic = "kcat-group";
        const string group = "kcat-balanced";
        AssertScriptOk(Confluent(broker, "create-topic", "--topic", topic, "--partitions", Partitions.ToString()), broker, "create topic");
        using var s = new GroupClientSession(Output, ScratchDir, broker.Bootstrap, group, topic);
        string ackedFile = Scratch("acked.txt");
        var first = s.Produce(ackedFile, 200, firstId: 0);

        using var a = KcatMember(broker, group, topic, "a");
        s.WaitUntil("kcat a consumed all 200 messages", () => a.Problem(200), TimeSpan.FromSeconds(45), () => a.Describe() + broker.DescribeState());
        // kcat's auto-commit runs every 5 s (kcat -X applies auto.commit.interval.ms to the topic configuration,
        // where librdkafka keeps a legacy property of that name, so the global interval cannot be shortened).
        var firstEnds = GroupClientSplitTests.HighWatermarks(first);
        s.WaitUntil("kcat a committed everything it consumed", () =>
        {
            var committed = s.Committed(" (kcat a alone)");
            var behind = firstEnds.Where(kv => committed.GetValueOrDefault(kv.Key, -1) != kv.Value).Select(kv => $"p{kv.Key} {committed.GetValueOrDefault(kv.Key, -1)}/{kv.Value}").ToList();
            if (behind.Count == 0) return null;
            Thread.Sleep(500);
            return $"committed: {string.Join(", ", behind)}";
        }, TimeSpan.FromSeconds(20), () => a.Describe() + broker.DescribeState());

        using var b = KcatMember(broker, group, topic, "b");
        s.WaitUntil("kcat a and b hold 2 partitions each", () =>
        {
            var (pa, pb) = (a.Assigned(), b.Assigned());
            if (pa is null || pb is null) return $"assignments: a [{Show(pa)}], b [{Show(pb)}]";
            if (pa.Length != 2 || pb.Length != 2 || pa.Intersect(pb).Any()) return $"assignments: a [{Show(pa)}], b [{Show(pb)}]";
            return null;
        }, TimeSpan.FromSeconds(45), () => a.Describe() + b.Describe() + broker.DescribeState());
        var described = s.Describe(" (two kcat members)");
        Assert.True(described.GetProperty("state").GetString() == "Stable" && described.GetProperty("members").GetArrayLength() == 2,
            $"DescribeGroups with two kcat members: {described}");

        var second = s.Produce(ackedFile, 200, firstId: 200, context: " (after b joined)");
        s.WaitUntil("a and b consumed the 200 new messages", () =>
        {
            var ids = a.Consumed().Concat(b.Consumed()).Select(m => m.Id).ToHashSet();
            int missing = second.Count(m => !ids.Contains(m.Id));
            return missing == 0 ? null : $"{missing} of 200 not consumed yet";
        }, TimeSpan.FromSeconds(45), () => a.Describe() + b.Describe());
        Thread.Sleep(1000);
        a.Stop();
        b.Stop();

        var fromA = a.Consumed();
        var fromB = b.Consumed();
        var everything = first.Concat(second).ToList();
        var bySpot = fromA.Concat(fromB).GroupBy(m => (m.Partition, m.Offset)).ToList();
        var twice = bySpot.Where(g => g.Count() > 1).Select(g => $"p{g.Key.Partition}@{g.Key.Offset}").Take(10).ToList();
        Assert.True(twice.Count == 0, $"messages consumed twice although a committed before b joined: {string.Join(", ", twice)}");
        Assert.True(fromB.Count > 0 && fromA.Count > 200, $"both members should have consumed new messages (a {fromA.Count - 200} of the new, b {fromB.Count})");
        Assert.True(fromB.All(m => m.Id >= 200), "b received a message a had consumed and committed before b joined");
        var consumedIds = bySpot.Select(g => g.First().Id).ToHashSet();
        Assert.True(everything.All(m => consumedIds.Contains(m.Id)), "an acknowledged message was not consumed by kcat a or b");
        var committed = s.Committed(" after both kcat members stopped");
        foreach (var (p, end) in GroupClientSplitTests.HighWatermarks(everything))
            Assert.True(committed.GetValueOrDefault(p, -1) == end, $"p{p} committed {committed.GetValueOrDefault(p, -1)}, expected {end}");
        Output.WriteLine($"kcat a consumed {fromA.Count} (new: {fromA.Count - 200}), kcat b {fromB.Count}; committed {string.Join(' ', committed.OrderBy(kv => kv.Key))}");
    }

    private static string Show(int[]? parts) => parts is null ? "none" : string.Join(',', parts);

    private KcatProcess KcatMember(BrokerProcess broker, string group, string topic, string name) =>
        KcatProcess.Start(Output, Scratch($"kcat-{name}"), broker.Bootstrap, group, topic);

    /// <summary>One <c>kcat -G</c> process: stdout ("partition offset value" lines) and stderr (rebalance lines) go to
    /// files so they can be read while it runs.</summary>
    private sealed partial class KcatProcess : IDisposable
    {
        private readonly Process _process;
        private readonly string _out;
        private readonly string _err;
        private readonly ITestOutputHelper _output;

        private KcatProcess(Process process, string outPath, string errPath, ITestOutputHelper output)
        {
            _process = process;
            _out = outPath;
            _err = errPath;
            _output = output;
        }

        public static KcatProcess Start(ITestOutputHelper output, string prefix, string bootstrap, string group, string topic)
        {
            var psi = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
            psi.ArgumentList.Add("-c");
            psi.ArgumentList.Add("exec \"$0\" \"$@\" </dev/null >\"$KCAT_OUT\" 2>\"$KCAT_ERR\"");
            foreach (string arg in new[]
                     {
                         "kcat", "-b", bootstrap, "-G", group, "-u", "-f", "%p %o %s\\n",
                         "-X", "broker.address.family=v4", "-X", "auto.offset.reset=earliest",
                         "-X", "session.timeout.ms=6000", "-X", "heartbeat.interval.ms=1000", "-X", "fetch.wait.max.ms=100", topic,
                     })
                psi.ArgumentList.Add(arg);
            psi.Environment["KCAT_OUT"] = prefix + ".out";
            psi.Environment["KCAT_ERR"] = prefix + ".err";
            var p = Process.Start(psi) ?? throw new InvalidOperationException("could not start kcat");
            output.WriteLine($"[{DateTime.Now:HH:mm:ss.fff}] started kcat -G {group} {topic}, pid {p.Id}");
            return new KcatProcess(p, prefix + ".out", prefix + ".err", output);
        }

        public List<ConsumedMessage> Consumed()
        {
            var result = new List<ConsumedMessage>();
            foreach (string line in GroupMemberLog.CompleteLines(_out))
            {
                string[] f = line.Split(' ', 3);
                if (f.Length == 3 && int.TryParse(f[0], out int p) && long.TryParse(f[1], out long o))
                {
                    string head = f[2].Split('|')[0];
                    long id = head.StartsWith("id-", StringComparison.Ordinal) && long.TryParse(head[3..], NumberStyles.None, CultureInfo.InvariantCulture, out long v) ? v : -1;
                    result.Add(new ConsumedMessage(0, p, o, id));
                }
            }
            return result;
        }

        /// <summary>The latest "assigned:" set kcat printed, or null (none yet, or revoked since).</summary>
        public int[]? Assigned()
        {
            int[]? current = null;
            foreach (string line in GroupMemberLog.CompleteLines(_err))
            {
                if (!line.Contains("rebalanced", StringComparison.Ordinal)) continue;
                if (line.Contains("revoked:", StringComparison.Ordinal)) current = null;
                else if (line.Contains("assigned:", StringComparison.Ordinal))
                    current = PartitionRegex().Matches(line[line.IndexOf("assigned:", StringComparison.Ordinal)..])
                        .Select(m => int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)).Order().ToArray();
            }
            return current;
        }

        public string? Problem(int count)
        {
            if (_process.HasExited) return $"kcat exited with code {_process.ExitCode}";
            int n = Consumed().Count;
            return n >= count ? null : $"{n} of {count} consumed";
        }

        /// <summary>SIGTERM: kcat closes its consumer (final commit, LeaveGroup) and exits.</summary>
        public void Stop()
        {
            Signals.Send(_process.Id, Signals.SIGTERM);
            bool exited = _process.WaitForExit(20_000);
            if (!exited) _process.Kill();
            Assert.True(exited, $"kcat did not exit within 20 s of SIGTERM\n{Describe()}");
            _output.WriteLine($"[{DateTime.Now:HH:mm:ss.fff}] kcat pid {_process.Id} exited with {_process.ExitCode}");
            Assert.True(_process.ExitCode == 0, $"kcat exited with code {_process.ExitCode}\n{Describe()}");
        }

        public string Describe()
        {
            string err = GroupMemberLog.CompleteLines(_err).TakeLast(30).Aggregate("", (acc, l) => acc + l + "\n");
            return $"--- kcat pid {_process.Id} ({(_process.HasExited ? $"exited {_process.ExitCode}" : "running")}), {Consumed().Count} messages, stderr tail:\n{err}";
        }

        [GeneratedRegex(@"\[(\d+)\]")]
        private static partial Regex PartitionRegex();

        public void Dispose()
        {
            if (!_process.HasExited)
            {
                try { _process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
                _process.WaitForExit(10_000);
            }
            _process.Dispose();
        }
    }
}

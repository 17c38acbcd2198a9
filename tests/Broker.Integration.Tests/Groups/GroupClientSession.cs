using System.Diagnostics;
using System.Text.Json;
using Broker.Integration.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace Broker.Integration.Tests.Groups;

/// <summary>The real clients a group member can be.</summary>
public enum GroupClientKind
{
    Confluent,
    KafkaPython,
    KafkaJs,
}

/// <summary>A running group member: its process and its event file.</summary>
public sealed record GroupMemberProcess(string Name, GroupClientKind Kind, RunningScript Process, string EventsPath)
{
    public GroupMemberLog Read() => GroupMemberLog.Read(Name, EventsPath);
}

/// <summary>
/// The consumer-group members and producers of one test against one bootstrap list: starts real client processes
/// (tests/clients/python/group_consumer.py with confluent-kafka or kafka-python, tests/clients/node/group_consumer.js
/// with kafkajs, tests/clients/python/group_produce.py, group_tool.py), reads their event files, waits for
/// conditions with deadlines, stops (SIGTERM) or kills (SIGKILL) members. Dispose kills whatever still runs.
/// </summary>
public sealed class GroupClientSession : IDisposable
{
    public static readonly TimeSpan ScriptTimeout = TimeSpan.FromSeconds(90);

    private readonly ITestOutputHelper _output;
    private readonly string _dir;
    private readonly List<RunningScript> _background = new();
    private int _seq;

    public GroupClientSession(ITestOutputHelper output, string scratchDir, string bootstrap, string group, string topic)
    {
        _output = output;
        _dir = scratchDir;
        Bootstrap = bootstrap;
        Group = group;
        Topic = topic;
    }

    public string Bootstrap { get; set; }
    public string Group { get; }
    public string Topic { get; }
    public List<GroupMemberProcess> Members { get; } = new();

    /// <summary>Also added to every member's command line (e.g. --commit-interval-ms 500).</summary>
    public List<string> MemberArgs { get; } = new() { "--commit-interval-ms", "500", "--session-timeout-ms", "6000", "--heartbeat-ms", "1000" };

    public static string PythonDir => Path.Combine(TestPaths.ClientsDir, "python");
    public static string NodeDir => Path.Combine(TestPaths.ClientsDir, "node");

    public static string ClientName(GroupClientKind kind) => kind switch
    {
        GroupClientKind.Confluent => "confluent",
        GroupClientKind.KafkaPython => "kafka-python",
        _ => "kafkajs",
    };

    /// <summary>Starts a member in the background (runs until stopped or killed).</summary>
    public GroupMemberProcess StartMember(GroupClientKind kind, string? name = null, params string[] extra)
    {
        name ??= $"{ClientName(kind)}-{++_seq}";
        string events = Path.Combine(_dir, $"{Group}.{name}.events");
        var process = StartScript(kind, MemberCommand(kind, name, events, extra));
        var member = new GroupMemberProcess(name, kind, process, events);
        Members.Add(member);
        Log($"started member {name} ({ClientName(kind)}), pid {process.Pid}");
        return member;
    }

    /// <summary>Runs a member to its own end (--max-messages / --idle-exit) with a hard timeout.</summary>
    public (GroupMemberLog Log, ScriptResult Result) RunMember(GroupClientKind kind, string name, params string[] extra)
    {
        string events = Path.Combine(_dir, $"{Group}.{name}.events");
        using var process = StartScript(kind, MemberCommand(kind, name, events, extra));
        var result = LogResult(process.WaitForExit(ScriptTimeout));
        return (GroupMemberLog.Read(name, events), result);
    }

    private List<string> MemberCommand(GroupClientKind kind, string name, string events, string[] extra)
    {
        var args = new List<string>();
        if (kind == GroupClientKind.KafkaJs) args.Add(Path.Combine(NodeDir, "group_consumer.js"));
        else args.AddRange(new[] { Path.Combine(PythonDir, "group_consumer.py"), "--client", ClientName(kind) });
        args.AddRange(new[] { "--bootstrap", Bootstrap, "--group", Group, "--topic", Topic, "--events", events, "--name", name });
        args.AddRange(MemberArgs);
        args.AddRange(extra);
        return args;
    }

    private static RunningScript StartScript(GroupClientKind kind, List<string> args)
    {
        if (kind != GroupClientKind.KafkaJs) return ScriptRunner.Start(TestPaths.Python, args);
        Assert.True(Directory.Exists(Path.Combine(NodeDir, "node_modules", "kafkajs")),
            "kafkajs is not installed: run 'npm ci' in tests/clients/node (tests/run-all.sh does)");
        return ScriptRunner.Start("node", args);
    }

    public List<GroupMemberLog> Logs(IEnumerable<GroupMemberProcess>? which = null) => (which ?? Members).Select(m => m.Read()).ToList();

    /// <summary>SIGTERM (commit, LeaveGroup, close) and wait; asserts a clean exit with an ok summary.</summary>
    public ScriptResult Stop(GroupMemberProcess member, string context = "")
    {
        member.Process.Signal(Signals.SIGTERM);
        var result = LogResult(member.Process.WaitForExit(TimeSpan.FromSeconds(30)));
        bool ok = result.Succeeded && result.Summary is { } s && s.TryGetProperty("ok", out var okProp) && okProp.ValueKind == JsonValueKind.True;
        Assert.True(ok, $"member {member.Name} did not stop cleanly{context}\n{result.Describe()}");
        return result;
    }

    /// <summary>SIGKILL (no commit, no LeaveGroup); returns the wall-clock time of the kill (ms since the epoch).</summary>
    public long Kill(GroupMemberProcess member)
    {
        KilledMembers.Add(member.Name);
        long at = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        member.Process.KillTree();
        member.Process.WaitForExit(TimeSpan.FromSeconds(10));
        Log($"member {member.Name} killed with SIGKILL");
        return at;
    }

    /// <summary>group_produce.py: <paramref name="count"/> keyed messages with ids from <paramref name="firstId"/>, as fast as possible; asserts all acknowledged.</summary>
    public List<ProducedMessage> Produce(string ackedFile, int count, int firstId, string context = "")
    {
        var result = LogResult(ScriptRunner.Python(Path.Combine(PythonDir, "group_produce.py"), new[]
        {
            "--bootstrap", Bootstrap, "--topic", Topic, "--acked-file", ackedFile, "--count", count.ToString(),
            "--first-id", firstId.ToString(), "--timeout", "30",
        }, ScriptTimeout));
        AssertOk(result, $"producing {count} messages{context}");
        var acked = ProducedMessage.ReadAcked(ackedFile).Where(a => a.Id >= firstId && a.Id < firstId + count).ToList();
        Assert.True(acked.Count == count, $"{acked.Count} of {count} messages acknowledged in {ackedFile}{context}");
        return acked;
    }

    /// <summary>group_produce.py at <paramref name="rate"/> messages/s in the background until SIGTERM.</summary>
    public RunningScript StartProducer(string ackedFile, int firstId, double rate, double maxSeconds = 120)
    {
        var p = ScriptRunner.Start(TestPaths.Python, new[]
        {
            Path.Combine(PythonDir, "group_produce.py"), "--bootstrap", Bootstrap, "--topic", Topic, "--acked-file", ackedFile,
            "--first-id", firstId.ToString(), "--rate", rate.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--duration", maxSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture), "--timeout", "30",
        });
        _background.Add(p);
        Log($"started background producer at {rate} msg/s from id {firstId}, pid {p.Pid}");
        return p;
    }

    public ScriptResult StopProducer(RunningScript producer)
    {
        producer.Signal(Signals.SIGTERM);
        var result = LogResult(producer.WaitForExit(TimeSpan.FromSeconds(45)));
        AssertOk(result, "background producer");
        return result;
    }

    /// <summary>group_tool.py describe: coordinator id, state, protocol, members (retried until it answers).</summary>
    public JsonElement Describe(string context = "")
    {
        var result = LogResult(ScriptRunner.Python(Path.Combine(PythonDir, "group_tool.py"),
            new[] { "describe", "--bootstrap", Bootstrap, "--group", Group, "--timeout", "30" }, ScriptTimeout));
        return AssertOk(result, $"describing group {Group}{context}");
    }

    /// <summary>group_tool.py committed: partition → committed offset (negative: none).</summary>
    public Dictionary<int, long> Committed(string context = "")
    {
        var result = LogResult(ScriptRunner.Python(Path.Combine(PythonDir, "group_tool.py"),
            new[] { "committed", "--bootstrap", Bootstrap, "--group", Group, "--topic", Topic, "--timeout", "30" }, ScriptTimeout));
        var summary = AssertOk(result, $"fetching committed offsets of {Group}{context}");
        var offsets = new Dictionary<int, long>();
        foreach (var p in summary.GetProperty("offsets").EnumerateObject()) offsets[int.Parse(p.Name)] = p.Value.GetInt64();
        return offsets;
    }

    /// <summary>Polls <paramref name="problem"/> (null = condition met) every 100 ms until <paramref name="timeout"/>;
    /// returns the elapsed time or fails with the last problem, the members' state and <paramref name="context"/>.</summary>
    public TimeSpan WaitUntil(string what, Func<string?> problem, TimeSpan timeout, Func<string>? context = null)
    {
        var sw = Stopwatch.StartNew();
        string? last;
        while (true)
        {
            last = problem();
            if (last is null)
            {
                Log($"{what}: after {sw.ElapsedMilliseconds} ms");
                return sw.Elapsed;
            }
            var dead = Members.FirstOrDefault(m => m.Process.HasExited && m.Read().StopMs is null && !KilledMembers.Contains(m.Name));
            if (sw.Elapsed > timeout || dead is not null) break;
            Thread.Sleep(100);
        }
        Assert.Fail($"{what}: not reached within {timeout.TotalSeconds:F0} s: {last}\n{Describe(context)}");
        return sw.Elapsed;
    }

    /// <summary>Names of members the test killed on purpose (their exit is expected).</summary>
    public HashSet<string> KilledMembers { get; } = new();

    private string Describe(Func<string>? context)
    {
        var sb = new System.Text.StringBuilder("--- members ---\n");
        foreach (var m in Members)
        {
            sb.Append(m.Read()).Append(m.Process.HasExited ? " [process exited]" : "").Append('\n');
            if (m.Process.HasExited && !KilledMembers.Contains(m.Name))
                sb.Append(m.Process.WaitForExit(TimeSpan.FromSeconds(5)).Describe(3000)).Append('\n');
        }
        if (context is not null) sb.Append(context());
        return sb.ToString();
    }

    public static JsonElement AssertOk(ScriptResult result, string what)
    {
        var summary = result.Summary;
        bool ok = result.Succeeded && summary is { } s && s.TryGetProperty("ok", out var okProp) && okProp.ValueKind == JsonValueKind.True;
        Assert.True(ok, $"{what} failed.\n{result.Describe()}");
        return summary!.Value;
    }

    /// <summary>The __consumer_offsets partition of a group: abs(Java String.hashCode) % partitions, as Kafka places it.</summary>
    public static int OffsetsPartitionFor(string groupId, int partitions)
    {
        int h = 0;
        foreach (char c in groupId) h = unchecked(31 * h + c);
        int abs = h == int.MinValue ? 0 : Math.Abs(h);
        return abs % partitions;
    }

    public ScriptResult LogResult(ScriptResult result)
    {
        Log($"$ {result.CommandLine}\n  -> exit {result.ExitCode}{(result.TimedOut ? " (TIMED OUT)" : "")} in {result.Elapsed.TotalSeconds:F1} s\n  stdout: {ScriptResult.Tail(result.Stdout.Trim(), 2000)}");
        if (!result.Succeeded) Log("  stderr: " + ScriptResult.Tail(result.Stderr, 3000));
        return result;
    }

    public void Log(string message)
    {
        try { _output.WriteLine($"[{DateTime.Now:HH:mm:ss.fff}] {message}"); } catch (InvalidOperationException) { }
    }

    public void Dispose()
    {
        foreach (var m in Members) m.Process.Dispose();
        foreach (var p in _background) p.Dispose();
    }
}

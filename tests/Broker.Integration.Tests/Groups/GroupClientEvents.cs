using System.Globalization;

namespace Broker.Integration.Tests.Groups;

/// <summary>One processed message as a group member reported it.</summary>
public readonly record struct ConsumedMessage(long TimeMs, int Partition, long Offset, long Id);

/// <summary>An assignment a member received (the whole set: the clients here use the eager protocol).</summary>
public sealed record MemberAssignment(long TimeMs, int[] Partitions)
{
    public override string ToString() => Partitions.Length == 0 ? "-" : string.Join(',', Partitions);
}

/// <summary>A commit the coordinator acknowledged: partition → next offset to read.</summary>
public sealed record MemberCommit(long TimeMs, IReadOnlyDictionary<int, long> Offsets);

/// <summary>
/// The event file of one group member (tests/clients/python/group_consumer.py, tests/clients/node/group_consumer.js):
/// START / SUBSCRIBE / ASSIGN / REVOKE / M / COMMIT / COMMITFAIL / COORD / ERROR / STOP lines, read while the
/// member may still be writing (complete lines only). Keeps the events in file order for the duplicate analysis.
/// </summary>
public sealed class GroupMemberLog
{
    private GroupMemberLog(string name) => Name = name;

    public string Name { get; }
    public string? Client { get; private set; }
    public long? SubscribeMs { get; private set; }
    public long? StopMs { get; private set; }
    public List<ConsumedMessage> Messages { get; } = new();
    public List<MemberAssignment> Assignments { get; } = new();
    public List<MemberCommit> Commits { get; } = new();
    public List<(long TimeMs, string Error)> CommitFailures { get; } = new();
    public List<(long TimeMs, int NodeId)> Coordinators { get; } = new();
    public List<string> Errors { get; } = new();

    /// <summary>Every event in file order: 'M' (message), 'A' (assignment), 'C' (commit), 'R' (revoke) with its index.</summary>
    internal List<(char Kind, int Index)> Order { get; } = new();
    internal List<int[]> Revokes { get; } = new();

    public MemberAssignment? LatestAssignment => Assignments.Count == 0 ? null : Assignments[^1];

    /// <summary>Highest committed next-offset per partition over all of this member's commits.</summary>
    public Dictionary<int, long> MaxCommitted()
    {
        var result = new Dictionary<int, long>();
        foreach (var c in Commits)
        {
            foreach (var (p, o) in c.Offsets)
                result[p] = Math.Max(o, result.GetValueOrDefault(p, long.MinValue));
        }
        return result;
    }

    public static GroupMemberLog Read(string name, string path)
    {
        var log = new GroupMemberLog(name);
        foreach (string line in CompleteLines(path))
        {
            string[] f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (f.Length < 2) continue;
            try
            {
                log.Add(f);
            }
            catch (FormatException)
            {
                log.Errors.Add($"unparsable event line: {line}");
            }
        }
        return log;
    }

    private void Add(string[] f)
    {
        long t = L(f[1]);
        switch (f[0])
        {
            case "M" when f.Length >= 5:
                Order.Add(('M', Messages.Count));
                Messages.Add(new ConsumedMessage(t, (int)L(f[2]), L(f[3]), L(f[4])));
                break;
            case "ASSIGN" when f.Length >= 3:
                Order.Add(('A', Assignments.Count));
                Assignments.Add(new MemberAssignment(t, Partitions(f[2])));
                break;
            case "REVOKE" when f.Length >= 3:
                Order.Add(('R', Revokes.Count));
                Revokes.Add(Partitions(f[2]));
                break;
            case "COMMIT" when f.Length >= 3:
                var offsets = new Dictionary<int, long>();
                foreach (string entry in f[2].Split(',', StringSplitOptions.RemoveEmptyEntries))
                {
                    int colon = entry.IndexOf(':');
                    if (colon > 0) offsets[(int)L(entry[..colon])] = L(entry[(colon + 1)..]);
                }
                Order.Add(('C', Commits.Count));
                Commits.Add(new MemberCommit(t, offsets));
                break;
            case "COMMITFAIL":
                CommitFailures.Add((t, string.Join(' ', f.Skip(2))));
                break;
            case "COORD" when f.Length >= 3:
                Coordinators.Add((t, (int)L(f[2])));
                break;
            case "START" when f.Length >= 3:
                Client = f[2];
                break;
            case "SUBSCRIBE":
                SubscribeMs = t;
                break;
            case "STOP":
                StopMs = t;
                break;
            case "ERROR":
                Errors.Add(string.Join(' ', f.Skip(2)));
                break;
        }
    }

    private static int[] Partitions(string text) =>
        text == "-" ? Array.Empty<int>() : text.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(s => (int)L(s)).Order().ToArray();

    private static long L(string s) => long.Parse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);

    /// <summary>The complete lines of a file another process may be appending to ("" when it does not exist yet).</summary>
    internal static IEnumerable<string> CompleteLines(string path)
    {
        if (!File.Exists(path)) return Array.Empty<string>();
        string all;
        try
        {
            using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var reader = new StreamReader(fs);
            all = reader.ReadToEnd();
        }
        catch (IOException)
        {
            return Array.Empty<string>();
        }
        int end = all.LastIndexOf('\n');
        return end < 0 ? Array.Empty<string>() : all[..end].Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.Length > 0).ToArray();
    }

    public override string ToString() =>
        $"{Name} ({Client}): {Messages.Count} msgs, assignments [{string.Join(" | ", Assignments.Select(a => a.ToString()))}], " +
        $"{Commits.Count} commits, {CommitFailures.Count} failed commits{(CommitFailures.Count > 0 ? $" (first: {CommitFailures[0].Error})" : "")}" +
        $"{(Errors.Count > 0 ? $", errors: {string.Join("; ", Errors.Take(3))}" : "")}{(StopMs is null ? "" : ", stopped")}";
}

/// <summary>One acknowledged produced message: id, partition, offset (from a producer's acked file
/// "&lt;id&gt; &lt;ms&gt; &lt;partition&gt; &lt;offset&gt;").</summary>
public readonly record struct ProducedMessage(long Id, long TimeMs, int Partition, long Offset)
{
    public static List<ProducedMessage> ReadAcked(string path)
    {
        var result = new List<ProducedMessage>();
        foreach (string line in GroupMemberLog.CompleteLines(path))
        {
            string[] f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (f.Length == 4 && long.TryParse(f[0], NumberStyles.None, CultureInfo.InvariantCulture, out long id)
                && long.TryParse(f[1], NumberStyles.None, CultureInfo.InvariantCulture, out long t)
                && int.TryParse(f[2], NumberStyles.None, CultureInfo.InvariantCulture, out int p)
                && long.TryParse(f[3], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long o))
                result.Add(new ProducedMessage(id, t, p, o));
        }
        return result;
    }
}

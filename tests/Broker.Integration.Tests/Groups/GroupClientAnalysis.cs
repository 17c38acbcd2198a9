using System.Text;

namespace Broker.Integration.Tests.Groups;

/// <summary>
/// Judges what the members of one consumer group consumed against what was acknowledged to the producers:
/// every acknowledged id must have been consumed at least once (no loss), and a message (partition, offset) may be
/// delivered more than once only if it lies in a "redelivery window" of a member that lost the partition: from
/// that member's last acknowledged commit for the partition (or its first consumed offset when it never committed)
/// up to the last offset it consumed before the loss (revocation, a new assignment, kill -9 or stop). A
/// duplicate outside every window means a committed offset was not honoured, i.e. a lost or stale commit.
/// </summary>
public sealed class GroupClientAnalysis
{
    public required int Acked { get; init; }
    public required int Deliveries { get; init; }
    public required int DistinctMessages { get; init; }
    public required List<long> Missing { get; init; }
    /// <summary>Deliveries beyond the first of the same (partition, offset).</summary>
    public required int Duplicates { get; init; }
    /// <summary>Sum of the redelivery-window sizes: the most duplicates at-least-once delivery allows here.</summary>
    public required long DuplicateBound { get; init; }
    public required List<string> Unexplained { get; init; }

    public bool Ok => Missing.Count == 0 && Unexplained.Count == 0;

    public static GroupClientAnalysis Analyze(IReadOnlyCollection<ProducedMessage> acked, IReadOnlyList<GroupMemberLog> members)
    {
        var windows = new Dictionary<int, List<(long From, long To, string Member)>>();
        foreach (var m in members) CollectWindows(m, windows);

        var deliveries = new Dictionary<(int, long), int>();
        var consumedIds = new HashSet<long>();
        int total = 0;
        foreach (var m in members)
        {
            foreach (var msg in m.Messages)
            {
                total++;
                consumedIds.Add(msg.Id);
                deliveries[(msg.Partition, msg.Offset)] = deliveries.GetValueOrDefault((msg.Partition, msg.Offset)) + 1;
            }
        }
        var missing = acked.Select(a => a.Id).Where(id => !consumedIds.Contains(id)).Distinct().Order().ToList();
        var unexplained = new List<string>();
        int duplicates = 0;
        foreach (var ((p, o), count) in deliveries.OrderBy(kv => kv.Key))
        {
            if (count <= 1) continue;
            duplicates += count - 1;
            bool covered = windows.TryGetValue(p, out var ws) && ws.Any(w => w.From <= o && o < w.To);
            if (!covered && unexplained.Count < 20)
            {
                string who = string.Join(", ", members.Where(m => m.Messages.Any(x => x.Partition == p && x.Offset == o)).Select(m => m.Name));
                string near = ws is null ? "none" : string.Join("; ", ws.Select(w => $"[{w.From},{w.To}) by {w.Member}"));
                unexplained.Add($"p{p} offset {o} delivered {count}x (to {who}) outside every redelivery window of p{p} ({near})");
            }
        }
        long bound = windows.Values.SelectMany(w => w).Sum(w => w.To - w.From);
        return new GroupClientAnalysis
        {
            Acked = acked.Select(a => a.Id).Distinct().Count(), Deliveries = total, DistinctMessages = deliveries.Count,
            Missing = missing, Duplicates = duplicates, DuplicateBound = bound, Unexplained = unexplained,
        };
    }

    /// <summary>Walks one member's events in file order and records, per partition it stops owning, the offsets
    /// it consumed after its last acknowledged commit.</summary>
    private static void CollectWindows(GroupMemberLog m, Dictionary<int, List<(long, long, string)>> windows)
    {
        var first = new Dictionary<int, long>();
        var max = new Dictionary<int, long>();
        var committed = new Dictionary<int, long>();

        void Close(int p)
        {
            if (max.TryGetValue(p, out long last))
            {
                long from = committed.TryGetValue(p, out long c) ? c : first[p];
                if (last + 1 > from)
                {
                    if (!windows.TryGetValue(p, out var list)) windows[p] = list = new();
                    list.Add((from, last + 1, m.Name));
                }
            }
            first.Remove(p);
            max.Remove(p);
            committed.Remove(p);
        }

        void CloseAll()
        {
            foreach (int p in first.Keys.Concat(committed.Keys).Distinct().ToList()) Close(p);
        }

        foreach (var (kind, index) in m.Order)
        {
            switch (kind)
            {
                case 'M':
                    var msg = m.Messages[index];
                    if (!first.ContainsKey(msg.Partition)) first[msg.Partition] = msg.Offset;
                    max[msg.Partition] = Math.Max(msg.Offset, max.GetValueOrDefault(msg.Partition, long.MinValue));
                    break;
                case 'C':
                    foreach (var (p, o) in m.Commits[index].Offsets) committed[p] = o;
                    break;
                case 'R':
                    foreach (int p in m.Revokes[index]) Close(p);
                    break;
                case 'A':
                    CloseAll();
                    break;
            }
        }
        CloseAll(); // killed, stopped or still running: whatever it did not commit may be delivered again
    }

    /// <summary>
    /// Null when every member's latest assignment is newer than <paramref name="afterMs"/>, each holds exactly
    /// <paramref name="each"/> partitions, no two overlap and together they cover 0..<paramref name="partitions"/>-1;
    /// else what is not so yet.
    /// </summary>
    public static string? SplitProblem(IReadOnlyList<GroupMemberLog> members, int partitions, int each, long afterMs)
    {
        var seen = new Dictionary<int, string>();
        foreach (var m in members)
        {
            var a = m.LatestAssignment;
            if (a is null) return $"{m.Name} has no assignment yet";
            if (a.TimeMs < afterMs) return $"{m.Name}'s latest assignment [{a}] is older than the event waited for";
            if (a.Partitions.Length != each) return $"{m.Name} holds [{a}], expected {each} partitions";
            foreach (int p in a.Partitions)
            {
                if (seen.TryGetValue(p, out string? other)) return $"partition {p} assigned to both {other} and {m.Name}";
                seen[p] = m.Name;
            }
        }
        if (seen.Count != partitions) return $"only partitions [{string.Join(',', seen.Keys.Order())}] of {partitions} assigned";
        return null;
    }

    /// <summary>Time the last member of <paramref name="members"/> got its latest assignment.</summary>
    public static long LastAssignmentMs(IEnumerable<GroupMemberLog> members) => members.Max(m => m.LatestAssignment?.TimeMs ?? 0);

    public override string ToString()
    {
        var sb = new StringBuilder();
        sb.Append($"acked {Acked} ids; {Deliveries} deliveries of {DistinctMessages} distinct messages; missing {Missing.Count}");
        if (Missing.Count > 0) sb.Append(" (e.g. ").Append(string.Join(',', Missing.Take(15))).Append(')');
        sb.Append($"; duplicates {Duplicates} (at-least-once bound {DuplicateBound}); unexplained duplicates {Unexplained.Count}");
        if (Unexplained.Count > 0) sb.Append(": ").Append(string.Join(" | ", Unexplained.Take(5)));
        return sb.ToString();
    }
}

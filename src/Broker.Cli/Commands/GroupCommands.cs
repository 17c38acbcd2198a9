using Broker.Cli.Arguments;
using Broker.Cli.Output;
using Broker.Client;
using Broker.Core.Model;

namespace Broker.Cli.Commands;

/// <summary><c>group list|describe|delete</c>: consumer groups through the Kafka group APIs.</summary>
internal static class GroupCommands
{
    public static readonly CommandDef List = new()
    {
        Path = "group list",
        Summary = "List consumer groups.",
        Synopsis = "[options]",
        Description = "Output: a table GROUP STATE PROTOCOL-TYPE, sorted by group id.",
        CommonOptions = CommonOptions.KafkaSpecs,
        Run = RunListAsync,
    };

    public static readonly CommandDef Describe = new()
    {
        Path = "group describe",
        Summary = "Show a group's state, members and assignments, committed offsets and lag.",
        Synopsis = "GROUP [GROUP...] [options]",
        Description = "Per partition the group has committed or been assigned: CURRENT-OFFSET (committed, '-' if\n" +
                      "none), LOG-END-OFFSET, LAG (log end - committed) and the member it is assigned to.\n" +
                      "A group that does not exist is reported on stderr (exit status 1).",
        CommonOptions = CommonOptions.KafkaSpecs,
        MinPositional = 1,
        MaxPositional = int.MaxValue,
        PositionalName = "group id",
        Run = RunDescribeAsync,
    };

    public static readonly CommandDef Delete = new()
    {
        Path = "group delete",
        Summary = "Delete consumer groups (their committed offsets); a group with members cannot be deleted.",
        Synopsis = "GROUP [GROUP...] [options]",
        Description = "Prints 'deleted group GROUP' for each group deleted.",
        CommonOptions = CommonOptions.KafkaSpecs,
        MinPositional = 1,
        MaxPositional = int.MaxValue,
        PositionalName = "group id",
        Run = RunDeleteAsync,
    };

    private static async Task<int> RunListAsync(ParsedArgs a, ToolContext ctx)
    {
        ctx.UseCommon(a);
        await using var client = ctx.CreateClient();
        var groups = await ctx.Bounded(ct => client.ListGroupsAsync(ct)).ConfigureAwait(false);
        ctx.Out.Write(RenderList(groups));
        return BrokerTool.ExitOk;
    }

    internal static string RenderList(IReadOnlyList<GroupListing> groups)
    {
        var sorted = new List<GroupListing>(groups);
        sorted.Sort((x, y) => string.CompareOrdinal(x.GroupId, y.GroupId));
        var table = new TextTable("GROUP", "STATE", "PROTOCOL-TYPE");
        foreach (var g in sorted)
            table.Add(g.GroupId, Dash(g.State), Dash(g.ProtocolType));
        return table.Render();
    }

    private static void CheckGroupIds(ParsedArgs a)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (string g in a.Positionals)
        {
            if (g.Trim().Length == 0) throw a.Error("a group id must not be empty");
            if (!seen.Add(g)) throw a.Error($"group {g} named more than once");
        }
    }

    /// <summary>One row of the offsets table.</summary>
    internal sealed record PartitionLag(string Topic, int Partition, long Committed, long LogEnd, string? MemberId);

    private static async Task<int> RunDescribeAsync(ParsedArgs a, ToolContext ctx)
    {
        CheckGroupIds(a);
        var groups = a.Positionals.ToArray();
        ctx.UseCommon(a);
        await using var client = ctx.CreateClient();
        var descriptions = await ctx.Bounded(ct => client.DescribeGroupsAsync(groups, ct)).ConfigureAwait(false);
        int failed = 0;
        bool first = true;
        foreach (string id in groups)
        {
            GroupDescription? d = null;
            foreach (var x in descriptions)
                if (x.GroupId == id) d = x;
            if (d is null || d.Error != ErrorCode.None)
            {
                failed++;
                ctx.Err.WriteLine(Formats.ErrorLine(d?.Error ?? ErrorCode.GroupIdNotFound, null,
                    d is null || d.Error == ErrorCode.GroupIdNotFound ? $"Group '{id}' does not exist." : null));
                continue;
            }
            var committed = await ctx.Bounded(ct => client.FetchCommittedOffsetsAsync(id, null, ct)).ConfigureAwait(false);
            bool exists = d.State is not ("Dead" or "") || d.Members.Count > 0 || HasCommitted(committed);
            if (!exists)
            {
                failed++;
                ctx.Err.WriteLine(Formats.ErrorLine(ErrorCode.GroupIdNotFound, null, $"Group '{id}' does not exist."));
                continue;
            }
            int coordinator = await ctx.Bounded(ct => client.FindGroupCoordinatorAsync(id, ct)).ConfigureAwait(false);
            var rows = await ctx.Bounded(ct => LagRowsAsync(client, d, committed, ctx.Err, ct)).ConfigureAwait(false);
            if (!first) ctx.Out.Write("---\n");
            first = false;
            ctx.Out.Write(RenderDescription(d, coordinator, rows));
        }
        return failed == 0 ? BrokerTool.ExitOk : BrokerTool.ExitFailed;
    }

    private static bool HasCommitted(IReadOnlyList<CommittedOffset> committed)
    {
        foreach (var c in committed)
            if (c.Error == ErrorCode.None && c.Offset >= 0) return true;
        return false;
    }

    /// <summary>Rows for every partition committed or assigned, with the log end offset from ListOffsets.</summary>
    private static async Task<List<PartitionLag>> LagRowsAsync(KafkaClient client, GroupDescription d,
        IReadOnlyList<CommittedOffset> committed, TextWriter err, CancellationToken ct)
    {
        var byPartition = new SortedDictionary<(string, int), (long Committed, string? Member)>(PartitionOrder.Instance);
        foreach (var c in committed)
            if (c.Error == ErrorCode.None && c.Offset >= 0) byPartition[(c.Topic, c.Partition)] = (c.Offset, null);
        foreach (var m in d.Members)
            foreach (var tp in m.Assignment)
                byPartition[(tp.Topic, tp.Partition)] = (byPartition.TryGetValue((tp.Topic, tp.Partition), out var cur) ? cur.Committed : -1, m.MemberId);

        var keys = new List<(string Topic, int Partition)>(byPartition.Keys);
        var ends = new Task<long>[keys.Count];
        for (int i = 0; i < keys.Count; i++) ends[i] = LogEndAsync(client, keys[i].Topic, keys[i].Partition, err, ct);
        await Task.WhenAll(ends).ConfigureAwait(false);
        var rows = new List<PartitionLag>(keys.Count);
        for (int i = 0; i < keys.Count; i++)
        {
            var (c, member) = byPartition[keys[i]];
            rows.Add(new PartitionLag(keys[i].Topic, keys[i].Partition, c, ends[i].Result, member));
        }
        return rows;
    }

    private static async Task<long> LogEndAsync(KafkaClient client, string topic, int partition, TextWriter err, CancellationToken ct)
    {
        try
        {
            return await client.ListOffsetAsync(topic, partition, -1, ct).ConfigureAwait(false);
        }
        catch (KafkaException ex)
        {
            lock (err) err.WriteLine($"warning: log end offset of {topic}-{partition}: {Formats.ErrorName(ex.Error)}: {ex.Message}");
            return -1;
        }
    }

    /// <summary>The text of one group (pure; unit-tested).</summary>
    internal static string RenderDescription(GroupDescription d, int coordinator, IReadOnlyList<PartitionLag> rows)
    {
        var w = new StringWriter { NewLine = "\n" };
        long totalLag = 0;
        bool anyLag = false;
        foreach (var r in rows)
        {
            if (r.Committed >= 0 && r.LogEnd >= 0)
            {
                totalLag += Math.Max(0, r.LogEnd - r.Committed);
                anyLag = true;
            }
        }
        new KeyValueBlock()
            .Add("GROUP", d.GroupId)
            .Add("COORDINATOR", coordinator < 0 ? "-" : Formats.Int(coordinator))
            .Add("STATE", Dash(d.State))
            .Add("PROTOCOL-TYPE", Dash(d.ProtocolType))
            .Add("PROTOCOL", Dash(d.Protocol))
            .Add("MEMBERS", Formats.Int(d.Members.Count))
            .Add("TOTAL-LAG", anyLag ? Formats.Int(totalLag) : "-")
            .WriteTo(w);

        if (d.Members.Count > 0)
        {
            w.Write('\n');
            var members = new List<GroupMemberDescription>(d.Members);
            members.Sort((x, y) => string.CompareOrdinal(x.MemberId, y.MemberId));
            var table = new TextTable("MEMBER-ID", "INSTANCE-ID", "CLIENT-ID", "HOST", "ASSIGNMENT");
            foreach (var m in members)
                table.Add(m.MemberId, Dash(m.GroupInstanceId), Dash(m.ClientId), Dash(m.ClientHost), AssignmentText(m.Assignment));
            table.WriteTo(w);
        }
        if (rows.Count > 0)
        {
            w.Write('\n');
            var table = new TextTable("TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG", "MEMBER-ID");
            foreach (var r in rows)
            {
                string lag = r.Committed >= 0 && r.LogEnd >= 0 ? Formats.Int(Math.Max(0, r.LogEnd - r.Committed)) : "-";
                table.Add(r.Topic, Formats.Int(r.Partition), r.Committed < 0 ? "-" : Formats.Int(r.Committed),
                    r.LogEnd < 0 ? "-" : Formats.Int(r.LogEnd), lag, Dash(r.MemberId));
            }
            table.WriteTo(w);
        }
        return w.ToString();
    }

    /// <summary>"orders:0,1,2 payments:3" (topics sorted, partitions ascending); "-" when nothing is assigned.</summary>
    internal static string AssignmentText(IReadOnlyList<TopicPartition> assignment)
    {
        if (assignment.Count == 0) return "-";
        var byTopic = new SortedDictionary<string, List<int>>(StringComparer.Ordinal);
        foreach (var tp in assignment)
        {
            if (!byTopic.TryGetValue(tp.Topic, out var list)) byTopic[tp.Topic] = list = new List<int>();
            list.Add(tp.Partition);
        }
        var parts = new List<string>(byTopic.Count);
        foreach (var (topic, list) in byTopic)
        {
            list.Sort();
            parts.Add($"{topic}:{string.Join(',', list)}");
        }
        return string.Join(' ', parts);
    }

    private static async Task<int> RunDeleteAsync(ParsedArgs a, ToolContext ctx)
    {
        CheckGroupIds(a);
        var groups = a.Positionals.ToArray();
        ctx.UseCommon(a);
        await using var client = ctx.CreateClient();
        var results = await ctx.Bounded(ct => client.DeleteGroupsAsync(groups, ct)).ConfigureAwait(false);
        int failed = 0;
        foreach (string id in groups)
        {
            ErrorCode error = ErrorCode.UnknownServerError;
            bool found = false;
            foreach (var (g, e) in results)
            {
                if (g != id) continue;
                error = e;
                found = true;
            }
            if (error == ErrorCode.None)
            {
                ctx.Out.WriteLine($"deleted group {id}");
                continue;
            }
            failed++;
            ctx.Err.WriteLine(Formats.ErrorLine(error, null, error switch
            {
                ErrorCode.GroupIdNotFound => $"Group '{id}' does not exist.",
                ErrorCode.NonEmptyGroup => $"Group '{id}' has active members; stop them first.",
                _ when !found => $"The cluster did not answer for group '{id}'.",
                _ => null,
            }));
        }
        return failed == 0 ? BrokerTool.ExitOk : BrokerTool.ExitFailed;
    }

    private static string Dash(string? s) => string.IsNullOrEmpty(s) ? "-" : s;

    private sealed class PartitionOrder : IComparer<(string, int)>
    {
        public static readonly PartitionOrder Instance = new();

        public int Compare((string, int) x, (string, int) y)
        {
            int c = string.CompareOrdinal(x.Item1, y.Item1);
            return c != 0 ? c : x.Item2.CompareTo(y.Item2);
        }
    }
}

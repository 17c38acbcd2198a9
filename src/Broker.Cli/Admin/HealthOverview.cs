using System.Text.Json;
using Broker.Cli.Output;

namespace Broker.Cli.Admin;

/// <summary>
/// The Admin API's <c>GET /v1/cluster/health_overview</c> answer (Redpanda's keys: is_healthy, unhealthy_reasons,
/// controller_id, all_nodes, nodes_down, leaderless_partitions, leaderless_count, under_replicated_partitions,
/// under_replicated_count). Missing lists read as empty; a missing or non-boolean is_healthy is an error.
/// </summary>
internal sealed record HealthOverview(bool IsHealthy, IReadOnlyList<string> UnhealthyReasons, int ControllerId,
    IReadOnlyList<int> AllNodes, IReadOnlyList<int> NodesDown, IReadOnlyList<string> LeaderlessPartitions, int LeaderlessCount,
    IReadOnlyList<string> UnderReplicatedPartitions, int UnderReplicatedCount)
{
    public const string Path = "/v1/cluster/health_overview";

    /// <summary>Reads the answer; throws <see cref="FormatException"/> saying what is wrong with it.</summary>
    public static HealthOverview Parse(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object) throw new FormatException("the health overview is not a JSON object");
        if (!root.TryGetProperty("is_healthy", out var healthy) || healthy.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
            throw new FormatException("the health overview has no boolean 'is_healthy'");
        var leaderless = Strings(root, "leaderless_partitions", sort: true);
        var under = Strings(root, "under_replicated_partitions", sort: true);
        return new HealthOverview(
            healthy.GetBoolean(),
            Strings(root, "unhealthy_reasons", sort: false),
            Int(root, "controller_id", -1),
            Ints(root, "all_nodes"),
            Ints(root, "nodes_down"),
            leaderless,
            Int(root, "leaderless_count", leaderless.Count),
            under,
            Int(root, "under_replicated_count", under.Count));
    }

    /// <summary>The aligned "KEY  value" text the <c>cluster health</c> command prints.</summary>
    public string Render()
    {
        var w = new StringWriter { NewLine = "\n" };
        new KeyValueBlock()
            .Add("HEALTHY", IsHealthy ? "true" : "false")
            .Add("UNHEALTHY-REASONS", Formats.WordList(UnhealthyReasons))
            .Add("CONTROLLER-ID", Formats.Int(ControllerId))
            .Add("ALL-NODES", Formats.IdList(AllNodes))
            .Add("NODES-DOWN", Formats.IdList(NodesDown))
            .Add("LEADERLESS-COUNT", Formats.Int(LeaderlessCount))
            .Add("LEADERLESS-PARTITIONS", Formats.WordList(LeaderlessPartitions))
            .Add("UNDER-REPLICATED-COUNT", Formats.Int(UnderReplicatedCount))
            .Add("UNDER-REPLICATED-PARTITIONS", Formats.WordList(UnderReplicatedPartitions))
            .WriteTo(w);
        return w.ToString();
    }

    private static int Int(JsonElement root, string name, int fallback) =>
        root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int i) ? i : fallback;

    private static List<int> Ints(JsonElement root, string name)
    {
        var list = new List<int>();
        if (root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Array)
            foreach (var e in v.EnumerateArray())
                if (e.ValueKind == JsonValueKind.Number && e.TryGetInt32(out int i)) list.Add(i);
        list.Sort();
        return list;
    }

    private static List<string> Strings(JsonElement root, string name, bool sort)
    {
        var list = new List<string>();
        if (root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Array)
            foreach (var e in v.EnumerateArray())
                list.Add(e.ValueKind == JsonValueKind.String ? e.GetString()! : e.GetRawText());
        if (sort) list.Sort(StringComparer.Ordinal);
        return list;
    }
}

using System.Text;

namespace Broker.Cli.Commands;

/// <summary>A verb of the tool: either one command (produce) or a family of subcommands (topic create|list|...).</summary>
internal sealed class ToolVerb
{
    public required string Name { get; init; }
    public required string Summary { get; init; }
    public CommandDef? Single { get; init; }
    public IReadOnlyList<CommandDef> Subcommands { get; init; } = Array.Empty<CommandDef>();

    public IEnumerable<string> SubcommandNames
    {
        get
        {
            foreach (var d in Subcommands) yield return d.Path.Substring(Name.Length + 1);
        }
    }

    public CommandDef? Find(string sub)
    {
        foreach (var d in Subcommands)
            if (d.Path.Length == Name.Length + 1 + sub.Length && d.Path.EndsWith(sub, StringComparison.Ordinal)) return d;
        return null;
    }

    public string Help()
    {
        if (Single is not null) return Single.Help();
        var sb = new StringBuilder();
        sb.Append("Usage: broker ").Append(Name).Append(" <command> [options]\n\n").Append(Summary).Append("\n\nCommands:\n");
        int width = 0;
        foreach (string n in SubcommandNames) width = Math.Max(width, n.Length);
        foreach (var d in Subcommands)
        {
            string n = d.Path.Substring(Name.Length + 1);
            sb.Append("  ").Append(n).Append(' ', width - n.Length + 2).Append(d.Summary).Append('\n');
        }
        sb.Append("\nRun 'broker ").Append(Name).Append(" <command> --help' for the options of a command.");
        return sb.ToString();
    }
}

/// <summary>Every verb and command of the tool.</summary>
internal static class CommandTable
{
    private static readonly ToolVerb[] s_verbs =
    [
        new ToolVerb
        {
            Name = "topic",
            Summary = "Create, list, describe, delete topics and change their configuration.",
            Subcommands = [TopicCommands.Create, TopicCommands.List, TopicDescribeCommand.Describe, TopicCommands.Delete, TopicCommands.AlterConfig],
        },
        new ToolVerb { Name = "produce", Summary = ProduceCommand.Definition.Summary, Single = ProduceCommand.Definition },
        new ToolVerb { Name = "consume", Summary = ConsumeCommand.Definition.Summary, Single = ConsumeCommand.Definition },
        new ToolVerb
        {
            Name = "group",
            Summary = "List, describe (members, committed offsets, lag) and delete consumer groups.",
            Subcommands = [GroupCommands.List, GroupCommands.Describe, GroupCommands.Delete],
        },
        new ToolVerb
        {
            Name = "cluster",
            Summary = "Cluster information (Kafka metadata) and health (Admin API).",
            Subcommands = [ClusterCommands.Info, ClusterCommands.Health],
        },
    ];

    public static IReadOnlyList<string> VerbNames { get; } = Array.ConvertAll(s_verbs, v => v.Name);

    public static ToolVerb? FindVerb(string name)
    {
        foreach (var v in s_verbs)
            if (v.Name == name) return v;
        return null;
    }

    /// <summary>Indented "name  summary" lines, aligned to the host's usage column.</summary>
    public static string VerbList()
    {
        var sb = new StringBuilder();
        foreach (var v in s_verbs)
        {
            sb.Append("  ").Append(v.Name).Append(' ', Math.Max(2, 16 - v.Name.Length)).Append(v.Summary).Append('\n');
        }
        return sb.ToString().TrimEnd('\n');
    }
}

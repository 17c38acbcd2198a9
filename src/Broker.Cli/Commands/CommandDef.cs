using System.Text;
using Broker.Cli.Arguments;

namespace Broker.Cli.Commands;

/// <summary>
/// One tool command ("topic create", "produce"...): its options, positional arguments, help text and handler.
/// The help text's option list is generated from the same specs the parser uses, so they cannot drift apart.
/// </summary>
internal sealed class CommandDef
{
    public required string Path { get; init; }
    /// <summary>One line for command lists.</summary>
    public required string Summary { get; init; }
    /// <summary>Arguments after the command path, e.g. "NAME [NAME...] [options]".</summary>
    public required string Synopsis { get; init; }
    /// <summary>Paragraphs after the synopsis (may be empty).</summary>
    public string Description { get; init; } = "";
    public IReadOnlyList<OptionSpec> Options { get; init; } = Array.Empty<OptionSpec>();
    /// <summary>Shared options shown under "Common options".</summary>
    public IReadOnlyList<OptionSpec> CommonOptions { get; init; } = Array.Empty<OptionSpec>();
    public int MinPositional { get; init; }
    public int MaxPositional { get; init; }
    public string PositionalName { get; init; } = "argument";
    public string Examples { get; init; } = "";
    public required Func<ParsedArgs, ToolContext, Task<int>> Run { get; init; }

    public IReadOnlyList<OptionSpec> AllOptions
    {
        get
        {
            var all = new List<OptionSpec>(Options.Count + CommonOptions.Count);
            all.AddRange(Options);
            all.AddRange(CommonOptions);
            return all;
        }
    }

    /// <summary>Parses the arguments after the command path; null when help was asked for.</summary>
    public ParsedArgs? Parse(IReadOnlyList<string> args, int start) =>
        ArgParser.Parse(args, start, Path, AllOptions, MinPositional, MaxPositional, PositionalName);

    public string Help()
    {
        var sb = new StringBuilder();
        sb.Append("Usage: broker ").Append(Path).Append(' ').Append(Synopsis).Append("\n\n");
        sb.Append(Summary).Append('\n');
        if (Description.Length > 0) sb.Append('\n').Append(Description.TrimEnd()).Append('\n');
        if (Options.Count > 0) AppendOptions(sb, "Options:", Options);
        var common = new List<OptionSpec>(CommonOptions) { OptionSpec.Flag("-h|--help", "Show this help.") };
        AppendOptions(sb, CommonOptions.Count > 0 ? "Common options:" : "Options:", common);
        if (Examples.Length > 0) sb.Append("\nExamples:\n").Append(Examples.TrimEnd()).Append('\n');
        return sb.ToString().TrimEnd('\n');
    }

    private static void AppendOptions(StringBuilder sb, string title, IReadOnlyList<OptionSpec> options)
    {
        sb.Append('\n').Append(title).Append('\n');
        int width = 0;
        foreach (var o in options) width = Math.Max(width, o.Synopsis.Length);
        width = Math.Min(width, 28);
        foreach (var o in options)
        {
            string syn = o.Synopsis;
            sb.Append("  ").Append(syn);
            if (syn.Length > width) sb.Append('\n').Append(' ', width + 4);
            else sb.Append(' ', width - syn.Length + 2);
            sb.Append(o.Help).Append('\n');
        }
    }
}
